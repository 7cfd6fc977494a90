"""What a visitor typed, read as a local date/time: every phrase is resolved against a fixed now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.core.when import When, combine, localize, parse_when

VANCOUVER = ZoneInfo("America/Vancouver")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=VANCOUVER)  # Monday 10:00 (18:00 UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 3, 2) + timedelta(n) for n in range(7))


def when(text: str, now: datetime = NOW, tz: ZoneInfo = VANCOUVER) -> When | None:
    return parse_when(text, now, tz)


def at(text: str, now: datetime = NOW, tz: ZoneInfo = VANCOUVER) -> datetime | None:
    found = when(text, now, tz)
    assert found is not None, text
    return combine(found, tz)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow at 3pm", datetime(2026, 3, 3, 15)),
        ("Thursday at 10am", datetime(2026, 3, 5, 10)),
        ("Wednesday 9am", datetime(2026, 3, 4, 9)),
        ("Sunday at 11am", datetime(2026, 3, 8, 11)),  # the DST day, but 11:00 exists
        ("today at 4:30pm", datetime(2026, 3, 2, 16, 30)),
        ("day after tomorrow at noon", datetime(2026, 3, 4, 12)),
        ("the day after tomorrow at 9", datetime(2026, 3, 4, 9)),
        ("tonight at 8", datetime(2026, 3, 2, 20)),
        ("this Friday at 2", datetime(2026, 3, 6, 14)),
        ("on the 5th at 10am", datetime(2026, 3, 5, 10)),
        ("March 5 at 3pm", datetime(2026, 3, 5, 15)),
        ("5 March, 15:00", datetime(2026, 3, 5, 15)),
        ("Mar 5th 10 a.m.", datetime(2026, 3, 5, 10)),
        ("2026-03-05 at 11am", datetime(2026, 3, 5, 11)),
        ("2026-03-05T15:00", datetime(2026, 3, 5, 15)),
        ("3pm tomorrow", datetime(2026, 3, 3, 15)),
        ("Thursday, March 5 at 10am", datetime(2026, 3, 5, 10)),
        ("Thursday the 5th at 2", datetime(2026, 3, 5, 14)),
        ("tomorrow? Around 3pm works", datetime(2026, 3, 3, 15)),
        ("Thursday evening at 8", datetime(2026, 3, 5, 20)),
        ("tomorrow morning at 7", datetime(2026, 3, 3, 7)),
        ("Friday at 3 in the afternoon", datetime(2026, 3, 6, 15)),
        ("tomorrow between 11 and 1pm", datetime(2026, 3, 3, 11)),
        ("2-4pm tomorrow", datetime(2026, 3, 3, 14)),
        ("tomorrow's 3 o'clock", datetime(2026, 3, 3, 15)),
    ],
)
def test_phrases_resolve_to_a_local_moment(text, expected):
    assert at(text) == expected.replace(tzinfo=VANCOUVER)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("today", MON),
        ("tomorrow", TUE),
        ("day after tomorrow", WED),
        ("Thursday", THU),
        ("thursday", THU),
        ("on Saturday", SAT),
        ("this Friday", FRI),
        ("on the 5th", THU),
        ("the 5th, please", THU),
        ("on the 1st", date(2026, 4, 1)),  # already past this month
        ("on the 31st", date(2026, 3, 31)),
        ("March 5", THU),
        ("5 March", THU),
        ("Mar 5th", THU),
        ("the 5th of March", THU),
        ("March 1", date(2027, 3, 1)),  # passed this year, so next year's
        ("March 5, 2027", date(2027, 3, 5)),
        ("Feb 29", date(2028, 2, 29)),  # the next year that has one
        ("2026-03-05", THU),
        ("5 May", date(2026, 5, 5)),
        ("may 5th", date(2026, 5, 5)),
    ],
)
def test_days(text, day):
    found = when(text)
    assert found is not None and found.day == day and found.time is None


def test_a_bare_weekday_naming_today_means_today_only_if_the_time_is_still_ahead():
    assert when("Monday at 3pm").day == MON
    assert when("Monday at 9am").day == MON + timedelta(7)  # 9:00 has passed at 10:00
    assert when("Monday afternoon").day == MON
    assert when("Monday").day == MON + timedelta(7)  # a visitor meaning today says "today"
    assert when("this Monday").day == MON


def test_next_weekday_is_the_first_one_after_today():
    assert at("next Tuesday at 3pm") == datetime(2026, 3, 3, 15, tzinfo=VANCOUVER)
    assert when("next Monday").day == MON + timedelta(7)
    assert when("coming Friday").day == FRI
    tuesday_noon = datetime(2026, 3, 3, 12, tzinfo=VANCOUVER)
    assert when("next Tuesday", now=tuesday_noon).day == date(2026, 3, 10)
    assert when("Tuesday", now=tuesday_noon).day == date(2026, 3, 10)
    assert when("Tuesday at 5pm", now=tuesday_noon).day == date(2026, 3, 3)


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("3pm", time(15)),
        ("3 pm", time(15)),
        ("3PM", time(15)),
        ("3:30pm", time(15, 30)),
        ("15:00", time(15)),
        ("10am", time(10)),
        ("10 a.m.", time(10)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("noon", time(12)),
        ("midday", time(12)),
        ("at 9", time(9)),  # 8-11 without am/pm: morning
        ("at 8", time(8)),
        ("at 11:45", time(11, 45)),
        ("at 12", time(12)),
        ("at 1", time(13)),  # 1-7 without am/pm: afternoon
        ("at 3", time(15)),
        ("at 7", time(19)),
        ("around 2:30", time(14, 30)),
        ("9:30", time(9, 30)),
        ("07:30", time(7, 30)),  # a leading zero is the 24-hour clock
        ("at 14", time(14)),
        ("3 o'clock", time(15)),
        ("at 7 in the morning", time(7)),
        ("at 8 in the evening", time(20)),
    ],
)
def test_times(text, clock):
    found = when(text)
    assert found is not None and found.time == clock and found.day is None
    assert combine(found, VANCOUVER) is None  # no day, no moment


@pytest.mark.parametrize(
    ("text", "day", "part"),
    [
        ("tomorrow morning", TUE, "morning"),
        ("in the morning", None, "morning"),
        ("afternoon", None, "afternoon"),
        ("evenings suit me", None, "evening"),
        ("Thursday afternoon", THU, "afternoon"),
        ("tonight", MON, "evening"),
        ("this afternoon", MON, "afternoon"),
        ("Friday night", FRI, "evening"),
    ],
)
def test_parts_of_day(text, day, part):
    found = when(text)
    assert (found.day, found.time, found.part_of_day) == (day, None, part)


@pytest.mark.parametrize(
    ("text", "day", "clock"),
    [
        ("mañana a las 3", TUE, time(15)),
        ("el jueves", THU, None),
        ("hoy", MON, None),
        ("pasado mañana", WED, None),
        ("el próximo martes", TUE, None),
        ("demain à 15h", TUE, time(15)),
        ("jeudi à 9h30", THU, time(9, 30)),
        ("aujourd\u2019hui", MON, None),
        ("après-demain", WED, None),
        ("mardi prochain", TUE, None),
        ("lundi prochain", MON + timedelta(7), None),
    ],
)
def test_spanish_and_french(text, day, clock):
    found = when(text)
    assert (found.day, found.time) == (day, clock)


def test_mañana_por_la_mañana_is_tomorrow_morning():
    found = when("mañana por la mañana")
    assert (found.day, found.part_of_day) == (TUE, "morning")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello, do you take walk-ins?",
        "call me at 250-555-0133",
        "my number is +1 (604) 555-0142",
        "It's $149 for the basic package",
        "is it $15:00 or more?",
        "the session takes 90 minutes",
        "I've been a client for 2 years",
        "my son is at 2 years old",
        "about 30 people",
        "5/3",  # 5 March or May 3? refused rather than guessed
        "at 5/3",
        "meet me on the 2nd floor",
        "5 may come",
        "good morning",
        "Good evening!",
        "last night was fun",
        "we sat in the sun",
        "can we do 4?",
    ],
)
def test_things_that_are_not_dates_or_times(text):
    assert when(text) is None


def test_the_match_keeps_the_typed_words():
    assert when("Great, so tomorrow at 3pm works for me").text == "tomorrow at 3pm"
    assert when("aujourd\u2019hui à 9h30").text == "aujourd\u2019hui à 9h30"


def test_the_first_expression_wins_and_unrelated_pieces_are_not_glued():
    found = when("I'm free Thursday, not Friday at 3pm")
    assert (found.day, found.time) == (THU, None)
    assert when("tomorrow at 3 or 4").time == time(15)
    assert when("call me at 604-555-0142 tomorrow").day == TUE


def test_a_greeting_does_not_hide_the_request():
    found = when("Good morning! Can I come Thursday at 10?")
    assert (found.day, found.time, found.part_of_day) == (THU, time(10), None)


def test_part_of_day_alone_loses_to_a_later_day():
    assert when("Afternoons are best. Could I come Thursday?").day == THU


def test_london_reads_its_own_today():
    # NOW is 18:00 in London, same Monday
    assert at("tomorrow at 3pm", tz=LONDON) == datetime(2026, 3, 3, 15, tzinfo=LONDON)
    assert when("Monday at 5pm", tz=LONDON).day == MON + timedelta(7)  # 17:00 has passed there


def test_sydney_is_already_tuesday():
    # NOW is Tuesday 05:00 in Sydney (UTC+11)
    assert when("today", tz=SYDNEY).day == TUE
    assert at("tomorrow at 9am", tz=SYDNEY) == datetime(2026, 3, 4, 9, tzinfo=SYDNEY)
    assert when("Tuesday at 10am", tz=SYDNEY).day == TUE


def test_spring_forward_gap_has_no_0230():
    found = when("Sunday at 2:30am")
    assert (found.day, found.time) == (SUN, time(2, 30))
    assert combine(found, VANCOUVER) is None
    assert localize(SUN, time(3, 0), VANCOUVER).utcoffset() == timedelta(hours=-7)
    assert localize(SUN, time(1, 59), VANCOUVER).utcoffset() == timedelta(hours=-8)
    assert localize(date(2026, 3, 29), time(1, 30), LONDON) is None


def test_fall_back_repeated_time_is_the_first_occurrence():
    first = combine(When(date(2026, 11, 1), time(1, 30), None, "1:30am"), VANCOUVER)
    assert first.utcoffset() == timedelta(hours=-7)  # still PDT
    assert first.astimezone(UTC) == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    sydney = localize(date(2026, 4, 5), time(2, 30), SYDNEY)  # Sydney falls back at 03:00
    assert sydney.utcoffset() == timedelta(hours=11)


def test_now_in_another_zone_is_converted_first():
    utc_now = NOW.astimezone(UTC)
    assert parse_when("tomorrow at 3pm", utc_now, VANCOUVER) == when("tomorrow at 3pm")


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError):
        parse_when("tomorrow", datetime(2026, 3, 2, 10), VANCOUVER)

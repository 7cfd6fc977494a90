"""Slots from opening hours: free, bookable, DST-safe, and explained when refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.core import opening_hours

VANCOUVER = ZoneInfo("America/Vancouver")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
WEEKDAY = ["08:00-18:00"]
HOURS = {d: WEEKDAY for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-14:00"]}
HOURS["sun"] = []
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=VANCOUVER)  # Monday 10:00
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 3, 2) + timedelta(n) for n in range(7))


def van(day: date, hour: int, minute: int = 0, tz: ZoneInfo = VANCOUVER) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def hhmm(slots: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in slots]


def slots(day, booked=(), now=NOW, minutes=60, hours=HOURS, tz=VANCOUVER, **kw):
    return opening_hours.slots_on(day, hours, tz, minutes, list(booked), now, **kw)


def check(start, booked=(), now=NOW, minutes=60, hours=HOURS, tz=VANCOUVER, **kw):
    return opening_hours.check(start, hours, tz, minutes, list(booked), now, **kw)


def test_a_full_free_day_steps_from_opening_to_the_last_slot_that_fits():
    found = slots(TUE)
    assert hhmm(found) == [f"{h:02d}:00" for h in range(8, 18)]
    assert all(s.tzinfo is VANCOUVER for s in found)
    by_45 = hhmm(slots(TUE, minutes=45))
    assert by_45[:3] == ["08:00", "08:45", "09:30"]
    assert by_45[-2:] == ["16:15", "17:00"]  # 17:45 would end at 18:30


def test_today_starts_after_the_lead_time():
    assert hhmm(slots(MON)) == ["11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00"]
    assert hhmm(slots(MON, minutes=30, lead_minutes=0))[0] == "10:30"  # 10:00 is not after now
    assert hhmm(slots(MON, minutes=30, lead_minutes=60))[0] == "11:00"
    assert hhmm(slots(MON, minutes=30, lead_minutes=90))[0] == "11:30"
    assert slots(MON - timedelta(7)) == []


def test_booked_intervals_in_any_zone_block_overlapping_slots():
    booked = [
        (datetime(2026, 3, 3, 18, tzinfo=UTC), datetime(2026, 3, 3, 19, tzinfo=UTC)),  # 10-11
        (van(TUE, 13, 30), van(TUE, 14, 15)),  # straddles 13:00 and 14:00
        (van(TUE, 17, 0).astimezone(LONDON), van(TUE, 18, 0).astimezone(LONDON)),
    ]
    assert hhmm(slots(TUE, booked)) == ["08:00", "09:00", "11:00", "12:00", "15:00", "16:00"]


def test_back_to_back_bookings_do_not_touch_neighbours():
    booked = [(van(TUE, 9), van(TUE, 10))]
    assert "08:00" in hhmm(slots(TUE, booked)) and "10:00" in hhmm(slots(TUE, booked))


def test_closed_days_have_no_slots():
    assert slots(SUN) == []
    assert slots(SAT + timedelta(7), hours={"sat": ["09:00-14:00"]})  # days left out are closed
    assert slots(SUN, hours={"sat": ["09:00-14:00"]}) == []


def test_split_ranges_and_a_midnight_close():
    hours = {"tue": ["08:00-12:00", "13:00-17:00"], "fri": ["20:00-24:00"]}
    assert "12:00" not in hhmm(slots(TUE, hours=hours))
    assert hhmm(slots(TUE, hours=hours))[3:5] == ["11:00", "13:00"]
    assert hhmm(slots(FRI, hours=hours)) == ["20:00", "21:00", "22:00", "23:00"]


def test_a_free_slot_is_ok():
    assert check(van(TUE, 10)) == opening_hours.Verdict(True, None, [])


def test_a_start_off_the_grid_is_accepted_when_it_fits_and_is_free():
    assert check(van(TUE, 10, 15)).ok
    assert check(van(TUE, 16, 59)).ok


def test_a_slot_must_end_by_closing_time():
    verdict = check(van(TUE, 17, 30))
    assert (verdict.ok, verdict.reason) == (False, "outside_hours")
    assert verdict.alternatives == [van(TUE, 15), van(TUE, 16), van(TUE, 17)]
    assert check(van(TUE, 17)).ok


def test_before_opening_offers_the_first_slots():
    verdict = check(van(TUE, 7))
    assert verdict.reason == "outside_hours"
    assert verdict.alternatives == [van(TUE, 8), van(TUE, 9), van(TUE, 10)]


def test_closed_day_offers_the_next_open_day():
    verdict = check(van(SUN, 11))
    assert verdict.reason == "closed_day"
    assert verdict.alternatives == [van(MON + timedelta(7), h) for h in (8, 9, 10)]


def test_the_past_is_refused_with_todays_remaining_slots():
    verdict = check(van(MON, 9))
    assert verdict.reason == "past"
    assert verdict.alternatives == [van(MON, 11), van(MON, 12), van(MON, 13)]
    assert check(van(MON - timedelta(30), 9)).alternatives[0] == van(MON, 11)


def test_inside_the_lead_time_is_too_soon():
    verdict = check(van(MON, 10, 30))
    assert verdict.reason == "too_soon"
    assert verdict.alternatives[0] == van(MON, 11)
    assert check(van(MON, 10, 30), lead_minutes=0).ok


def test_a_taken_slot_offers_the_nearest_free_ones_in_time_order():
    booked = [(van(TUE, 10), van(TUE, 11))]
    verdict = check(van(TUE, 10), booked)
    assert verdict.reason == "taken"
    assert verdict.alternatives == [van(TUE, 8), van(TUE, 9), van(TUE, 11)]
    assert check(van(TUE, 9, 30), booked).reason == "taken"  # overlaps the first half hour


def test_alternatives_spill_into_following_days():
    booked = [(van(SAT, 9), van(SAT, 13))]
    verdict = check(van(SAT, 9), booked)
    assert verdict.alternatives == [
        van(SAT, 13),
        van(MON + timedelta(7), 8),
        van(MON + timedelta(7), 9),
    ]


def test_no_alternatives_when_nothing_is_open_within_two_weeks():
    verdict = check(van(TUE, 10), hours={})
    assert (verdict.reason, verdict.alternatives) == ("closed_day", [])


def test_next_slots_across_the_weekend():
    assert opening_hours.next_slots(NOW, 3, HOURS, VANCOUVER, 60, [], NOW) == [
        van(MON, 11),
        van(MON, 12),
        van(MON, 13),
    ]
    saturday = van(SAT, 13, 30)
    found = opening_hours.next_slots(saturday, 2, HOURS, VANCOUVER, 60, [], NOW)
    assert found == [van(MON + timedelta(7), 8), van(MON + timedelta(7), 9)]
    assert found[0].utcoffset() == timedelta(hours=-7)  # after the DST change: PDT
    assert opening_hours.next_slots(saturday, 0, HOURS, VANCOUVER, 60, [], NOW) == []
    assert opening_hours.next_slots(saturday, 2, {}, VANCOUVER, 60, [], NOW) == []


def test_spring_forward_skips_slots_that_do_not_exist():
    hours = {"sun": ["01:00-04:00"]}
    found = slots(SUN, hours=hours, minutes=30)
    assert hhmm(found) == ["01:00", "01:30", "03:00", "03:30"]
    assert [s.utcoffset() for s in found] == [timedelta(hours=-8)] * 2 + [timedelta(hours=-7)] * 2
    assert hhmm(slots(SUN, hours=hours)) == ["01:00", "03:00"]


def test_spring_forward_slot_ending_in_the_gap_is_wall_clock_long():
    # 01:30-02:00 wall clock ends at 03:00 PDT, so a booking at 03:00 does not touch it
    hours = {"sun": ["01:00-04:00"]}
    booked = [(van(SUN, 3), van(SUN, 3, 30))]
    assert hhmm(slots(SUN, booked, hours=hours, minutes=30)) == ["01:00", "01:30", "03:30"]
    assert check(van(SUN, 1, 30), booked, hours=hours, minutes=30).ok


def test_fall_back_offers_the_repeated_hour_once():
    sunday = date(2026, 11, 1)
    found = slots(sunday, hours={"sun": ["00:00-03:00"]})
    assert hhmm(found) == ["00:00", "01:00", "02:00"]
    assert found[1].utcoffset() == timedelta(hours=-7)  # first occurrence of 01:00
    second_0130 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # 01:30 PST, the repeat
    assert check(second_0130, hours={"sun": ["00:00-03:00"]}, minutes=30).ok


def test_london_hours_with_bookings_from_vancouver():
    hours = {"tue": ["09:00-12:00"]}
    london_ten = datetime(2026, 3, 3, 10, tzinfo=LONDON)
    booked = [
        (london_ten.astimezone(VANCOUVER), (london_ten + timedelta(hours=1)).astimezone(VANCOUVER))
    ]
    assert hhmm(slots(TUE, booked, hours=hours, tz=LONDON)) == ["09:00", "11:00"]
    assert check(london_ten, booked, hours=hours, tz=LONDON).reason == "taken"


def test_sydney_today_is_already_tuesday():
    # NOW is Tuesday 05:00 in Sydney: the first bookable slot there is 08:00 the same day
    assert hhmm(slots(TUE, tz=SYDNEY))[0] == "08:00"
    assert slots(MON, tz=SYDNEY) == []  # Monday is over in Sydney
    assert opening_hours.next_slots(NOW, 1, HOURS, SYDNEY, 60, [], NOW) == [van(TUE, 8, tz=SYDNEY)]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (van(MON, 10), True),
        (van(MON, 8), True),
        (van(MON, 17, 59), True),
        (van(MON, 18), False),  # closing time is closed
        (van(MON, 7, 59), False),
        (van(SUN, 12), False),
        (datetime(2026, 3, 2, 18, tzinfo=UTC), True),  # 10:00 in Vancouver
        (datetime(2026, 3, 3, 3, tzinfo=UTC), False),  # 19:00 in Vancouver
    ],
)
def test_is_open(moment, expected):
    assert opening_hours.is_open(moment, HOURS, VANCOUVER) is expected


def test_next_opening_over_the_weekend():
    assert opening_hours.next_opening(van(SAT, 15), HOURS, VANCOUVER) == van(MON + timedelta(7), 8)
    assert opening_hours.next_opening(van(FRI, 19), HOURS, VANCOUVER) == van(SAT, 9)
    assert opening_hours.next_opening(van(TUE, 6), HOURS, VANCOUVER) == van(TUE, 8)
    # already open
    assert opening_hours.next_opening(van(TUE, 10), HOURS, VANCOUVER) == van(TUE, 10)
    assert opening_hours.next_opening(van(TUE, 10), {}, VANCOUVER) is None


def test_next_opening_inside_a_dst_gap_is_the_first_moment_that_exists():
    opening = opening_hours.next_opening(van(SUN, 0), {"sun": ["02:00-05:00"]}, VANCOUVER)
    assert opening == datetime(2026, 3, 8, 10, tzinfo=UTC)  # 03:00 PDT


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (HOURS, "Mon\u2013Fri 08:00\u201318:00, Sat 09:00\u201314:00, Sun closed"),
        ({d: ["09:00-17:00"] for d in opening_hours.DAYS}, "Daily 09:00\u201317:00"),
        ({}, "Closed every day"),
        (
            {"mon": ["08:00-12:00", "13:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"]},
            "Mon\u2013Tue 08:00\u201312:00 and 13:00\u201317:00, Wed\u2013Sun closed",
        ),
        (
            {"mon": ["09:00-17:00"], "tue": ["10:00-17:00"], "wed": ["09:00-17:00"]},
            "Mon 09:00\u201317:00, Tue 10:00\u201317:00, Wed 09:00\u201317:00, Thu\u2013Sun closed",
        ),
        (
            {"fri": ["18:00-24:00"]},
            "Mon\u2013Thu closed, Fri 18:00\u201324:00, Sat\u2013Sun closed",
        ),
    ],
)
def test_describe_hours_groups_equal_consecutive_days(hours, words):
    assert opening_hours.describe_hours(hours) == words


@pytest.mark.parametrize(
    "hours",
    [{"mon": ["8-18"]}, {"mon": ["18:00-08:00"]}, {"mon": ["08:00-24:30"]}, {"monday": []}],
)
def test_bad_hours_are_refused(hours):
    with pytest.raises(ValueError):
        opening_hours.describe_hours(hours)


def test_naive_datetimes_and_bad_slot_lengths_are_refused():
    with pytest.raises(ValueError):
        check(datetime(2026, 3, 3, 10), now=NOW)
    with pytest.raises(ValueError):
        slots(TUE, now=datetime(2026, 3, 2, 10))
    with pytest.raises(ValueError):
        slots(TUE, booked=[(datetime(2026, 3, 3, 10), datetime(2026, 3, 3, 11))])
    with pytest.raises(ValueError):
        slots(TUE, minutes=0)

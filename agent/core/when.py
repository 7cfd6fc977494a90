"""Resolve what a visitor typed ("tomorrow at 3pm", "jeudi", "Mar 5th") into a local date/time.

Pure and deterministic: every answer is relative to the ``now`` and time zone passed in, so the
agent, the evals and the tests all read a phrase the same way. Rules for ambiguous phrases:

* Bare weekday ("Thursday"): the first such day after today. Today counts only when a time or
  part of day is given that is still ahead ("Monday at 3pm" said on a Monday morning is today);
  plain "Monday" said on a Monday is a week later (a visitor who meant today says "today").
* "this Friday" / "ce vendredi": the first Friday on or after today (today included).
* "next Tuesday", "coming Tuesday", "mardi prochain", "el próximo martes": the first Tuesday
  strictly after today, so on a Monday it is tomorrow and on a Tuesday it is 7 days ahead.
* "on the 5th": the next 5th on or after today (this month, else the next month that has one).
* "March 5", "5 March", "Mar 5th", "the 5th of March" without a year: the next March 5 on or
  after today. "2026-03-05" is the only numeric form: "5/3" means 5 March or May 3 depending on
  who typed it, so it is not a date here. A weekday next to a date ("Thursday, March 5") defers
  to the date.
* Times without am/pm ("at 9", "9:30", "3 o'clock") are read as business hours: 1-7 is pm,
  8-11 am, 12 noon, 13-23 the 24-hour clock; a leading zero ("07:30") is the 24-hour clock.
  A part of day overrides the guess: "tomorrow evening at 8" is 20:00, "at 7 in the morning" 07:00.
  French "à 15h" / "à 9h30" is always the 24-hour clock.
* What was not said stays None: "at 3pm" has no day and "Thursday" no time; the caller asks
  rather than this module guessing (``combine`` needs both).
* A bare number is a time only after "at/around/about/by/after/from/à/a las" or before "o'clock"
  or "in the morning"; never when glued to more digits (phone numbers), money ("$149") or a unit
  ("at 2 years", "90 minutes"). A range ("2-4pm", "between 11 and 1pm") gives its start, which
  takes the end's am/pm unless that would put it after the end.
* Pieces join when only filler ("at", "on", commas) separates them. The first group holding a day
  or a time wins; a part of day alone ("afternoons suit me") is returned only if nothing else is
  found, and "good morning" / "last night" are not parts of day.
* DST: ``combine`` (and ``localize``) return None for wall times that do not exist (the
  spring-forward gap); repeated fall-back wall times mean their first occurrence (fold=0).
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class When:
    day: date | None
    time: time | None
    part_of_day: str | None  # "morning" | "afternoon" | "evening"
    text: str  # the matched words, as typed


@dataclass(frozen=True)
class _Tok:
    start: int
    end: int
    day: tuple | None = None  # ("rel", n) | ("weekday", 0-6, mode) | ("date", date)
    clock: tuple[int, int, bool] | None = None  # hour, minute, explicit (not a business guess)
    part: str | None = None


_WEEKDAYS = {
    **dict.fromkeys(("monday", "lunes", "lundi"), 0),
    **dict.fromkeys(("tuesday", "tues", "martes", "mardi"), 1),
    **dict.fromkeys(("wednesday", "weds", "miércoles", "miercoles", "mercredi"), 2),
    **dict.fromkeys(("thursday", "thurs", "thur", "jueves", "jeudi"), 3),
    **dict.fromkeys(("friday", "viernes", "vendredi"), 4),
    **dict.fromkeys(("saturday", "sábado", "sabado", "samedi"), 5),
    **dict.fromkeys(("sunday", "domingo", "dimanche"), 6),
}
_MONTHS: dict[str, int] = {"sept": 9, "fevrier": 2, "aout": 8}
for _names in (
    "january february march april may june july august september october november december",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
):
    for _number, _name in enumerate(_names.split(), start=1):
        _MONTHS.setdefault(_name, _number)
        if _names.startswith("january"):  # "Mar 5th"; other languages' abbreviations collide
            _MONTHS.setdefault(_name[:3], _number)
_MORNING, _AFTERNOON, _EVENING = "morning", "afternoon", "evening"
_PHRASES: dict[str, tuple[int | None, str | None]] = {
    **dict.fromkeys(("the day after tomorrow", "day after tomorrow", "pasado mañana",
                     "pasado manana", "après-demain", "apres-demain"), (2, None)),
    **dict.fromkeys(("tomorrow", "tmrw", "mañana", "manana", "demain"), (1, None)),
    **dict.fromkeys(("today", "hoy", "aujourd'hui"), (0, None)),
    **dict.fromkeys(("tonight", "esta noche", "ce soir", "this evening"), (0, _EVENING)),
    **dict.fromkeys(("this morning", "esta mañana", "ce matin"), (0, _MORNING)),
    **dict.fromkeys(("this afternoon", "esta tarde", "cet après-midi"), (0, _AFTERNOON)),
    **dict.fromkeys(("in the morning", "morning", "mornings", "por la mañana", "de la mañana",
                     "la mañana", "le matin", "du matin", "matin"), (None, _MORNING)),
    **dict.fromkeys(("in the afternoon", "afternoon", "afternoons", "por la tarde", "de la tarde",
                     "l'après-midi", "après-midi", "apres-midi"), (None, _AFTERNOON)),
    **dict.fromkeys(("in the evening", "evening", "evenings", "night", "nights", "por la noche",
                     "de la noche", "le soir", "du soir"), (None, _EVENING)),
}  # fmt: skip
_PART_ENDS = {_MORNING: time(12), _AFTERNOON: time(17), _EVENING: time.max}


def _alt(words: object) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len)[::-1])


_W = r"(?<![\w'-])"  # starts a word
_E = r"(?![\w-])"  # ends a word ("tomorrow's" still counts)
_N = r"(?<![\d$£€:./,-])"  # a number not glued to another number or to money
_MER = r"(?P<mer>[ap])\.?m\b\.?"
_HM = r"(?P<h>\d{1,2})(?::(?P<min>[0-5]\d))?"
_UNITS = (
    r"(?:mins?|minutes?|hrs?|hours?|days?|weeks?|months?|years?|yrs?|people|persons?|guests?|"
    r"kids?|children|adults?|percent|dollars?|bucks|euros?|pounds?|km|miles?|kg|lbs?|times|of)\b"
)
_LEAD = r"(?:at|around|about|by|after|from|until|till|à|vers|a\s+las?)\s+(?:around\s+|about\s+)?"
_MONTH = rf"(?P<mon>{_alt(_MONTHS)})\.?"
_DAY_NUM = r"(?P<d>\d{1,2})(?P<nth>st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<y>\d{4})(?!\d))?"
_DATE_RULES = {  # pattern -> how to read it
    r"(?<![\d-])(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)(?![\d-])": "iso",
    rf"{_W}{_MONTH}\s+(?:the\s+)?{_DAY_NUM}{_E}(?!:\d|\s*[ap]\.?m\b){_YEAR}": "month",
    rf"{_W}(?:(?:on\s+)?the\s+)?{_N}{_DAY_NUM}\s+(?:of\s+|de\s+)?{_MONTH}{_E}{_YEAR}": "month",
    rf"{_W}(?P<on>on\s+)?the\s+{_DAY_NUM}{_E}": "nth",
}
_CLOCK_RULES = {
    rf"{_N}{_HM}\s*{_MER}": "meridiem",
    rf"{_N}(?P<between>between\s+)?{_HM}\s*(?P<sep>-|\u2013|to|till|until|and)\s*"
    rf"(?P<h2>\d{{1,2}})(?::[0-5]\d)?\s*{_MER}": "range",
    rf"{_N}(?P<h>\d{{1,2}}):(?P<min>[0-5]\d)(?!\d|:\d)": "guess",
    rf"{_W}{_LEAD}{_HM}(?:\s*o'clock)?(?!\d|[-/.,:]\d|\w|\s*(?:%|[ap]\.?m\b|{_UNITS}))": "guess",
    rf"{_N}{_HM}(?:\s*o'clock|(?=\s+(?:in\s+the|this)\s+(?:morning|afternoon|evening)\b))": "guess",
    rf"{_W}(?:à|a|vers)\s+(?P<h>\d{{1,2}})\s*h(?:\s*(?P<min>[0-5]\d))?(?!\w)": "24h",
    rf"{_W}(?:noon|midday|mid-day|mediod[ií]a|midi){_E}": "noon",
}
_ORDINAL_FOLLOW = re.compile(
    r"\s*(?:$|[,.;:!?)]|\d|(?:at|in|or|and|around|about|by|for|of|morning|afternoon|evening)\b)",
    re.I,
)
_ORDINAL_NOUN = re.compile(  # "on the 2nd floor", "the 3rd time"
    r"\s+(?:floor|level|time|try|attempt|place|row|grade|street|st|avenue|ave|century|"
    r"anniversary|birthday|edition|one|round|call|visit|session)s?\b",
    re.I,
)
_FILLER = re.compile(
    r"(?:[\s,;:.!?()/\-\u2013\u2014]|'s\b|(?<=\d)t|(?<![\w'])(?:at|on|in|the|of|around|about|"
    r"by|say|maybe|or\s+so|ish|sometime|from|de|del|el|la|le|à|a|las|please|pls)(?![\w']))*",
    re.I,
)
_PHRASE = re.compile(rf"{_W}({_alt(_PHRASES)}){_E}", re.I)
_WEEKDAY = re.compile(
    rf"{_W}(?:(next|this\s+coming|coming|this|el\s+pr[oó]ximo|pr[oó]ximo|ce)\s+)?"
    rf"({_alt(_WEEKDAYS)})s?(?:\s+(prochain|pr[oó]ximo|que\s+viene))?{_E}",
    re.I,
)


def _phrase(m: re.Match, text: str, today: date) -> _Tok | None:
    offset, part = _PHRASES[re.sub(r"\s+", " ", m[1].lower())]
    if offset is None and re.search(r"\b(?:good|last)\s+$", text[: m.start()], re.I):
        return None  # a greeting or the past, not a wish
    return _Tok(m.start(), m.end(), None if offset is None else ("rel", offset), part=part)


def _weekday(m: re.Match, text: str, today: date) -> _Tok:
    before = (m[1] or "").lower()
    mode = "this" if before in ("this", "ce") else "next" if before or m[3] else "bare"
    return _Tok(m.start(), m.end(), ("weekday", _WEEKDAYS[m[2].lower()], mode))


def _date(m: re.Match, text: str, today: date, kind: str) -> _Tok | None:
    g = m.groupdict()
    day, year = int(g["d"]), g.get("y") and int(g["y"])
    if kind == "iso":
        candidates = [(year, int(g["mo"]))]
    elif kind == "nth":
        if _ORDINAL_NOUN.match(text, m.end()) or not (
            g["on"] or _ORDINAL_FOLLOW.match(text, m.end())
        ):
            return None  # "on the 2nd floor"; a bare "the 5th" must look like a date
        months = today.year * 12 + today.month - 1  # this month, then the next twelve
        candidates = [((months + i) // 12, (months + i) % 12 + 1) for i in range(13)]
    else:
        if g["mon"].lower() == "may" and g["mon"] not in ("May", "MAY") and not g["nth"]:
            return None  # "5 may come" is not a date; "5 May" and "May 5th" are
        month = _MONTHS[g["mon"].lower()]
        candidates = [(y, month) for y in ([year] if year else range(today.year, today.year + 9))]
    for y, month in candidates:
        with suppress(ValueError):
            if (found := date(y, month, day)) >= today or kind == "iso" or year:
                return _Tok(m.start(), m.end(), ("date", found))
    return None


def _clock(m: re.Match, text: str, today: date, kind: str) -> _Tok | None:
    if kind == "noon":
        return _Tok(m.start(), m.end(), clock=(12, 0, True))
    g = m.groupdict()
    hour, minute, pm = int(g["h"]), int(g["min"] or 0), (g.get("mer") or "").lower() == "p"
    if kind in ("meridiem", "range"):
        last, sep = int(g.get("h2") or hour), (g.get("sep") or "").lower()
        if not (1 <= hour <= 12 and 1 <= last <= 12) or (sep == "and") != bool(g.get("between")):
            return None
        # "2-4pm" starts at 14:00, "11-1pm" at 11:00: the start takes the end's am/pm if it fits
        hour = hour % 12 + 12 if pm and hour % 12 + 12 <= last % 12 + 12 else hour % 12
        return _Tok(m.start(), m.end(), clock=(hour, minute, True))
    if hour > 23 or g["h"] == "0":
        return None
    explicit = kind == "24h" or hour > 12 or g["h"].startswith("0")  # 24-hour clock
    return _Tok(m.start(), m.end(), clock=(hour, minute, explicit))


_RULES = [
    (_PHRASE, _phrase),
    (_WEEKDAY, _weekday),
    *((re.compile(p, re.I), partial(_date, kind=k)) for p, k in _DATE_RULES.items()),
    *((re.compile(p, re.I), partial(_clock, kind=k)) for p, k in _CLOCK_RULES.items()),
]


def localize(day: date, clock: time, tz: ZoneInfo) -> datetime | None:
    """The aware local datetime, or None inside a spring-forward gap; repeated times are fold=0."""
    local = datetime.combine(day, clock.replace(tzinfo=None, fold=0), tzinfo=tz)
    back = local.astimezone(UTC).astimezone(tz)
    return local if back.replace(tzinfo=None) == local.replace(tzinfo=None) else None


def combine(when: When, tz: ZoneInfo) -> datetime | None:
    """The moment meant, when both day and time are known and that wall time exists in ``tz``."""
    if when.day is None or when.time is None:
        return None
    return localize(when.day, when.time, tz)


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> When | None:
    """The first date/time expression in ``text``, resolved against ``now`` in the business's tz."""
    if now.tzinfo is None:
        raise ValueError("parse_when needs an aware 'now'")
    typed = text or ""
    text = typed.replace("\u2019", "'")  # same length, so offsets still match what was typed
    local_now = now.astimezone(tz)
    groups = _groups(text, _tokens(text, local_now.date()))
    chosen = next((g for g in groups if any(t.day or t.clock for t in g)), None)
    chosen = chosen or (groups[0] if groups else None)
    if chosen is None:
        return None
    dated = [t.day for t in chosen if t.day]
    spec = next((d for d in dated if d[0] == "date"), dated[0] if dated else None)
    part = next((t.part for t in chosen if t.part), None)
    clock = _time(next((t.clock for t in chosen if t.clock), None), part)
    day = _day(spec, clock, part, local_now, tz)
    return When(day, clock, part, typed[chosen[0].start : chosen[-1].end])


def _tokens(text: str, today: date) -> list[_Tok]:
    found = [
        tok
        for pattern, make in _RULES
        for m in pattern.finditer(text)
        if (tok := make(m, text, today)) is not None
    ]
    found.sort(key=lambda t: (t.start, t.start - t.end))  # earliest, then longest
    kept: list[_Tok] = []
    for tok in found:
        if not kept or tok.start >= kept[-1].end:
            kept.append(tok)
    return kept


def _groups(text: str, tokens: list[_Tok]) -> list[list[_Tok]]:
    groups: list[list[_Tok]] = []
    for tok in tokens:
        if (
            groups
            and _FILLER.fullmatch(text, groups[-1][-1].end, tok.start)
            and _fits(groups[-1], tok)
        ):
            groups[-1].append(tok)
        else:
            groups.append([tok])
    return groups


def _fits(group: list[_Tok], tok: _Tok) -> bool:
    """One day, one time and one part per group; a weekday may be pinned by a date beside it."""
    days = [t.day for t in group if t.day]
    pinned = (
        len(days) == 1 and days[0][0] == "weekday" and tok.day is not None and tok.day[0] == "date"
    )
    return (
        (not (tok.day and days) or pinned)
        and not (tok.clock and any(t.clock for t in group))
        and not (tok.part and any(t.part for t in group))
    )


def _time(clock: tuple[int, int, bool] | None, part: str | None) -> time | None:
    if clock is None:
        return None
    hour, minute, explicit = clock
    if not explicit and hour < 12 and (part in (_AFTERNOON, _EVENING) or (not part and hour <= 7)):
        hour += 12
    return time(hour, minute)


def _day(
    spec: tuple | None, clock: time | None, part: str | None, local_now: datetime, tz: ZoneInfo
) -> date | None:
    today = local_now.date()
    if spec is None or spec[0] != "weekday":
        return None if spec is None else today + timedelta(spec[1]) if spec[0] == "rel" else spec[1]
    _, weekday, mode = spec
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and mode != "this":
        at = localize(today, clock, tz) if clock else None
        later_today = (at is not None and at.astimezone(UTC) > local_now.astimezone(UTC)) or (
            clock is None and part is not None and local_now.time() < _PART_ENDS[part]
        )
        if mode == "next" or not later_today:
            ahead = 7
    return today + timedelta(ahead)

"""Appointment slots from opening hours: what is free, whether a start works, when we open.

Pure: callers pass the hours, the time zone, the bookings and ``now``. Rules:

* Opening hours are wall-clock ranges in the business's ``tz`` ("08:00-18:00"; "24:00" closes
  at midnight). Slots start at a range's opening time and step by ``slot_minutes`` of wall-clock
  time; a slot must end by the range's close.
* A requested start need not sit on that grid: ``check`` accepts any start whose
  [start, start + slot) fits inside one range and is free, so there is no "misaligned" refusal.
* Bookable means free, strictly after ``now`` and at least ``lead_minutes`` ahead; a start
  inside the lead time is refused as "too_soon" (in the past: "past").
* DST: durations are wall-clock. A slot whose start falls in the spring-forward gap does not
  exist and is skipped; an end in the gap resolves with the offset before the change, so that
  slot is shorter in real time. A wall time repeated at fall-back means its first occurrence
  (fold=0), so the repeated hour is offered once and a slot spanning it lasts longer in real time.
* Comparisons are done in UTC: Python compares two datetimes sharing a tzinfo by wall time and
  ignores ``fold``, which is wrong around a fall-back hour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.core.validation import DAYS
from agent.core.when import localize

HORIZON_DAYS = 14
Hours = Mapping[str, Sequence[str]]
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_DASH = "\u2013"  # en dash, for people


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None  # past | too_soon | closed_day | outside_hours | taken
    alternatives: list[datetime] = field(default_factory=list)


def slots_on(
    day: date,
    hours: Hours,
    tz: ZoneInfo,
    slot_minutes: int,
    booked: Iterable[tuple[datetime, datetime]],
    now: datetime,
    *,
    lead_minutes: int = 60,
) -> list[datetime]:
    """Free slot starts on ``day`` (aware, in ``tz``), oldest first, for "what's free Thursday?"."""
    return _Book(hours, tz, slot_minutes, booked, now, lead_minutes).slots(day)


def check(
    start: datetime,
    hours: Hours,
    tz: ZoneInfo,
    slot_minutes: int,
    booked: Iterable[tuple[datetime, datetime]],
    now: datetime,
    *,
    lead_minutes: int = 60,
) -> Verdict:
    """Whether ``start`` can be booked; if not, why, and up to three nearby free slots to offer.

    Alternatives are the nearest free slots on the same day (by distance from ``start``), then
    the following days, looking up to 14 days ahead; they are returned in time order.
    """
    book = _Book(hours, tz, slot_minutes, booked, now, lead_minutes)
    reason = book.refusal(_aware(start, "start"))
    if reason is None:
        return Verdict(True)
    local = start.astimezone(tz)
    first = max(local.date(), book.now.astimezone(tz).date())
    same_day = book.slots(first)
    if first == local.date():
        same_day.sort(key=lambda s: (abs(_utc(s) - _utc(start)), _utc(s)))
    found = same_day[:3]
    for offset in range(1, HORIZON_DAYS + 1):
        if len(found) >= 3:
            break
        found += book.slots(first + timedelta(offset))[: 3 - len(found)]
    return Verdict(False, reason, sorted(found, key=_utc))


def next_slots(
    after: datetime,
    count: int,
    hours: Hours,
    tz: ZoneInfo,
    slot_minutes: int,
    booked: Iterable[tuple[datetime, datetime]],
    now: datetime,
    *,
    lead_minutes: int = 60,
    horizon_days: int = HORIZON_DAYS,
) -> list[datetime]:
    """The first ``count`` free slots starting at or after ``after``, for "when are you free?"."""
    book = _Book(hours, tz, slot_minutes, booked, now, lead_minutes)
    first = max(_aware(after, "after"), book.now).astimezone(tz).date()
    found: list[datetime] = []
    for offset in range(horizon_days + 1):
        found += [s for s in book.slots(first + timedelta(offset)) if _utc(s) >= _utc(after)]
        if len(found) >= count:
            break
    return found[: max(count, 0)]


def is_open(at: datetime, hours: Hours, tz: ZoneInfo) -> bool:
    """Whether the business is open at the instant ``at`` (a range's closing time is not open)."""
    local = _aware(at, "at").astimezone(tz)
    minute = local.hour * 60 + local.minute + local.second / 60
    return any(s <= minute < e for s, e in _parse(hours)[local.weekday()])


def next_opening(at: datetime, hours: Hours, tz: ZoneInfo) -> datetime | None:
    """When we are next open: ``at`` itself if open, else the next opening; None if never open."""
    if is_open(at, hours, tz):
        return at.astimezone(tz)
    table, local = _parse(hours), at.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(offset)
        for start, end in table[day.weekday()]:
            opens = next(
                (w for m in range(start, end) if (w := _wall(day, m, tz)) is not None), None
            )  # the first minute of the range that exists (an opening may fall in a DST gap)
            if opens is not None and _utc(opens) > _utc(at):
                return opens
    return None


def describe_hours(hours: Hours) -> str:
    """Opening hours in words for replies, equal consecutive days grouped ("Mon-Fri 08:00-18:00",
    written with en dashes), so the agent quotes the hours the way a person would."""
    table = _parse(hours)
    groups: list[list] = []  # [first day, last day, ranges]
    for index in range(7):
        if groups and groups[-1][2] == table[index]:
            groups[-1][1] = index
        else:
            groups.append([index, index, table[index]])
    if len(groups) == 1:
        return f"Daily {_ranges_text(table[0])}" if table[0] else "Closed every day"
    names = [d.capitalize() for d in DAYS]
    return ", ".join(
        f"{names[a] if a == b else names[a] + _DASH + names[b]} {_ranges_text(r) or 'closed'}"
        for a, b, r in groups
    )


class _Book:
    """One question's worth of inputs, parsed and checked once."""

    def __init__(
        self,
        hours: Hours,
        tz: ZoneInfo,
        slot_minutes: int,
        booked: Iterable[tuple[datetime, datetime]],
        now: datetime,
        lead_minutes: int,
    ) -> None:
        if slot_minutes <= 0 or lead_minutes < 0:
            raise ValueError("slot_minutes must be positive and lead_minutes not negative")
        self.table, self.tz, self.slot = _parse(hours), tz, slot_minutes
        self.booked = [(_utc(_aware(a, "booked")), _utc(_aware(b, "booked"))) for a, b in booked]
        self.now = _utc(_aware(now, "now"))
        self.earliest = self.now + timedelta(minutes=lead_minutes)

    def slots(self, day: date) -> list[datetime]:
        found = []
        for start, end in self.table[day.weekday()]:
            for minute in range(start, end - self.slot + 1, self.slot):
                wall = _wall(day, minute, self.tz)
                if wall is not None and self._bookable(
                    wall, _end(day, minute + self.slot, self.tz)
                ):
                    found.append(wall)
        return found

    def refusal(self, start: datetime) -> str | None:
        local = start.astimezone(self.tz)
        if _utc(start) <= self.now:
            return "past"
        if _utc(start) < self.earliest:
            return "too_soon"
        ranges = self.table[local.weekday()]
        if not ranges:
            return "closed_day"
        first = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        if not any(s <= first and first + self.slot <= e for s, e in ranges):
            return "outside_hours"
        naive_end = local.replace(tzinfo=None, fold=0) + timedelta(minutes=self.slot)
        end = naive_end.replace(tzinfo=self.tz).astimezone(UTC)
        return None if self._bookable(start, end) else "taken"

    def _bookable(self, start: datetime, end_utc: datetime) -> bool:
        begin = _utc(start)
        if begin <= self.now or begin < self.earliest:
            return False
        return not any(begin < b_end and b_start < end_utc for b_start, b_end in self.booked)


def _parse(hours: Hours) -> list[list[tuple[int, int]]]:
    """Minutes since local midnight per weekday (0 = Monday); absent days are closed."""
    unknown = set(hours) - set(DAYS)
    if unknown:
        raise ValueError(f"unknown day {sorted(unknown)[0]!r} in opening hours")
    table = []
    for name in DAYS:
        spec = hours.get(name) or []
        parts = spec.split(",") if isinstance(spec, str) else spec
        ranges = []
        for part in parts:
            if isinstance(spec, str) and part.strip().lower() in ("", "closed"):
                continue
            match = _RANGE.fullmatch(part.strip())
            if not match or int(match[2]) > 59 or int(match[4]) > 59:
                raise ValueError(f"{name}: {part!r} is not a range like 09:00-17:30")
            start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
            if not 0 <= start < end <= 24 * 60:
                raise ValueError(f"{name}: {part!r} must open before it closes, by 24:00")
            ranges.append((start, end))
        table.append(sorted(ranges))
    return table


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return " and ".join(f"{_hhmm(s)}{_DASH}{_hhmm(e)}" for s, e in ranges)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _wall(day: date, minute: int, tz: ZoneInfo) -> datetime | None:
    """The local wall time ``minute`` minutes after midnight of ``day``, None in a DST gap."""
    day, minute = day + timedelta(minute // 1440), minute % 1440
    return localize(day, time(minute // 60, minute % 60), tz)


def _end(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """A slot's end in UTC; a wall time in a DST gap takes the offset from before the change."""
    day, minute = day + timedelta(minute // 1440), minute % 1440
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)

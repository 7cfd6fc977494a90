"""When the team is back, in plain words: for replies given outside opening hours.

Pure: callers pass the weekly hours, the business's time zone, the visitor's (when known)
and ``now``. Rules:

* A workspace without opening hours is never "after hours" (nothing was said about them).
  Closures and holidays are not modelled: the weekly hours are all there is.
* The moment comes from ``opening_hours.next_opening`` (DST gaps and overnight ranges
  included), then is written in the visitor's time zone when we know it, else in the
  business's, named ("tomorrow at 9 am (Halifax time)") so nobody misreads it.
* "today" / "tomorrow" are the reader's days; within the week a weekday ("Monday at 9 am");
  further out the date too ("Monday, March 16 at 9 am").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.core.errors import ValidationError
from agent.core.models import Direction, Message
from agent.core.opening_hours import is_open, next_opening

Hours = Mapping[str, Sequence[str]]
TIMEZONE = "timezone"  # inbound message meta: the visitor's IANA time zone (the widget sends it)
AWAY_MESSAGE = "away_message"  # per-channel setting (channel account settings, widget settings)
AWAY = "away"  # outbound message meta: this is the channel's away message
MAX_AWAY_CHARS = 600


@dataclass(frozen=True)
class Closed:
    """The business is closed at ``now``: when it opens again, and how to say it."""

    back: datetime
    phrase: str  # "tomorrow at 9 am (Halifax time)"


def visitor_zone(name: object) -> ZoneInfo | None:
    """The visitor's time zone from what a browser reported; None when it is not a real one."""
    if not isinstance(name, str) or not 0 < len(name) <= 64 or name.startswith(("/", ".")):
        return None
    if ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def closed(
    now: datetime, hours: Hours, business_tz: ZoneInfo, visitor_tz: ZoneInfo | None = None
) -> Closed | None:
    """None while open, and when no opening hours are set (so never open: nothing to promise);
    otherwise when we are back, in words."""
    if is_open(now, hours, business_tz):
        return None
    back = next_opening(now, hours, business_tz)
    if back is None:
        return None
    return Closed(back, phrase_back(back, now, visitor_tz or business_tz, named=visitor_tz is None))


def phrase_back(back: datetime, now: datetime, tz: ZoneInfo, *, named: bool = False) -> str:
    """ "today at 2 pm", "tomorrow at 9 am", "Monday at 9:30 am", in ``tz``; ``named`` adds
    the zone's place ("(Halifax time)") for a reader who may live elsewhere."""
    local, today = back.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif days < 7:
        day = f"{local:%A}"
    else:
        day = f"{local:%A}, {local:%B} {local.day}"
    text = f"{day} at {clock_words(local)}"
    return f"{text} ({place_name(tz)} time)" if named else text


def clock_words(local: datetime) -> str:
    """ "9 am", "2:30 pm", "noon", "midnight"."""
    if local.minute == 0 and local.hour in (0, 12):
        return "midnight" if local.hour == 0 else "noon"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes} {'am' if local.hour < 12 else 'pm'}"


def place_name(tz: ZoneInfo) -> str:
    """ "America/Halifax" -> "Halifax", "America/Argentina/Buenos_Aires" -> "Buenos Aires"."""
    key = str(tz.key if hasattr(tz, "key") else tz)
    return key.rsplit("/", 1)[-1].replace("_", " ")


def follow_up_note(phrase: str) -> str:
    """The line staff see in the conversation when a visitor asked for a person after hours."""
    back = f"they were told the team is back {phrase}" if phrase else "no opening time was given"
    return f"After hours: the visitor asked for a person; {back}. Please follow up when you open."


def away_text(template: str, phrase: str) -> str:
    """The admin's away message, with ``{back}`` replaced by when we are back."""
    return template.replace("{back}", phrase or "soon").strip()


def zone_of_thread(messages: Iterable[Message]) -> ZoneInfo | None:
    """The visitor's time zone as their newest message that carried one reported it."""
    for message in sorted(messages, key=lambda m: m.id or 0, reverse=True):
        if message.direction == Direction.INBOUND and (message.meta or {}).get(TIMEZONE):
            return visitor_zone(message.meta[TIMEZONE])
    return None


def clean_away_message(value: object) -> str:
    """An admin's away message: plain text up to MAX_AWAY_CHARS ("" turns it off)."""
    if not isinstance(value, str):
        raise ValidationError(AWAY_MESSAGE, "must be text")
    text = value.strip()
    if len(text) > MAX_AWAY_CHARS:
        raise ValidationError(AWAY_MESSAGE, f"must be at most {MAX_AWAY_CHARS} characters")
    return text

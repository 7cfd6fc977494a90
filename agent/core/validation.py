"""Pure input rules shared by every entry point (inbox forms, CLI, channels, agent tools).

Each function returns the normalised value or raises ``ValidationError`` naming the
field, so nothing half-valid ever reaches storage.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import email_validator
import phonenumbers

from agent.core.errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_NAMES = dict(zip(DAYS, _WEEKDAYS, strict=True))  # "mon" -> "Monday", in week order
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_LINK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password123",
        "passw0rd",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "iloveyou1",
        "letmein123",
        "welcome123",
        "admin12345",
        "changeme123",
        "football123",
        "abcdefghij",
        "0987654321",
        "1q2w3e4r5t",
        "qwerty1234",
        "trustno123",
        "sunshine12",
    ]
)


def email(value: str, field: str = "email") -> str:
    """Syntax check only: deliverability would need DNS, which we never assume."""
    value = as_text(value, field).strip()
    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(field, f"{value!r} is not a valid email address ({exc})") from None
    return result.normalized.lower()


def phone(value: str, country: str, field: str = "phone") -> str:
    """Normalise a national or international number to E.164 using the workspace country."""
    raw = as_text(value, field).strip()
    try:
        parsed = phonenumbers.parse(raw, country.upper() or None)
    except phonenumbers.NumberParseException:
        raise ValidationError(field, f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            field, f"{raw!r} is not a valid phone number for {country.upper() or 'any country'}"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_region(number: str) -> str:
    """The country (ISO code) of an E.164 number, "" when unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def timezone(value: str, field: str = "timezone") -> str:
    value = (value or "").strip()
    if value not in available_timezones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                field, f"{value!r} is not a known time zone (use an IANA name like Europe/Paris)"
            ) from None
    return value


def country(value: str, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(field, f"{value!r} is not an ISO 3166 alpha-2 country code")
    return code


def _minutes(hours: str, minutes: str, text: str, field: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ValidationError(field, f"{text!r} has an impossible time")
    return h * 60 + m


def _day_ranges(day: str, spec: Any) -> list[tuple[int, int]]:
    field = f"hours.{day}"
    if spec is None:
        return []
    parts = spec if isinstance(spec, list) else str(spec).split(",")
    if len(parts) == 1 and str(parts[0]).strip().lower() in ("closed", ""):
        return []
    ranges = []
    for part in parts:
        match = _RANGE.match(str(part))
        if not match:
            raise ValidationError(field, f"{part!r} is not a range like 09:00-17:30 or 'closed'")
        start = _minutes(match[1], match[2], part, field)
        end = _minutes(match[3], match[4], part, field)
        if end <= start:
            raise ValidationError(field, f"{part.strip()!r} ends before it starts")
        ranges.append((start, end))
    ranges.sort()
    for (_, prev_end), (start, _) in itertools.pairwise(ranges):
        if start < prev_end:
            raise ValidationError(field, "opening ranges overlap")
    return ranges


def opening_hours(value: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Accept {"mon": "08:00-12:00, 13:00-17:00", "sun": "closed"}; days left out are closed."""
    value = value or {}
    if not isinstance(value, Mapping):
        raise ValidationError("hours", "must map days (mon..sun) to ranges or 'closed'")
    unknown = sorted(set(value) - set(DAYS))
    if unknown:
        raise ValidationError("hours", f"unknown day {unknown[0]!r} (use mon, tue, ... sun)")
    result = {}
    for day in DAYS:
        ranges = _day_ranges(day, value.get(day))
        result[day] = [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in ranges]
    return result


def link(name: str, url: str) -> tuple[str, str]:
    name = (name or "").strip().lower()
    if not _LINK_NAME.match(name):
        raise ValidationError("links", f"{name!r}: link names are lowercase words like 'booking'")
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"links.{name}", f"{url!r} must be an http(s) URL")
    return name, parts.geturl()


def links(value: Mapping[str, str] | None) -> dict[str, str]:
    return dict(link(name, url) for name, url in (value or {}).items())


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(value: str, field: str = "origin") -> str:
    """A website origin as browsers send it: ``scheme://host[:port]``, lowercase, no path."""
    text = str(value or "").strip()
    example = "like https://www.example.com"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError(field, f"{text!r} is not a website address {example}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        raise ValidationError(field, f"{text!r} is not a website address {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValidationError(field, f"{text!r} must be just the site address {example}, no path")
    host = parts.hostname  # urlsplit lowercases it
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def origins(value: Sequence[str] | None, field: str = "origins") -> list[str]:
    """A list of origins, normalised, blank entries dropped, without duplicates."""
    if isinstance(value, str):
        raise ValidationError(field, "must be a list of website addresses")
    result: list[str] = []
    for entry in value or []:
        if str(entry).strip() and (normalised := origin(entry, field)) not in result:
            result.append(normalised)
    return result


# Code points no text may hold: UTF-16 surrogates (Python keeps a lone one, as from
# JSON's "\ud83d", but UTF-8 and so every database refuse it) and noncharacters.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)
# Control characters (C0 but tab and newline, DEL, C1): invisible, and NUL breaks storage.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """Any string made valid text: what every channel's input goes through before storage.

    A surrogate pair written as two code points becomes its character; a lone surrogate
    (half an emoji, as a JavaScript ``slice`` can leave) and a noncharacter (U+FFFE...)
    become U+FFFD; line ends become ``\\n``; NUL and the other control characters except
    tab and newline are removed. Everything else is kept: emoji, right-to-left marks,
    joiners, private use. The result always encodes as UTF-8.
    """
    if _SURROGATE.search(value):
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _NONCHARACTER.sub("\ufffd", _CONTROL.sub("", value))


def clean_data(value: Any) -> Any:
    """JSON-like data (a message's meta) with every string in it made valid, keys too."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(key)): clean_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_data(item) for item in value]
    return value


def as_text(value: object, field: str) -> str:
    """``clean_text`` for input of any type: None is empty, anything but a string refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    return clean_text(value)


def message_body(value: str, limit: int, field: str = "body") -> str:
    text = as_text(value, field).strip()
    if not text:
        raise ValidationError(field, "message is empty")
    if len(text) > limit:
        raise ValidationError(field, f"message is {len(text):,} characters; the limit is {limit:,}")
    return text


def name(value: str, field: str, limit: int = 200, required: bool = False) -> str:
    text = " ".join(as_text(value, field).split())
    if required and not text:
        raise ValidationError(field, "is required")
    if len(text) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return text


def password(value: str, *, email: str = "", workspace: str = "") -> str:
    """Length over composition (NIST 800-63B), plus the guesses attackers try first."""
    value = value or ""
    if len(value) < 10:
        raise ValidationError("password", "must be at least 10 characters long")
    lowered = value.lower()
    if lowered in _COMMON_PASSWORDS or len(set(value)) < 5:
        raise ValidationError("password", "is too easy to guess; use a longer passphrase")
    for word in (email.split("@")[0], workspace):
        word = word.lower().strip()
        if len(word) >= 4 and word in lowered:
            raise ValidationError("password", "must not contain your email name or workspace name")
    return value

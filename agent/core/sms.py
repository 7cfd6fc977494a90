"""SMS rules that are only text: segments, opt-out keywords, short AI replies (pure).

A message goes as GSM-7 when every character is in the GSM 03.38 alphabet (160 per
single message, 153 per part of a longer one; ``^{}\\[~]|€`` and the form feed take two),
otherwise as UCS-2 (70, or 67 per part; a character outside the basic plane, such as an
emoji, takes two). Carriers and Twilio honour STOP, START and HELP and their synonyms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")
STOP_WORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
)
START_WORDS = frozenset({"start", "yes", "unstop", "optin"})
HELP_WORDS = frozenset({"help", "info"})


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets (GSM-7) or 16-bit units (UCS-2)
    parts: int  # messages the carrier bills


def segments(text: str) -> Segments:
    """How a text travels by SMS: its encoding, length in units, and parts."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, part, encoding = 70, 67, "UCS-2"
    parts = 0 if units == 0 else 1 if units <= single else -(-units // part)
    return Segments(encoding, units, parts)


def keyword(text: str) -> str | None:
    """``stop``, ``start`` or ``help`` when the whole message is such a keyword."""
    word = " ".join(re.sub(r"[^\w ]", " ", text.lower()).split())
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def brief(text: str, parts: int = 2) -> str:
    """An AI reply kept to ``parts`` segments when whole sentences allow it: the first
    sentences that fit (the whole text when even the first does not)."""
    if segments(text).parts <= parts:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if segments(candidate).parts > parts:
            break
        kept = candidate
    return kept or text

"""Text as a voice says it (pure): what the AI wrote, made fit to be spoken on a call.

Links, Markdown and list marks go; a URL becomes "our website"; times, prices and a few
symbols are written the way a person says them ("9:00 AM" → "9 AM", "$45.00" → "45
dollars", "&" → "and"). Also: whether the caller is saying goodbye.
"""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]\n]{1,500})\]\((?:https?://)[^\s()]{1,2000}\)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+?(?=[.,;:!?)]*(?:\s|$))")
_EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+)\.([\w.-]+)\b")
_MARKS = re.compile(r"[*_`#>|~]+")
_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s+", re.M)
_ON_THE_HOUR = re.compile(r"\b(\d{1,2}):00\s*([AaPp])\.?\s?[Mm]\b")
_TIME = re.compile(r"\b(\d{1,2}:\d{2})\s*([AaPp])\.?\s?[Mm]\b")
_MONEY = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?")
_GOODBYE = re.compile(
    r"^(?:(?:ok(?:ay)?|no|nope|great|perfect|thanks?|thank you|cheers|that'?s it|"
    r"that'?s all|nothing else|all good|i'?m good|i'?m done|goodbye|good bye|bye)[\s,.!]*)+$",
    re.I,
)


def speakable(text: str) -> str:
    """The reply as it should be spoken."""
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _URL.sub("our website", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)} at {m.group(2)} dot {m.group(3)}", text)
    text = _BULLET.sub("", text)
    text = _MARKS.sub("", text)
    text = _ON_THE_HOUR.sub(lambda m: f"{int(m.group(1))} {m.group(2).upper()}M", text)
    text = _TIME.sub(lambda m: f"{m.group(1)} {m.group(2).upper()}M", text)
    text = _MONEY.sub(_money, text)
    text = text.replace("&", " and ").replace("%", " percent")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    spoken = " ".join(line if line[-1] in ".!?:," else f"{line}." for line in lines)
    return " ".join(spoken.split())


def _money(match: re.Match[str]) -> str:
    dollars, cents = match.group(1).replace(",", ""), match.group(2)
    said = f"{int(dollars):,} dollar{'s' if dollars != '1' else ''}"
    if cents and cents != "00":
        said += f" and {int(cents)} cents"
    return said


def says_goodbye(text: str) -> bool:
    """Whether the caller is done ("no thanks, that's all", "bye")."""
    return bool(_GOODBYE.match(" ".join(text.strip().split())))

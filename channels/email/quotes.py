"""What the customer actually wrote: quoted history and signatures stripped.

The AI should answer the new message, not the whole thread beneath it (nor the previous
answer it would otherwise quote back). The full text is kept elsewhere; this only trims.
"""

from __future__ import annotations

import re

# "On Tue, 3 Dec 2026 at 09:12, Ann <ann@example.com> wrote:" and its translations;
# clients wrap it over two or three lines, so it is matched on joined lines.
_ATTRIBUTION = re.compile(
    r"^(?:on\b.{0,400}\bwrote|le\b.{0,400}\ba écrit|el\b.{0,400}\bescribió"
    r"|am\b.{0,400}\bschrieb\b.{0,300}|op\b.{0,400}\bschreef|il\b.{0,400}\bha scritto)\s*:$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(
    r"^(?:-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine"
    r"|mensaje original)\s*-{2,}|_{10,})$",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(r"^\*?(from|de|von|sent|date|envoyé|enviado|gesendet|to|à|para|an"
                          r"|subject|objet|asunto|betreff|cc)\s*:\*?\s", re.IGNORECASE)  # fmt: skip
_FORWARDED = re.compile(
    r"^(?:-+\s*forwarded message\s*-+|begin forwarded message:|-+\s*message transféré\s*-+"
    r"|-+\s*mensaje reenviado\s*-+)$",
    re.IGNORECASE,
)  # a forward is content the customer wants read, not history
_FROM_LINE = re.compile(r"^\*?(from|de|von)\s*:", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\*?(sent|date|envoyé|enviado|gesendet)\s*:", re.IGNORECASE)
_MOBILE_SIGNATURE = re.compile(
    r"^(?:sent from my \w[\w ]{0,30}|sent from (?:outlook|mail|yahoo mail|gmail)\b.{0,40}"
    r"|get outlook for (?:ios|android)|envoyé de mon \w+|enviado desde mi \w+"
    r"|von meinem \w+ gesendet)\.?$",
    re.IGNORECASE,
)


def strip_quotes(text: str) -> str:
    """The text above the first quoted-history marker, without any remaining ``>`` lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _history_start(lines)
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def strip_signature(text: str) -> str:
    """The text above a ``-- `` delimiter or a "Sent from my iPhone" line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() == "--" or _MOBILE_SIGNATURE.match(line.strip()):
            return "\n".join(lines[:i]).strip()
    return text.strip()


def reply_text(text: str) -> str:
    """What the AI reads; falls back to the whole text when nothing new is left."""
    new = strip_signature(strip_quotes(text))
    return new or strip_signature(text) or text.strip()


def _history_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _FORWARDED.match(stripped):
            return len(lines)
        if _SEPARATORS.match(stripped):
            return i
        for end in range(3):
            candidate = " ".join(p.strip() for p in lines[i : i + end + 1])
            if _ATTRIBUTION.match(candidate) and len(candidate) < 500:
                return i
        if _FROM_LINE.match(stripped) and _outlook_block(lines, i):
            return i
    return len(lines)


def _outlook_block(lines: list[str], start: int) -> bool:
    """``From:`` followed by a ``Sent:``/``Date:`` and another header: Outlook's quote."""
    following = [line.strip() for line in lines[start + 1 : start + 6] if line.strip()]
    headers = [line for line in following[:4] if _HEADER_LINE.match(line)]
    return len(headers) >= 2 and any(_SENT_LINE.match(line) for line in headers)

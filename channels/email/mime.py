"""MIME plumbing shared by the email modules: tolerant parsing, headers, bodies, charsets.

Parsed with ``email.policy.default`` (RFC 2047 headers decoded); bodies are decoded here
so an unknown or lying charset degrades to replacement characters, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from channels.email.html_text import html_to_text

_C1 = re.compile("[\x80-\x9f]")
# Labels that in practice mean windows-1252 (WHATWG), whose 0x80-0x9F are printable.
_CP1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}


class _Headers(HeaderRegistry):
    """policy.default's header registry, without building a new header class per lookup
    (the stock registry calls ``type()`` on every header read)."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]


# email.policy.default, same header classes and rules; only the class lookup is cached.
POLICY = policy.default.clone(header_factory=_Headers())


class MalformedEmail(ValueError):
    """The bytes are not a mail we can read; the message says why."""


def read_message(raw: bytes) -> EmailMessage:
    """The ``EmailMessage`` of raw bytes (for modules that need the MIME tree)."""
    if not isinstance(raw, bytes | bytearray):
        raise MalformedEmail(f"expected bytes, got {type(raw).__name__}")
    if not raw.strip():
        raise MalformedEmail("the message is empty")
    try:
        message = BytesParser(policy=POLICY).parsebytes(bytes(raw))
    except Exception as error:  # the parser is lenient; this is the truly unreadable
        raise MalformedEmail(f"unreadable message: {error}") from error
    if not message.keys():
        raise MalformedEmail("the message has no headers")
    return message  # type: ignore[return-value]


def header(message: Message, name: str) -> str | None:
    """A header's decoded value (RFC 2047 words decoded), or None; never raises."""
    try:
        value = message.get(name)
    except Exception:  # a header the structured parser chokes on: fall back to raw
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    if value is None:
        return None
    return " ".join(c1_to_cp1252(str(value)).split())


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs of an address header, invalid entries skipped."""
    pairs: list[tuple[str, str]] = []
    try:
        for value in message.get_all(name) or []:
            for address in getattr(value, "addresses", ()):
                if isinstance(address, Address) and address.username and address.domain:
                    pairs.append((address.display_name, normal_address(address.addr_spec)))
    except Exception:
        pairs = []
    if pairs:
        return pairs
    raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
    return [
        (display, normal_address(addr))
        for display, addr in getaddresses([str(v) for v in raw])
        if "@" in addr
    ]


def normal_address(address: str) -> str:
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class Leaf:
    """A non-multipart part with its type and disposition read once (header parsing under
    ``policy.default`` is costly, and the body and attachment passes both need them)."""

    part: Message
    content_type: str
    disposition: str | None


def leaves(message: Message) -> list[Leaf]:
    """Every leaf part in order; an attached mail (message/rfc822) is one leaf."""
    content_type = message.get_content_type()
    if content_type != "message/rfc822" and message.is_multipart():
        children = message.get_payload()
        return [leaf for c in children if isinstance(c, Message) for leaf in leaves(c)]
    try:
        disposition = message.get_content_disposition()
    except Exception:
        disposition = None
    return [Leaf(message, content_type, disposition)]


def body_parts(found: list[Leaf]) -> tuple[Message | None, Message | None]:
    """The first inline text/plain and text/html parts: the body, not attachments."""
    plain = next((f.part for f in found if _inline(f, "text/plain")), None)
    html = next((f.part for f in found if _inline(f, "text/html")), None)
    if plain is None and html is None and len(found) == 1:
        if found[0].content_type == "text/plain":  # a lone text part marked as attachment
            plain = found[0].part
        elif found[0].content_type == "text/html":
            html = found[0].part
    return plain, html


def _inline(leaf: Leaf, content_type: str) -> bool:
    return leaf.content_type == content_type and leaf.disposition != "attachment"


def body(
    message: Message, parts: tuple[Message | None, Message | None] | None = None
) -> tuple[str, str | None]:
    """``(text, html)``: text/plain preferred, else the HTML reduced to safe text."""
    plain, html_part = parts or body_parts(leaves(message))
    html = decode_text(html_part) if html_part is not None else None
    text = decode_text(plain) if plain is not None else ""
    if not text.strip() and html is not None:
        text = html_to_text(html)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n"), html


def decode_text(part: Message) -> str:
    """A text part's content in its declared charset, with replacements for bad bytes."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, str):
        return payload
    if not payload:
        return ""
    charset = (part.get_content_charset() or "utf-8").lower()
    if charset in _CP1252_ALIASES:
        charset = "cp1252"
    try:
        return c1_to_cp1252(payload.decode(charset, errors="replace"))
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")


def c1_to_cp1252(text: str) -> str:
    """C1 control characters read as the windows-1252 punctuation they almost always are
    (mail labelled ISO-8859-1 that is really windows-1252: curly quotes, dashes, €)."""
    if not _C1.search(text):
        return text
    return _C1.sub(lambda m: bytes([ord(m[0])]).decode("cp1252", errors="ignore"), text)

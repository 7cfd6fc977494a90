"""Files that came with a mail: listed with safe names, size-limited before storing."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from channels.email.mime import Leaf, body_parts, header, leaves

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """A file that came with the mail; ``data`` is None when it was over the size limit."""

    filename: str
    content_type: str
    size: int
    data: bytes | None
    note: str | None = None  # why ``data`` is missing

    @property
    def omitted(self) -> bool:
        return self.data is None


def attachments(
    message: Message,
    limit: int = MAX_ATTACHMENT_BYTES,
    found: list[Leaf] | None = None,
) -> list[Attachment]:
    """Every attached file (forwarded mails included), over-limit ones without their bytes.

    ``found`` are the message's leaves when the caller already has them (``mime.leaves``).
    """
    found = leaves(message) if found is None else found
    skip = {id(p) for p in body_parts(found) if p is not None}
    files: list[Attachment] = []
    for leaf in found:
        part, kind = leaf.part, leaf.content_type
        if id(part) in skip:
            continue
        filename = _filename(part)
        if leaf.disposition != "attachment" and not filename and kind.startswith("text/"):
            continue  # an extra inline text part, not a file
        if kind == "message/rfc822":
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
            subject = header(inner[0], "Subject") if isinstance(inner, list) and inner else None
            filename = filename or _safe_name(f"{subject}.eml" if subject else "")
        else:
            data = part.get_payload(decode=True) or b""
        name = filename or f"attachment{len(files) + 1}{_extension(kind)}"
        if len(data) > limit:
            note = f"{name} is {_size(len(data))}, over the {_size(limit)} limit; not stored"
            files.append(Attachment(name, kind, len(data), None, note))
        else:
            files.append(Attachment(name, kind, len(data), bytes(data)))
    return files


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return _safe_name(name)


def _safe_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # never a path
    return "".join(ch for ch in name if ch.isprintable()).strip(" .")[:200]


def _extension(kind: str) -> str:
    return {"message/rfc822": ".eml", "text/calendar": ".ics", "text/plain": ".txt"}.get(kind, "")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"

"""Delivery Status Notifications (RFC 3464): which of our mails failed, and why.

A bounce arrives as a new mail from MAILER-DAEMON. Read properly it names the failed
recipient, the status and the diagnostic, and carries the headers of our original, whose
Message-ID ties it to the outbound message to mark failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

from channels.email.mime import MalformedEmail, read_message

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Bounce:
    """A permanent delivery failure of one of the Message-IDs we sent."""

    message_ids: tuple[str, ...]  # the original's Message-ID (with brackets), when found
    recipients: tuple[str, ...]
    status: str | None  # e.g. "5.1.1"
    reason: str  # the remote server's diagnostic, else a description of the status


def read_bounce(mail: bytes | EmailMessage) -> Bounce | None:
    """The failure a DSN reports; None for any other mail, or for delays and successes."""
    try:
        message = read_message(mail) if isinstance(mail, bytes | bytearray) else mail
    except MalformedEmail:
        return None
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    parts = list(message.walk())
    kinds = [p.get_content_type() for p in parts]
    if "message/delivery-status" not in kinds:
        return None
    status_part = parts[kinds.index("message/delivery-status")]
    per_message, per_recipient = _fields(status_part)
    failed = [r for r in per_recipient if r.get("action", "").lower() == "failed"]
    if not failed:
        return None
    ids = _ids(per_message.get("original-message-id", "")) + _returned_ids(parts)
    return Bounce(
        message_ids=tuple(dict.fromkeys(ids)),
        recipients=tuple(
            _address(r.get("final-recipient") or r.get("original-recipient", "")) for r in failed
        ),
        status=_status(failed[0].get("status", "")),
        reason=_reason(failed[0]),
    )


def _fields(part: Message) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The per-message field block and one block per recipient."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                blocks.append({k.lower(): " ".join(str(v).split()) for k, v in block.items()})
    elif isinstance(payload, str):
        for chunk in re.split(r"\r?\n\s*\r?\n", payload.strip()):
            headers = HeaderParser().parsestr(chunk)
            blocks.append({k.lower(): " ".join(str(v).split()) for k, v in headers.items()})
    blocks = [b for b in blocks if b]
    if not blocks:
        return {}, []
    first = blocks[0]
    if "final-recipient" in first or "action" in first:
        return {}, blocks
    return first, blocks[1:]


def _returned_ids(parts: list[Message]) -> list[str]:
    """Message-IDs from the returned original (full message or its headers only)."""
    ids: list[str] = []
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            for message in inner if isinstance(inner, list) else []:
                ids += _ids(str(message.get("Message-ID", "")))
        elif kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True) or b""
            headers = HeaderParser().parsestr(raw.decode("utf-8", errors="replace"))
            ids += _ids(str(headers.get("Message-ID", "")))
    return ids


def _ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)


def _address(value: str) -> str:
    """``rfc822; ann@example.com`` → ``ann@example.com``."""
    return value.split(";", 1)[-1].strip().strip("<>")


def _status(value: str) -> str | None:
    match = re.search(r"\b[245]\.\d{1,3}\.\d{1,3}\b", value)
    return match[0] if match else None


def _reason(fields: dict[str, str]) -> str:
    diagnostic = fields.get("diagnostic-code", "")
    if diagnostic:
        return diagnostic.split(";", 1)[-1].strip() if ";" in diagnostic else diagnostic
    status = _status(fields.get("status", ""))
    return {
        "5.1.1": "the mailbox does not exist",
        "5.1.2": "the recipient's domain does not exist",
        "5.2.2": "the mailbox is full",
        "5.7.1": "the recipient's server refused the message",
    }.get(status or "", f"delivery failed (status {status or 'unknown'})")

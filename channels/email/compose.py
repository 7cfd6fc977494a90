"""The outbound mail: identity, threading headers, loop markers and a plain body.

From carries the business (or "Staff Name at Business") and its public address;
Reply-To carries the conversation token (see ``addresses``); In-Reply-To/References
thread it under the customer's mail; AI replies say ``Auto-Submitted: auto-replied``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formatdate

from channels.email.addresses import split_address
from channels.email.parse import ParsedEmail

MAX_REFERENCES = 20
_LINK = re.compile(r"\[([^\]\n]+)\]\((\S+?)\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_URL = re.compile(r"https?://[^\s<>()]+[^\s<>().,;:!?]")
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw|r)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)


def plain_links(text: str) -> str:
    """Markdown links as ``text (url)`` (or the bare url when the text is the url)."""

    def link(match: re.Match[str]) -> str:
        label, url = match[1].strip(), match[2].strip()
        return url if label in (url, url.split("://", 1)[-1]) else f"{label} ({url})"

    return _AUTOLINK.sub(r"\1", _LINK.sub(link, text))


def reply_subject(subject: str | None, *, fallback: str = "Your message") -> str:
    """``Re: <subject>`` with exactly one prefix, whatever the customer's client added."""
    subject = " ".join((subject or "").split())
    while _REPLY_PREFIX.match(subject):
        subject = _REPLY_PREFIX.sub("", subject, count=1)
    return f"Re: {subject or fallback}"


def sender_name(business_name: str, staff_name: str | None = None) -> str:
    """The From display name: the business, or "Sam at Bayview Plumbing" for staff."""
    business = _one_line(business_name)
    staff = _one_line(staff_name or "")
    return f"{staff} at {business}" if staff and business else staff or business


def reply_target(email: ParsedEmail) -> str:
    """Where an answer goes: the customer's Reply-To when given, else their From."""
    return email.reply_to[0] if email.reply_to else email.from_address


def thread_references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """References for our reply: theirs plus the mail we answer, first and newest kept."""
    ids = [i for i in references if i]
    if in_reply_to and in_reply_to not in ids:
        ids.append(in_reply_to)
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return ids


def build_email(
    *,
    from_name: str,
    from_address: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_reply: bool = False,
    html_alternative: bool = False,
    date: datetime | None = None,
) -> EmailMessage:
    """The message to hand to the SMTP sender (body is Markdown-ish text from the agent)."""
    message = EmailMessage()
    message["From"] = _address(from_name, from_address)
    message["To"] = to if "<" in to else _address("", to)
    if reply_to:
        message["Reply-To"] = _address(from_name, reply_to)
    message["Subject"] = _one_line(subject)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date) if date is not None else formatdate()
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    refs = thread_references(references, in_reply_to)
    if refs:
        message["References"] = " ".join(refs)
    if auto_reply:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"  # no out-of-office answers to our answer
    text = plain_links(body).strip() + "\n"
    message.set_content(text, cte="quoted-printable" if not text.isascii() else "7bit")
    if html_alternative:
        message.add_alternative(_html(body), subtype="html")
    return message


def _address(name: str, address: str) -> Address:
    local, domain = split_address(address)
    return Address(display_name=_one_line(name), username=local, domain=domain)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _html(body: str) -> str:
    """A simple HTML rendering: escaped paragraphs with real links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body.strip()):
        parts, last = [], 0
        for match in _LINK.finditer(block):
            parts.append(_linkify(html.escape(block[last : match.start()])))
            if match[2].lower().startswith(("https://", "http://", "mailto:")):
                url = html.escape(match[2], quote=True)
                parts.append(f'<a href="{url}">{html.escape(match[1])}</a>')
            else:  # never a javascript: or data: link
                parts.append(html.escape(f"{match[1]} ({match[2]})"))
            last = match.end()
        parts.append(_linkify(html.escape(block[last:])))
        paragraphs.append("<p>" + "".join(parts).replace("\n", "<br>\n") + "</p>")
    return "<!DOCTYPE html>\n<html><body>\n" + "\n".join(paragraphs) + "\n</body></html>\n"


def _linkify(escaped: str) -> str:
    return _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)

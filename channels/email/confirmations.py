"""Gmail's and Outlook's "confirm forwarding" mails, recognised for the admin.

When a business forwards its public address to our inbound address, the mail provider
first sends a confirmation there. Nobody reads that mailbox, so we surface the code and
link on the channel card, and the AI never answers it. Links are only offered when they
are https on the provider's own hosts: anyone can send a mail that looks like this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from channels.email.parse import ParsedEmail

GMAIL_SENDER = "forwarding-noreply@google.com"
_GMAIL_SUBJECT = re.compile(
    r"forwarding confirmation\s*-\s*receive (?:mail|e-?mails?) from\s+(\S+@\S+)", re.IGNORECASE
)
_GMAIL_CODE = re.compile(r"confirmation code:?\s*(\d{6,12})", re.IGNORECASE)
_SUBJECT_CODE = re.compile(r"\(#(\d{6,12})\)")
_REQUESTER = re.compile(r"(\S+@\S+?)\s+has requested to automatically forward mail", re.I)
_GMAIL_HOSTS = {"mail-settings.google.com", "mail.google.com"}

_MICROSOFT_DOMAINS = (
    "microsoft.com", "outlook.com", "live.com", "hotmail.com", "office365.com",
    "microsoftonline.com", "office.com",
)  # fmt: skip
_MICROSOFT_LINK_HOSTS = ("live.com", "microsoft.com", "office.com", "outlook.com", "office365.com")
_OUTLOOK_TOPIC = re.compile(r"forward", re.IGNORECASE)
_OUTLOOK_CODE = re.compile(r"\bcode\s*:\s*([A-Za-z0-9-]{4,16})\b", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass(frozen=True)
class ForwardingConfirmation:
    """What the admin needs to finish setting up forwarding."""

    provider: str  # "gmail" | "outlook"
    code: str | None
    link: str | None  # https on the provider's host only; None otherwise
    requested_by: str | None  # the address being forwarded, when the mail says


def find_confirmation(email: ParsedEmail) -> ForwardingConfirmation | None:
    """The forwarding confirmation this mail is, or None for any other mail."""
    return _gmail(email) or _outlook(email)


def _gmail(email: ParsedEmail) -> ForwardingConfirmation | None:
    if email.from_address.lower() != GMAIL_SENDER:
        return None
    subject = _GMAIL_SUBJECT.search(email.subject)  # English; other languages have the link
    text = f"{email.subject}\n{email.text}"
    code = _GMAIL_CODE.search(text) or _SUBJECT_CODE.search(email.subject)
    requester = _REQUESTER.search(email.text)
    link = next(
        (
            url
            for url in _links(email)
            if _host(url) in _GMAIL_HOSTS and urlsplit(url).path.startswith("/mail/vf-")
        ),
        None,
    )  # "uf-" links cancel the request: never offered
    if not (subject or link):
        return None
    requested_by = requester[1] if requester else subject[1] if subject else None
    return ForwardingConfirmation(
        provider="gmail",
        code=code[1] if code else None,
        link=link,
        requested_by=requested_by.strip(".,;<>").lower() if requested_by else None,
    )


def _outlook(email: ParsedEmail) -> ForwardingConfirmation | None:
    domain = email.from_address.lower().rsplit("@", 1)[-1]
    if not _within(domain, _MICROSOFT_DOMAINS) or not _OUTLOOK_TOPIC.search(email.subject):
        return None
    code = _OUTLOOK_CODE.search(email.text)
    link = next((url for url in _links(email) if _within(_host(url), _MICROSOFT_LINK_HOSTS)), None)
    if not code and not link:
        return None
    requester = re.search(r"forward (?:mail|messages|email) from\s+(\S+@\S+)", email.text)
    return ForwardingConfirmation(
        provider="outlook",
        code=code[1] if code else None,
        link=link,
        requested_by=requester[1].strip(".,;<>").lower() if requester else None,
    )


def _links(email: ParsedEmail) -> list[str]:
    found = _URL.findall(email.text)
    if email.html:
        found += re.findall(r'href="(https?://[^"]+)"', email.html)
    cleaned = [url.rstrip(".,;").replace("&amp;", "&") for url in found]
    return [url for url in cleaned if url.startswith("https://")]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _within(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)

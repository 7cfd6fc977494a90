"""Spam: who is blocked or known good, and the simple signals that flag obvious spam.

Pure rules, no I/O: the conversation service gathers the facts (the message, its sender,
the thread's earlier messages, the workspace's sender rules) and stores the verdict.

A sender is judged in this order, first match wins:

1. blocked by staff (the contact, their exact email address or phone number): spam;
2. known good (staff released one of their messages): never flagged automatically;
3. blocked by email domain: spam;
4. the automatic signals below, each a plain fact a person can check from the reason:

- ``link_flood``: three or more links in one message. Customers send one link (a
  booking page, a photo); bulk senders paste lists of them.
- ``phrases``: two different known spam phrases (``data/spam_phrases.txt``: SEO pitches,
  prizes, crypto, loans...), or one of them together with a link.
- ``repeated``: the same text of at least 40 characters already sent twice in the
  thread. Short follow-ups ("hello?", "anyone there?") are never counted.
- ``disposable``: an email from a throwaway-address domain (``data/disposable_domains.txt``).
- ``shortcode``: a text from an SMS short code or a letters-only sender id (bulk
  marketing and automated senders; a person texts from a full phone number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from agent.core.models import Channel, SenderRule, SenderRuleKind, SenderVerdict

LINK_FLOOD = 3  # links in one message
REPEAT_MIN_CHARS = 40  # shorter repeats are follow-ups, not spam
REPEAT_PRIOR = 2  # copies already in the thread

_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_SHORTCODE = re.compile(r"\d{3,6}")
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ._-]{2,11}")


@dataclass(frozen=True)
class Candidate:
    """An inbound message as the rules see it. ``sender_phone`` is what the provider gave,
    before normalisation (a short code is not a phone number)."""

    body: str
    channel: str
    sender_email: str = ""
    sender_phone: str = ""
    earlier: Sequence[str] = field(default_factory=tuple)  # the thread's inbound bodies


@dataclass(frozen=True)
class Verdict:
    signal: str  # blocked | link_flood | phrases | repeated | disposable | shortcode
    reason: str  # shown to staff in the Spam view


@cache
def _lines(name: str) -> tuple[str, ...]:
    text = resources.files("agent.core").joinpath("data", name).read_text("utf-8")
    rows = (line.strip().lower() for line in text.splitlines())
    return tuple(row for row in rows if row and not row.startswith("#"))


def disposable_domains() -> frozenset[str]:
    return frozenset(_lines("disposable_domains.txt"))


def known_phrases() -> tuple[str, ...]:
    return _lines("spam_phrases.txt")


@cache
def _phrase_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    def pattern(phrase: str) -> re.Pattern[str]:
        start = r"\b" if phrase[0].isalnum() else ""
        end = r"\b" if phrase[-1].isalnum() else ""
        return re.compile(start + re.escape(phrase) + end, re.IGNORECASE)

    return tuple((phrase, pattern(phrase)) for phrase in known_phrases())


@cache
def _any_phrase() -> re.Pattern[str]:
    """Every phrase in one pattern: most messages contain none, and one search says so."""
    either = "|".join(f"(?:{pattern.pattern})" for _, pattern in _phrase_patterns())
    return re.compile(either, re.IGNORECASE)


def links(body: str) -> list[str]:
    return _LINK.findall(body)


def spam_phrases(body: str) -> list[str]:
    """The distinct known spam phrases in the text, in list order."""
    if not _any_phrase().search(body):
        return []
    return [phrase for phrase, pattern in _phrase_patterns() if pattern.search(body)]


def email_domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower().rstrip(".")


def is_disposable(address: str) -> bool:
    domain = email_domain(address)
    found = disposable_domains()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in found for i in range(len(parts) - 1))


def is_bulk_sms_sender(sender: str) -> bool:
    """A short code (3 to 6 digits) or an alphanumeric sender id, not a person's number."""
    sender = sender.strip()
    return bool(_SHORTCODE.fullmatch(sender) or _SENDER_ID.fullmatch(sender))


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def detect(candidate: Candidate) -> Verdict | None:
    """The first automatic signal the message shows, or None when it looks like a person."""
    body = candidate.body
    email = candidate.sender_email
    if candidate.channel == Channel.EMAIL and email and is_disposable(email):
        domain = email_domain(email)
        return Verdict("disposable", f"sent from a throwaway email domain ({domain})")
    if candidate.channel == Channel.SMS and is_bulk_sms_sender(candidate.sender_phone):
        return Verdict(
            "shortcode", f"texted from a short code or sender id ({candidate.sender_phone})"
        )
    found_links = links(body)
    if len(found_links) >= LINK_FLOOD:
        return Verdict("link_flood", f"{len(found_links)} links in one message")
    phrases = spam_phrases(body)
    if len(phrases) >= 2 or (phrases and found_links):
        shown = ", ".join(f"“{p}”" for p in phrases[:3])
        extra = " and a link" if len(phrases) < 2 else ""
        return Verdict("phrases", f"known spam phrases: {shown}{extra}")
    text = _normal(body)
    if len(text) >= REPEAT_MIN_CHARS:
        copies = sum(1 for earlier in candidate.earlier if _normal(earlier) == text)
        if copies >= REPEAT_PRIOR:
            return Verdict("repeated", f"the same message sent {copies + 1} times")
    return None


# -- who is blocked or known good ---------------------------------------------------


def sender_keys(contact_id: int | None, email: str, phone: str) -> list[tuple[str, str]]:
    """What a sender may be listed by: (kind, value) pairs, exact ones first."""
    keys: list[tuple[str, str]] = []
    if contact_id is not None:
        keys.append((SenderRuleKind.CONTACT, str(contact_id)))
    if email:
        keys.append((SenderRuleKind.EMAIL, email.strip().lower()))
    if phone:
        keys.append((SenderRuleKind.PHONE, phone.strip()))
    if email and email_domain(email):
        keys.append((SenderRuleKind.DOMAIN, email_domain(email)))
    return keys


def judge(rules: Iterable[SenderRule], candidate: Candidate) -> Verdict | None:
    """The sender rules first (see the module docstring for the order), then detection."""
    rules = list(rules)
    exact = [r for r in rules if r.kind != SenderRuleKind.DOMAIN]
    for rule in exact:
        if rule.verdict == SenderVerdict.BLOCKED:
            return Verdict("blocked", f"blocked sender ({rule_label(rule)})")
    if any(r.verdict == SenderVerdict.GOOD for r in rules):
        return None
    for rule in rules:
        if rule.kind == SenderRuleKind.DOMAIN and rule.verdict == SenderVerdict.BLOCKED:
            return Verdict("blocked", f"blocked sender ({rule_label(rule)})")
    return detect(candidate)


def rule_label(rule: SenderRule) -> str:
    """How staff read a rule: "email a@b.com", "domain b.com", "contact #4"."""
    if rule.kind == SenderRuleKind.CONTACT:
        return f"contact #{rule.value}"
    return f"{rule.kind} {rule.value}"

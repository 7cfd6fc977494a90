"""Automation rules, pure: the triggers, each condition and action checked, judged and put
into words. The service (``agent.core.automations``) reads the facts and does the actions.

A condition or an action is a small dict with a ``kind``; what an admin saves is checked
here once (``clean_rule``), so the service can trust what it reads back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.core import validation
from agent.core.errors import ValidationError
from agent.core.models import Channel

UNANSWERED = "conversation.unanswered"
# trigger -> what an admin reads. The others are the outgoing webhooks' event names.
TRIGGERS = {
    "message.received": "A customer sends a message",
    "conversation.created": "A conversation starts",
    "lead.captured": "A new lead is captured",
    "appointment.booked": "An appointment is booked",
    "appointment.cancelled": "An appointment is cancelled",
    "handoff.requested": "The AI hands a conversation to the team",
    "conversation.closed": "A conversation is closed",
    UNANSWERED: "No reply to a customer for N minutes",
}
MAX_WAIT_MINUTES = 7 * 24 * 60
MAX_NAME = 120
MAX_TEXT = 2000  # a template, an email body
MAX_PATTERN = 200
MAX_WORDS = 20
MAX_SMS_NUMBERS = 5
SCANNED_CHARS = 10_000  # of a message, for keywords and patterns

CHANNELS = tuple(c.value for c in Channel)
TEAM, CONTACT = "team", "contact"
# A group that repeats and holds a repeat, like (a+)+: the patterns that can take forever.
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")


@dataclass(frozen=True)
class Facts:
    """What the conditions look at, read when the event is handled."""

    channel: str = ""
    open_now: bool = False
    text: str = ""  # the customer's message (the event's, or their latest)
    email: str = ""
    phone: str = ""
    tags: tuple[str, ...] = ()
    mode: str = ""
    assignee_id: int | None = None
    values: Mapping[str, str] = field(default_factory=dict)  # for {placeholders}


# -- checking what an admin saves ---------------------------------------------------------


def tag(value: object, field_name: str = "tag") -> str:
    text = " ".join(validation.as_text(value, field_name).split()).lower()
    if not _TAG.match(text):
        raise ValidationError(
            field_name, "use up to 40 letters, digits, spaces, - or _ (like: lead, vip)"
        )
    return text


def pattern(value: object) -> str:
    text = validation.as_text(value, "pattern").strip()
    if not text:
        raise ValidationError("pattern", "enter a regular expression")
    if len(text) > MAX_PATTERN:
        raise ValidationError("pattern", f"is longer than {MAX_PATTERN} characters")
    try:
        re.compile(text)
    except re.error as exc:
        raise ValidationError("pattern", f"is not a regular expression: {exc}") from None
    if _NESTED_REPEAT.search(text):
        raise ValidationError(
            "pattern", "a repeated group that itself repeats, like (a+)+, can take forever"
        )
    return text


def _words(value: object) -> list[str]:
    raw = value.split(",") if isinstance(value, str) else list(value or [])
    words = list(dict.fromkeys(" ".join(str(w).split()).lower() for w in raw if str(w).strip()))
    if not words:
        raise ValidationError("keywords", "enter at least one word")
    if len(words) > MAX_WORDS or any(len(w) > 60 for w in words):
        raise ValidationError("keywords", f"use up to {MAX_WORDS} words of 60 characters")
    return words


def _member(value: object, members: Iterable[int], field_name: str) -> int:
    try:
        member_id = int(str(value))
    except ValueError:
        raise ValidationError(field_name, "choose a team member") from None
    if member_id not in set(members):
        raise ValidationError(field_name, "is not a member of the team")
    return member_id


def _text(value: object, field_name: str, *, required: bool = True) -> str:
    text = validation.clean_text(validation.as_text(value, field_name)).strip()
    if required and not text:
        raise ValidationError(field_name, "enter the text to send")
    if len(text) > MAX_TEXT:
        raise ValidationError(field_name, f"is longer than {MAX_TEXT} characters")
    return text


def clean_condition(raw: Mapping[str, Any], *, members: Iterable[int]) -> dict[str, Any]:
    kind = str(raw.get("kind") or "")
    if kind == "channel":
        chosen = [str(c) for c in raw.get("channels") or []]
        if not chosen or any(c not in CHANNELS for c in chosen):
            raise ValidationError("channels", f"choose from {', '.join(CHANNELS)}")
        return {"kind": kind, "channels": sorted(set(chosen))}
    if kind == "hours":
        if raw.get("when") not in ("open", "closed"):
            raise ValidationError("hours", "choose open or closed")
        return {"kind": kind, "when": raw["when"]}
    if kind == "keywords":
        return {"kind": kind, "words": _words(raw.get("words"))}
    if kind == "regex":
        return {"kind": kind, "pattern": pattern(raw.get("pattern"))}
    if kind == "contact":
        if raw.get("field") not in ("email", "phone"):
            raise ValidationError("contact", "choose email or phone")
        return {"kind": kind, "field": raw["field"], "present": bool(raw.get("present", True))}
    if kind == "tag":
        return {"kind": kind, "tag": tag(raw.get("tag")), "present": bool(raw.get("present", True))}
    if kind == "mode":
        if raw.get("mode") not in ("ai", "human"):
            raise ValidationError("mode", "choose AI or human")
        return {"kind": kind, "mode": raw["mode"]}
    if kind == "assignee":
        value = raw.get("member_id")
        if value in (None, "", "none"):
            return {"kind": kind, "member_id": None}
        return {"kind": kind, "member_id": _member(value, members, "assignee")}
    raise ValidationError("conditions", f"{kind!r} is not a condition")


def clean_action(
    raw: Mapping[str, Any],
    *,
    members: Iterable[int],
    templates: Iterable[int],
    endpoints: Iterable[int],
    country: str,
) -> dict[str, Any]:
    kind = str(raw.get("kind") or "")
    if kind == "assign":
        return {"kind": kind, "member_id": _member(raw.get("member_id"), members, "assign")}
    if kind == "tag":
        return {"kind": kind, "tag": tag(raw.get("tag"))}
    if kind in ("close", "handoff"):
        return {"kind": kind}
    if kind == "template":
        template_id = int(str(raw.get("template_id") or 0) or 0)
        if template_id not in set(templates):
            raise ValidationError("template", "choose one of the saved replies")
        return {"kind": kind, "template_id": template_id}
    if kind in ("email", "sms"):
        to = raw.get("to")
        if to not in (TEAM, CONTACT):
            raise ValidationError(kind, "send it to the team or to the contact")
        action: dict[str, Any] = {"kind": kind, "to": to, "body": _text(raw.get("body"), kind)}
        if kind == "email":
            subject = _text(raw.get("subject"), "subject", required=False)
            action["subject"] = subject[:200] or "A message from your automation"
        elif to == TEAM:
            numbers = raw.get("numbers") or []
            numbers = numbers.split(",") if isinstance(numbers, str) else list(numbers)
            cleaned = [validation.phone(n, country, "numbers") for n in numbers if str(n).strip()]
            if not cleaned or len(cleaned) > MAX_SMS_NUMBERS:
                raise ValidationError(
                    "numbers", f"enter 1 to {MAX_SMS_NUMBERS} phone numbers of the team"
                )
            action["numbers"] = list(dict.fromkeys(cleaned))
        return action
    if kind == "webhook":
        endpoint_id = int(str(raw.get("endpoint_id") or 0) or 0)
        if endpoint_id not in set(endpoints):
            raise ValidationError("webhook", "choose one of the webhook endpoints")
        return {"kind": kind, "endpoint_id": endpoint_id}
    raise ValidationError("actions", f"{kind!r} is not an action")


def clean_trigger(trigger: object, wait_minutes: object) -> tuple[str, int]:
    name = str(trigger or "")
    if name not in TRIGGERS:
        raise ValidationError("trigger", "choose what starts the rule")
    if name != UNANSWERED:
        return name, 0
    try:
        minutes = int(str(wait_minutes))
    except ValueError:
        raise ValidationError("wait_minutes", "enter a number of minutes") from None
    if not 1 <= minutes <= MAX_WAIT_MINUTES:
        raise ValidationError("wait_minutes", f"enter 1 to {MAX_WAIT_MINUTES} minutes")
    return name, minutes


def rule_name(value: object) -> str:
    return validation.name(str(value or ""), "name", MAX_NAME, required=True)


# -- judging ------------------------------------------------------------------------------


def holds(condition: Mapping[str, Any], facts: Facts) -> bool:
    """Whether one (checked) condition holds for these facts."""
    kind = condition["kind"]
    if kind == "channel":
        return facts.channel in condition["channels"]
    if kind == "hours":
        return facts.open_now == (condition["when"] == "open")
    if kind == "keywords":
        text = facts.text[:SCANNED_CHARS].casefold()
        return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text) for w in condition["words"])
    if kind == "regex":
        return (
            re.search(condition["pattern"], facts.text[:SCANNED_CHARS], re.IGNORECASE) is not None
        )
    if kind == "contact":
        value = facts.email if condition["field"] == "email" else facts.phone
        return bool(value) == condition["present"]
    if kind == "tag":
        return (condition["tag"] in facts.tags) == condition["present"]
    if kind == "mode":
        return facts.mode == condition["mode"]
    if kind == "assignee":
        return facts.assignee_id == condition["member_id"]
    return False


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}``-style placeholders the facts know; others stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


PLACEHOLDERS = ("name", "first_name", "email", "phone", "message", "channel", "conversation")


# -- in words -----------------------------------------------------------------------------


def describe_condition(condition: Mapping[str, Any], members: Mapping[int, str]) -> str:
    kind = condition["kind"]
    if kind == "channel":
        return "channel is " + " or ".join(condition["channels"])
    if kind == "hours":
        return "we are open now" if condition["when"] == "open" else "we are closed now"
    if kind == "keywords":
        return "message mentions " + " or ".join(f"“{w}”" for w in condition["words"])
    if kind == "regex":
        return f"message matches /{condition['pattern']}/"
    if kind == "contact":
        has = "has" if condition["present"] else "has no"
        return f"contact {has} {'email address' if condition['field'] == 'email' else 'phone'}"
    if kind == "tag":
        return f"contact {'is' if condition['present'] else 'is not'} tagged “{condition['tag']}”"
    if kind == "mode":
        return "the AI has the conversation" if condition["mode"] == "ai" else "a person has it"
    if kind == "assignee":
        member = condition["member_id"]
        return "nobody is assigned" if member is None else f"assigned to {members.get(member, '?')}"
    return kind


def describe_action(
    action: Mapping[str, Any],
    members: Mapping[int, str],
    templates: Mapping[int, str],
    endpoints: Mapping[int, str],
) -> str:
    kind = action["kind"]
    if kind == "assign":
        return f"assign to {members.get(action['member_id'], 'a removed member')}"
    if kind == "tag":
        return f"tag the contact “{action['tag']}”"
    if kind == "close":
        return "close the conversation"
    if kind == "handoff":
        return "hand the conversation to a person"
    if kind == "template":
        return f"send the saved reply “{templates.get(action['template_id'], 'removed')}”"
    if kind == "email":
        return f"email the {action['to']}: “{action['subject']}”"
    if kind == "sms":
        to = ", ".join(action["numbers"]) if action["to"] == TEAM else "the contact"
        return f"text {to}"
    if kind == "webhook":
        return f"POST a webhook to {endpoints.get(action['endpoint_id'], 'a removed endpoint')}"
    return kind

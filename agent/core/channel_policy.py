"""Per-channel rules in one place: who may answer, how long a message may be, how it looks.

The inbox (staff replies), the agent (AI turns) and the sender (delivery) all ask here,
so a channel's rules never drift apart between them. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.core.errors import ValidationError
from agent.core.models import Channel, Conversation

AUTO_REPLY = "ai_auto_reply"  # the account setting that lets the AI answer on its own
# An inbound message's meta key: why the AI must not answer this one message (an
# auto-reply, list mail, a loop...). The channel decides; the service and turns obey.
NO_AUTO_REPLY = "no_auto_reply"


@dataclass(frozen=True)
class ChannelRules:
    label: str
    links: bool  # renders Markdown links itself; otherwise they become "text (url)"
    max_chars: int  # the longest message the provider accepts (in characters)


RULES: dict[str, ChannelRules] = {
    Channel.WEBCHAT: ChannelRules("Web chat", links=True, max_chars=10_000),
    Channel.EMAIL: ChannelRules("Email", links=False, max_chars=100_000),
    Channel.MESSENGER: ChannelRules("Messenger", links=False, max_chars=2_000),
    Channel.INSTAGRAM: ChannelRules("Instagram", links=False, max_chars=1_000),
    Channel.WHATSAPP: ChannelRules("WhatsApp", links=False, max_chars=4_096),
    Channel.SMS: ChannelRules("SMS", links=False, max_chars=1_600),
    Channel.PHONE: ChannelRules("Phone", links=False, max_chars=1_600),
}

_LINK = re.compile(r"\[([^\]\n]{1,500})\]\((https?://[^\s()]{1,2000})\)")
_ELLIPSIS = "…"


def rules(channel: str) -> ChannelRules:
    try:
        return RULES[Channel(channel)]
    except ValueError:
        raise ValidationError("channel", f"{channel!r} is not a channel") from None


def may_auto_reply(channel: str, settings: Mapping[str, Any] | None) -> bool:
    """Whether the AI answers on this channel without staff: the account's toggle (on
    unless an admin turned it off); web chat always has its receptionist."""
    if channel == Channel.WEBCHAT:
        return True
    return bool((settings or {}).get(AUTO_REPLY, True))


def message_blocks_ai(meta: Mapping[str, Any] | None) -> str | None:
    """Why the AI must leave this inbound message to staff, or None when it may answer.

    The same path as the channel's auto-reply toggle, for one message: it is stored and
    shown, but never routed to the AI (nor by the sweeper's redelivery)."""
    reason = (meta or {}).get(NO_AUTO_REPLY)
    return str(reason) if reason else None


def plain_links(text: str) -> str:
    """``[text](url)`` becomes ``text (url)`` (just ``url`` when the text is the url)."""

    def plain(match: re.Match[str]) -> str:
        label, url = match.group(1).strip(), match.group(2)
        return url if label in (url, "") else f"{label} ({url})"

    return _LINK.sub(plain, text)


def fit(channel: str, text: str) -> str:
    """The text as the channel shows it: links made plain where it has none, and cut at a
    word boundary (with an ellipsis) to the channel's limit. Used for AI replies, whose
    length nobody chose; staff replies are checked with ``check_length`` instead."""
    rule = rules(channel)
    if not rule.links:
        text = plain_links(text)
    if len(text) <= rule.max_chars:
        return text
    cut = text[: rule.max_chars - len(_ELLIPSIS)]
    space = cut.rfind(" ")
    if space > rule.max_chars // 2:
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def check_length(channel: str, text: str) -> None:
    """Refuses a message the channel cannot carry, once its links are made plain."""
    rule = rules(channel)
    shown = text if rule.links else plain_links(text)
    if len(shown) > rule.max_chars:
        raise ValidationError(
            "body", f"{rule.label} messages are at most {rule.max_chars:,} characters"
        )


@dataclass(frozen=True)
class ReplyWindow:
    allowed: bool
    reason: str = ""


def reply_window(
    channel: str, conversation: Conversation, last_inbound_at: datetime | None, now: datetime
) -> ReplyWindow:
    """Whether a free-form reply may go out now. Meta and WhatsApp only allow one within
    24 hours of the customer's last message; their channels fill this in. Today: always."""
    return ReplyWindow(allowed=True)

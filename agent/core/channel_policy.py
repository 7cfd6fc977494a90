"""Per-channel rules in one place: who may answer, how long a message may be, how it looks.

The inbox (staff replies), the agent (AI turns) and the sender (delivery) all ask here,
so a channel's rules never drift apart between them. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from agent.core.errors import ValidationError
from agent.core.models import Channel

AUTO_REPLY = "ai_auto_reply"  # the account setting that lets the AI answer on its own
# An inbound message's meta key: why the AI must not answer this one message (an
# auto-reply, list mail, a loop...). The channel decides; the service and turns obey.
NO_AUTO_REPLY = "no_auto_reply"
# An inbound message's meta key: the AI answers it live, in the same request (a caller's
# words on a phone call), so it is never queued as a turn.
LIVE = "live"


@dataclass(frozen=True)
class ChannelRules:
    label: str
    links: bool  # renders Markdown links itself; otherwise they become "text (url)"
    max_chars: int  # the longest message we send (in characters), split or not
    # The provider's limit for one message: a longer text goes out as several, cut at
    # word boundaries (0: no such limit, the text goes whole).
    part_chars: int = 0
    part_bytes: int = 0  # the same limit counted in UTF-8 bytes (Instagram)
    brief: bool = False  # a chat app: the AI keeps to a few sentences


RULES: dict[str, ChannelRules] = {
    Channel.WEBCHAT: ChannelRules("Web chat", links=True, max_chars=10_000),
    Channel.EMAIL: ChannelRules("Email", links=False, max_chars=100_000),
    Channel.MESSENGER: ChannelRules(
        "Messenger", links=False, max_chars=6_000, part_chars=2_000, brief=True
    ),
    Channel.INSTAGRAM: ChannelRules(
        "Instagram", links=False, max_chars=3_000, part_bytes=1_000, brief=True
    ),
    Channel.WHATSAPP: ChannelRules("WhatsApp", links=False, max_chars=4_096),
    Channel.SMS: ChannelRules("SMS", links=False, max_chars=1_600, brief=True),
    Channel.PHONE: ChannelRules("Phone", links=False, max_chars=1_600, brief=True),
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
    if not reason and (meta or {}).get(LIVE):
        return "answered live, on the call"
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


def split(channel: str, text: str) -> list[str]:
    """The text as the messages the provider accepts: whole when it fits, otherwise cut
    at paragraph, sentence or word boundaries so no part is over the channel's limit."""
    rule = rules(channel)
    if not rule.part_chars and not rule.part_bytes:
        return [text]

    def fits(part: str) -> bool:
        if rule.part_chars and len(part) > rule.part_chars:
            return False
        return not rule.part_bytes or len(part.encode("utf-8")) <= rule.part_bytes

    parts: list[str] = []
    rest = text.strip()
    while rest and not fits(rest):
        cut = _longest_fit(rest, fits)
        head = rest[:cut]
        for boundary in ("\n\n", "\n", ". ", "? ", "! ", " "):
            at = head.rfind(boundary)
            if at > len(head) // 3:
                cut = at + len(boundary)
                break
        parts.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        parts.append(rest)
    return parts


def _longest_fit(text: str, fits: Callable[[str], bool]) -> int:
    """How many leading characters of ``text`` fit (binary search: bytes grow with chars)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


# -- reply windows ---------------------------------------------------------------------

WINDOWED = frozenset(
    {Channel.MESSENGER.value, Channel.INSTAGRAM.value, Channel.WHATSAPP.value}
)  # channels with a reply window
HUMAN_AGENT = "HUMAN_AGENT"  # Meta's tag for a person's reply 24 h to 7 days later
# The meta key on the message a sender is handed: the tag the window requires (Meta's
# ``messaging_type: MESSAGE_TAG``); absent when the reply is a plain response.
MESSAGE_TAG = "message_tag"
# The meta key the sender reads for the provider's id of the message being answered.
REPLY_TO_PROVIDER_ID = "reply_to_provider_id"
# The meta key of a WhatsApp template message: {"id", "name", "language", "params",
# "business_initiated"}; the sender sends the template, the body is what it renders to.
TEMPLATE = "template"
_DAY = timedelta(hours=24)
_WEEK = timedelta(days=7)


class WindowState(StrEnum):
    OPEN = "open"  # anyone may reply
    HUMAN_ONLY = "human_only"  # only a person may reply (with ``tag``)
    CLOSED = "closed"  # nobody may send a free-form message
    TEMPLATES_ONLY = "templates_only"  # WhatsApp: only an approved template may go


@dataclass(frozen=True)
class ReplyWindow:
    """Who may send a free-form message on the conversation now, and until when."""

    state: WindowState = WindowState.OPEN
    reason: str = ""  # a plain explanation, shown in the composer (empty when open)
    tag: str = ""  # what a staff reply must carry (Meta's HUMAN_AGENT)
    until: datetime | None = None  # when this state ends (the next rule applies)
    closed_at: datetime | None = None  # when the free-form window closed (WhatsApp)

    @property
    def ai(self) -> bool:
        return self.state == WindowState.OPEN

    @property
    def staff(self) -> bool:
        """Whether a person may send a free-form message now."""
        return self.state in (WindowState.OPEN, WindowState.HUMAN_ONLY)

    @property
    def templates_only(self) -> bool:
        return self.state == WindowState.TEMPLATES_ONLY


def reply_window(channel: str, last_inbound_at: datetime | None, now: datetime) -> ReplyWindow:
    """Whether a free-form reply may go out now, by the provider's rules.

    Messenger and Instagram: anyone within 24 hours of the customer's last message; a
    person only (tagged ``HUMAN_AGENT``) until 7 days; nobody after that. The AI never
    uses the tag. WhatsApp: anyone within 24 hours; after that (or before the customer
    ever wrote) only an approved template. Other channels have no window."""
    if channel not in WINDOWED:
        return ReplyWindow()
    label = rules(channel).label
    if channel == Channel.WHATSAPP:
        return _whatsapp_window(last_inbound_at, now)
    if last_inbound_at is None:
        return ReplyWindow(
            WindowState.CLOSED,
            f"{label} only allows replies to a customer who wrote to you first.",
        )
    if now - last_inbound_at < _DAY:
        return ReplyWindow(until=last_inbound_at + _DAY)
    closes = last_inbound_at + _WEEK
    if now - last_inbound_at < _WEEK:
        return ReplyWindow(
            WindowState.HUMAN_ONLY,
            f"More than 24 hours since the customer's last message: Meta only lets a "
            f"person reply now (sent with the {HUMAN_AGENT} tag), and the AI stays silent. "
            f"Replies close 7 days after their last message.",
            tag=HUMAN_AGENT,
            until=closes,
        )
    return ReplyWindow(
        WindowState.CLOSED,
        f"Meta does not allow {label} replies more than 7 days after the customer's last "
        f"message. They can write again, or you can reach them another way.",
    )


def _whatsapp_window(last_inbound_at: datetime | None, now: datetime) -> ReplyWindow:
    if last_inbound_at is None:
        return ReplyWindow(
            WindowState.TEMPLATES_ONLY,
            "WhatsApp only lets a business start a conversation with an approved template.",
        )
    closes = last_inbound_at + _DAY
    if now < closes:
        return ReplyWindow(until=closes)
    return ReplyWindow(
        WindowState.TEMPLATES_ONLY,
        "More than 24 hours since the customer's last message: WhatsApp only allows an "
        "approved template until they write again, and the AI stays silent.",
        closed_at=closes,
    )


def may_send(window: ReplyWindow, *, ai: bool, template: bool = False) -> bool:
    """Whether a message may go out in this window: the AI only while it is open, a person
    while a free-form reply is allowed, and an approved template (WhatsApp) at any time."""
    if ai:
        return window.ai
    return window.staff or template

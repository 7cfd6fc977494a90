"""A Meta webhook payload read into plain events (pure: no I/O).

Messenger (``object: page``) and Instagram (``object: instagram``) share the shape:
``entry[]`` per account (``id``: the Page or IG account id), each with ``messaging[]``
events: a ``message`` (text, attachments, a quick-reply payload, ``reply_to``, or an echo
of a message the business sent), a ``postback`` (a button, read as its title), a
``delivery`` (mids and/or a watermark) or a ``read`` (a watermark on Messenger, a mid on
Instagram). ``standby[]`` (another app has the
thread) and ``changes[]`` (Instagram comments, feed changes) are not direct messages
and are left out. Whatever is malformed is skipped, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECTS = {"page": "messenger", "instagram": "instagram"}  # payload object -> channel
_ATTACHMENT_TYPES = {"image", "video", "audio", "file", "sticker", "fallback", "template"}


@dataclass(frozen=True)
class Attachment:
    kind: str  # image, video, audio, file, ...
    url: str  # Meta's CDN link ("" when none was given)
    title: str = ""


@dataclass(frozen=True)
class MessageEvent:
    channel: str
    account_id: str  # the Page / IG account the event is for
    user_id: str  # the customer's PSID / IGSID
    mid: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    quick_reply: str = ""  # the payload of the quick-reply button they tapped
    reply_to: str = ""  # the mid they replied to
    echo: bool = False  # sent by the business (from Meta's apps or through the API)
    app_id: str = ""
    sent_at: datetime | None = None


@dataclass(frozen=True)
class StatusEvent:
    """Messages to ``user_id`` were delivered or read: those named, and (watermark) all
    sent up to that time."""

    channel: str
    account_id: str
    user_id: str
    status: str  # delivered | read
    mids: tuple[str, ...] = ()
    watermark: datetime | None = None


@dataclass
class Payload:
    channel: str = ""
    account_ids: list[str] = field(default_factory=list)
    messages: list[MessageEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    ignored: int = 0  # standby, comments and other events that are not DMs


def _text(value: Any, limit: int = 255) -> str:
    return value[:limit] if isinstance(value, str) else str(value)[:limit] if value else ""


def _id(value: Any) -> str:
    """An id field (``{"id": "123"}``) as text; Meta sends numbers as strings, mostly."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, int | str) and not isinstance(value, bool):
        return str(value).strip()[:64]
    return ""


def _time(millis: Any) -> datetime | None:
    if isinstance(millis, int | float) and not isinstance(millis, bool) and millis > 0:
        try:
            return datetime.fromtimestamp(millis / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _attachments(found: Any) -> tuple[Attachment, ...]:
    if not isinstance(found, list):
        return ()
    listed = []
    for item in found[:20]:
        if not isinstance(item, dict):
            continue
        kind = _text(item.get("type"), 20) or "file"
        payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
        url = _text(payload.get("url"), 2000)
        if not url.startswith(("https://", "http://")):
            url = ""
        kind = kind if kind in _ATTACHMENT_TYPES else "file"
        if payload.get("sticker_id"):
            kind = "sticker"
        listed.append(Attachment(kind, url, _text(item.get("title") or payload.get("title"), 200)))
    return tuple(listed)


def _message(channel: str, account: str, event: dict[str, Any]) -> MessageEvent | None:
    message = event["message"]
    if not isinstance(message, dict) or not _id(message.get("mid")):
        return None
    echo = message.get("is_echo") is True
    # An echo goes from the business to the customer: the customer is the recipient.
    user = _id(event.get("recipient") if echo else event.get("sender"))
    if not user:
        return None
    quick = message.get("quick_reply")
    reply_to = message.get("reply_to")
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    attachments = _attachments(message.get("attachments"))
    if not text.strip() and not attachments:
        return None  # nothing to show (an unsupported kind of message)
    return MessageEvent(
        channel=channel,
        account_id=account,
        user_id=user,
        mid=_id(message.get("mid")),
        text=text,
        attachments=attachments,
        quick_reply=_text(quick.get("payload"), 1000) if isinstance(quick, dict) else "",
        reply_to=_id(reply_to.get("mid")) if isinstance(reply_to, dict) else "",
        echo=echo,
        app_id=_id(message.get("app_id")),
        sent_at=_time(event.get("timestamp")),
    )


def _status(channel: str, account: str, event: dict[str, Any], key: str) -> StatusEvent | None:
    body = event[key]
    user = _id(event.get("sender"))
    if not isinstance(body, dict) or not user:
        return None
    mids = body.get("mids") if isinstance(body.get("mids"), list) else []
    if _id(body.get("mid")):
        mids = [*mids, body.get("mid")]
    found = tuple(m for m in (_id(m) for m in mids[:100]) if m)
    watermark = _time(body.get("watermark"))
    if not found and watermark is None:
        return None
    status = "delivered" if key == "delivery" else "read"
    return StatusEvent(channel, account, user, status, found, watermark)


def parse(payload: Any) -> Payload:
    """The DM events of one webhook POST, in order; unknown objects give an empty one."""
    read = Payload()
    if not isinstance(payload, dict) or payload.get("object") not in OBJECTS:
        return read
    read.channel = OBJECTS[payload["object"]]
    entries = payload.get("entry") if isinstance(payload.get("entry"), list) else []
    for entry in entries:
        if not isinstance(entry, dict) or not _id(entry.get("id")):
            continue
        account = _id(entry.get("id"))
        if account not in read.account_ids:
            read.account_ids.append(account)
        for key in ("standby", "changes"):  # another app's thread; comments and feed
            if isinstance(entry.get(key), list):
                read.ignored += len(entry[key])
        for event in entry.get("messaging") if isinstance(entry.get("messaging"), list) else []:
            if not isinstance(event, dict):
                continue
            if "message" in event:
                found = _message(read.channel, account, event)
                if found is not None:
                    read.messages.append(found)
                    continue
            elif isinstance(event.get("postback"), dict):  # a button they tapped: its title
                postback = event["postback"]
                user = _id(event.get("sender"))
                if user and _id(postback.get("mid")):
                    read.messages.append(
                        MessageEvent(
                            channel=read.channel,
                            account_id=account,
                            user_id=user,
                            mid=_id(postback.get("mid")),
                            text=_text(postback.get("title"), 1000),
                            quick_reply=_text(postback.get("payload"), 1000),
                            sent_at=_time(event.get("timestamp")),
                        )
                    )
                    continue
            elif "delivery" in event or "read" in event:
                key = "delivery" if "delivery" in event else "read"
                status = _status(read.channel, account, event, key)
                if status is not None:
                    read.statuses.append(status)
                    continue
            read.ignored += 1  # postbacks, reactions, referrals...: not handled here
    return read


def account_ids(payload: Any) -> tuple[str, list[str]]:
    """The channel and the account ids a payload is for (to find the app secret that
    must have signed it), without reading its events."""
    if not isinstance(payload, dict) or payload.get("object") not in OBJECTS:
        return "", []
    entries = payload.get("entry") if isinstance(payload.get("entry"), list) else []
    ids = [_id(e.get("id")) for e in entries if isinstance(e, dict)]
    return OBJECTS[payload["object"]], list(dict.fromkeys(i for i in ids if i))

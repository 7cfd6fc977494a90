"""A WhatsApp Cloud API webhook payload read into plain events (pure: no I/O).

``object: whatsapp_business_account``; ``entry[]`` per business account (``id``: the
WABA), ``changes[]`` with a ``field``: ``messages`` (its ``value`` holds ``metadata``
with the ``phone_number_id`` the message came to, ``contacts[]`` with the senders' names,
``messages[]`` and ``statuses[]``) or ``message_template_status_update``. Message types:
text, image, audio, video, document, sticker, location, contacts, interactive
(button and list replies), button, reaction and unsupported. Whatever is malformed is
skipped, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECT = "whatsapp_business_account"
MEDIA = ("image", "audio", "video", "document", "sticker")


@dataclass(frozen=True)
class Media:
    kind: str
    media_id: str
    mime_type: str = ""
    filename: str = ""


@dataclass(frozen=True)
class WaMessage:
    phone_number_id: str  # the business number it came to
    wa_id: str  # the customer (E.164 digits)
    message_id: str  # the wamid
    kind: str
    text: str = ""  # what it says (a caption, a button's title, a location described...)
    name: str = ""  # the customer's WhatsApp profile name
    media: Media | None = None
    payload: str = ""  # a button's or a list row's id
    context_id: str = ""  # the wamid it replies to
    reaction_to: str = ""  # reactions: the wamid reacted to ("" emoji: removed)
    details: dict[str, Any] = field(default_factory=dict)  # location, contacts, errors
    sent_at: datetime | None = None


@dataclass(frozen=True)
class WaStatus:
    phone_number_id: str
    message_id: str
    status: str  # sent | delivered | read | failed
    recipient: str = ""
    errors: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class TemplateUpdate:
    waba_id: str
    name: str
    language: str
    event: str  # APPROVED, REJECTED, PENDING, PAUSED, DISABLED...
    reason: str = ""


@dataclass
class Payload:
    phone_number_ids: list[str] = field(default_factory=list)
    waba_ids: list[str] = field(default_factory=list)
    messages: list[WaMessage] = field(default_factory=list)
    statuses: list[WaStatus] = field(default_factory=list)
    templates: list[TemplateUpdate] = field(default_factory=list)
    ignored: int = 0


def _text(value: Any, limit: int = 4096) -> str:
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)[:limit]
    return ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _time(seconds: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _location(found: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    place = {k: found.get(k) for k in ("latitude", "longitude", "name", "address", "url")}
    place = {k: v for k, v in place.items() if isinstance(v, int | float | str)}
    where = ", ".join(_text(place.get(k), 200) for k in ("name", "address") if place.get(k))
    point = f"{place.get('latitude')}, {place.get('longitude')}"
    return f"Location: {where} ({point})" if where else f"Location: {point}", place


def _contacts(found: list[Any]) -> tuple[str, dict[str, Any]]:
    people = []
    for card in found[:10]:
        card = _dict(card)
        name = _text(_dict(card.get("name")).get("formatted_name"), 200)
        phones = [_text(_dict(p).get("phone"), 40) for p in _list(card.get("phones"))[:5]]
        people.append({"name": name, "phones": [p for p in phones if p]})
    shown = "; ".join(f"{p['name']} {' '.join(p['phones'])}".strip() for p in people)
    return f"Shared contact: {shown}", {"contacts": people}


def _message(number: str, names: dict[str, str], raw: dict[str, Any]) -> WaMessage | None:
    wa_id, message_id, kind = _text(raw.get("from"), 32), _text(raw.get("id"), 255), ""
    kind = _text(raw.get("type"), 32)
    if not wa_id.isdigit() or not message_id or not kind:
        return None
    base = {
        "phone_number_id": number,
        "wa_id": wa_id,
        "message_id": message_id,
        "kind": kind,
        "name": names.get(wa_id, ""),
        "context_id": _text(_dict(raw.get("context")).get("id"), 255),
        "sent_at": _time(raw.get("timestamp")),
    }
    body = _dict(raw.get(kind))
    if kind == "text":
        text = _text(body.get("body"))
        return WaMessage(**base, text=text) if text.strip() else None
    if kind in MEDIA:
        media_id = _text(body.get("id"), 64)
        if not media_id:
            return None
        media = Media(
            kind, media_id, _text(body.get("mime_type"), 100), _text(body.get("filename"), 200)
        )
        return WaMessage(**base, text=_text(body.get("caption")), media=media)
    if kind == "location":
        text, place = _location(body)
        return WaMessage(**base, text=text, details={"location": place})
    if kind == "contacts":
        text, people = _contacts(_list(raw.get("contacts")))
        return WaMessage(**base, text=text, details=people)
    if kind == "interactive":
        reply = _dict(body.get("button_reply")) or _dict(body.get("list_reply"))
        title = _text(reply.get("title"), 1000)
        return WaMessage(**base, text=title, payload=_text(reply.get("id"), 256)) if title else None
    if kind == "button":
        text = _text(body.get("text"), 1000)
        return (
            WaMessage(**base, text=text, payload=_text(body.get("payload"), 256)) if text else None
        )
    if kind == "reaction":
        target = _text(body.get("message_id"), 255)
        emoji = _text(body.get("emoji"), 16)
        return WaMessage(**base, text=emoji, reaction_to=target) if target else None
    # "unsupported" and any type this version does not know: shown as such.
    errors = [_dict(e) for e in _list(raw.get("errors"))[:5]]
    return WaMessage(**{**base, "kind": "unsupported"}, details={"type": kind, "errors": errors})


def _status(number: str, raw: dict[str, Any]) -> WaStatus | None:
    message_id, status = _text(raw.get("id"), 255), _text(raw.get("status"), 16)
    if not message_id or status not in ("sent", "delivered", "read", "failed"):
        return None
    errors = tuple(_dict(e) for e in _list(raw.get("errors"))[:5])
    return WaStatus(number, message_id, status, _text(raw.get("recipient_id"), 32), errors)


def parse(payload: Any) -> Payload:
    read = Payload()
    if not isinstance(payload, dict) or payload.get("object") != OBJECT:
        return read
    for entry in _list(payload.get("entry")):
        entry = _dict(entry)
        waba = _text(entry.get("id"), 64)
        for change in _list(entry.get("changes")):
            change, value = _dict(change), _dict(_dict(change).get("value"))
            if change.get("field") == "message_template_status_update" and waba:
                name = _text(value.get("message_template_name"), 512)
                if name:
                    read.templates.append(
                        TemplateUpdate(
                            waba,
                            name,
                            _text(value.get("message_template_language"), 16),
                            _text(value.get("event"), 32).upper(),
                            _text(value.get("reason"), 500),
                        )
                    )
                    if waba not in read.waba_ids:
                        read.waba_ids.append(waba)
                continue
            if change.get("field") != "messages":
                read.ignored += 1
                continue
            number = _text(_dict(value.get("metadata")).get("phone_number_id"), 64)
            if not number:
                continue
            if number not in read.phone_number_ids:
                read.phone_number_ids.append(number)
            names = {
                _text(_dict(c).get("wa_id"), 32): _text(
                    _dict(_dict(c).get("profile")).get("name"), 200
                )
                for c in _list(value.get("contacts"))
            }
            for raw in _list(value.get("messages")):
                found = _message(number, names, _dict(raw))
                if found is not None:
                    read.messages.append(found)
            for raw in _list(value.get("statuses")):
                status = _status(number, _dict(raw))
                if status is not None:
                    read.statuses.append(status)
    return read

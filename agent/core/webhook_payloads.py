"""Outgoing webhooks' contract, pure: event types, the JSON envelope, signatures, retries.

What a receiver (Zapier, Make, n8n, a CRM) relies on lives here and nowhere else: the
event names, which domain event becomes which webhook, each event's ``data`` (schema
version ``SCHEMA_VERSION``, sent in the ``X-Frontdesk-Webhook-Version`` header), and the
signature ``X-Frontdesk-Signature: t=UNIX_SECONDS,v1=HEX`` where
HEX = HMAC-SHA256(secret, "UNIX_SECONDS." + raw body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from agent.core.errors import ValidationError
from agent.core.events import (
    AppointmentBooked,
    AppointmentCancelled,
    ConversationUpdated,
    Event,
    LeadCaptured,
    MessageCreated,
)
from agent.core.models import Appointment, AuthorKind, Contact, Conversation, Message

SCHEMA_VERSION = "1"
SIGNATURE_HEADER = "X-Frontdesk-Signature"
VERSION_HEADER = "X-Frontdesk-Webhook-Version"
PING = "ping"
EVENT_TYPES = (
    "conversation.created",
    "message.received",
    "lead.captured",
    "appointment.booked",
    "appointment.cancelled",
    "handoff.requested",
    "conversation.closed",
    PING,
)
RETRY_FOR = timedelta(hours=24)  # a delivery is given up this long after it was first due
MAX_URL_CHARS = 2000


def event_types(value: str | Iterable[str]) -> list[str]:
    """The event names an endpoint subscribes to, checked: "a,b" or a list; no repeats."""
    names = value.split(",") if isinstance(value, str) else list(value)
    chosen = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not chosen:
        raise ValidationError("events", f"choose at least one of {', '.join(EVENT_TYPES)}")
    unknown = [n for n in chosen if n not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            "events",
            f"{', '.join(unknown)} is not an event name (choose from {', '.join(EVENT_TYPES)})",
        )
    return chosen


def webhook_types(event: Event) -> list[str]:
    """Which webhook events a committed domain event is: most are none (an AI reply, a
    status change); a conversation update may be several (created and closed)."""
    if isinstance(event, MessageCreated):
        return ["message.received"] if event.author_kind == AuthorKind.CONTACT else []
    if isinstance(event, LeadCaptured):
        return ["lead.captured"]
    if isinstance(event, AppointmentBooked):
        return ["appointment.booked"]
    if isinstance(event, AppointmentCancelled):
        return ["appointment.cancelled"]
    if isinstance(event, ConversationUpdated):
        changes = event.changes
        found = []
        if changes.get("created"):
            found.append("conversation.created")
        if "handoff" in changes:
            found.append("handoff.requested")
        if changes.get("status") == "closed":
            found.append("conversation.closed")
        return found
    return []


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HEX of HMAC-SHA256(secret, "UNIX_SECONDS." + raw body)."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Frontdesk-Signature`` value; signed at each attempt, so its time is fresh."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def envelope(
    event_id: str, event_type: str, created: datetime, workspace: dict[str, Any], data: dict
) -> str:
    """The delivery body: ``{"id", "type", "created", "workspace", "data"}`` as JSON."""
    payload = {
        "id": event_id,
        "type": event_type,
        "created": int(created.timestamp()),
        "workspace": workspace,
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def retry_delay(attempt: int, *, base: float = 30, cap: float = 3600) -> float:
    """Seconds before try ``attempt + 1``: 30 s, 1, 2, 4 ... minutes, then hourly."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0)))


# -- each event's data (schema version 1) ------------------------------------------------


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": f"{contact.first_name} {contact.last_name}".strip(),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "is_lead": contact.is_lead,
    }


def conversation_data(conversation: Conversation, contact: Contact) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "channel": str(conversation.channel),
        "status": str(conversation.status),
        "mode": str(conversation.mode),
        "created_at": _when(conversation.created_at),
        "closed_at": _when(conversation.closed_at),
        "contact": contact_data(contact),
    }


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "body": message.body,
        "channel": str(message.channel),
        "created_at": _when(message.created_at),
    }


def appointment_data(appointment: Appointment, contact: Contact | None) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "start": _when(appointment.start),
        "end": _when(appointment.end),
        "status": str(appointment.status),
        "notes": appointment.notes,
        "conversation_id": appointment.conversation_id,
        "contact": contact_data(contact) if contact is not None else None,
    }

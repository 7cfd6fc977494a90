"""WhatsApp Cloud API webhook payloads in the shapes of Meta's webhook reference (and its
OpenAPI description ``business-messaging-api``): a ``messages`` change per message or
status, and a ``message_template_status_update`` change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY = "16502530000"
CUSTOMER = "16505551234"  # a wa_id: the customer's number, digits only


def _value(**fields: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PHONE_NUMBER_ID},
        **fields,
    }


def envelope(*changes: dict[str, Any], waba: str = WABA_ID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": list(changes)}],
    }


def message(
    kind: str,
    body: dict[str, Any] | None,
    *,
    wamid: str,
    at: datetime,
    name: str = "Kerry Fisher",
    wa_id: str = CUSTOMER,
    context: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One inbound message change: ``body`` is the object under the type's key."""
    raw: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(at.timestamp())),
        "type": kind,
    }
    if body is not None:
        raw[kind] = body
    if context:
        raw["context"] = {"from": DISPLAY, "id": context}
    raw.update(extra or {})
    value = _value(contacts=[{"profile": {"name": name}, "wa_id": wa_id}], messages=[raw])
    return {"value": value, "field": "messages"}


def status(wamid: str, state: str, *, at: datetime, errors: list | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": CUSTOMER,
    }
    if state != "failed":
        raw["conversation"] = {
            "id": "CONVERSATION_ID",
            "origin": {"type": "service"},
            "expiration_timestamp": str(int(at.timestamp()) + 86400),
        }
        raw["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if errors:
        raw["errors"] = errors
    return {"value": _value(statuses=[raw]), "field": "messages"}


RE_ENGAGEMENT = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the "
        "customer last replied to this number."
    },
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


def template_update(name: str, event: str, reason: str = "NONE", language: str = "en") -> dict:
    return {
        "value": {
            "event": event,
            "message_template_id": 594425479261596,
            "message_template_name": name,
            "message_template_language": language,
            "reason": reason,
        },
        "field": "message_template_status_update",
    }

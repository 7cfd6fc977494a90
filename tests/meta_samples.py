"""Meta webhook payloads, in the shapes of Meta's reference pages (Messenger Platform
webhook events ``messages``, ``message_echoes``, ``message_deliveries``, ``message_reads``,
``standby``; Instagram messaging ``messages``, ``messaging_seen`` and ``comments``), with
the placeholders Meta's examples use (``<PSID>``, ``<PAGE_ID>``...) filled in by ``payload``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from channels.meta.signature import sign

# One event of entry[].messaging[] per kind, as the reference shows it.
MESSAGE = {
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "timestamp": 1458692752478,
    "message": {"mid": "<MID>", "text": "hello, world!"},
}
QUICK_REPLY = {
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "timestamp": 1458692752478,
    "message": {
        "mid": "<MID>",
        "text": "Red",
        "quick_reply": {"payload": "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED"},
    },
}
REPLY_TO = {
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "timestamp": 1458692752478,
    "message": {"mid": "<MID>", "text": "yes please", "reply_to": {"mid": "<REPLY_TO_MID>"}},
}
ATTACHMENT = {
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "timestamp": 1458692752478,
    "message": {
        "mid": "<MID>",
        "attachments": [
            {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/photo.jpg"}}
        ],
    },
}
ECHO = {
    "sender": {"id": "<PAGE_ID>"},
    "recipient": {"id": "<PSID>"},
    "timestamp": 1457764197627,
    "message": {
        "is_echo": True,
        "app_id": 1517776481860111,
        "metadata": "<DEVELOPER_DEFINED_METADATA_STRING>",
        "mid": "<MID>",
        "text": "<TEXT>",
    },
}
DELIVERY = {
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "delivery": {"mids": ["<MID>"], "watermark": 1458668856253},
}
READ = {
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "timestamp": 1458668856463,
    "read": {"watermark": 1458668856253},
}
INSTAGRAM_SEEN = {  # Instagram's messaging_seen: the mid that was read
    "sender": {"id": "<PSID>"},
    "recipient": {"id": "<PAGE_ID>"},
    "timestamp": 1458668856463,
    "read": {"mid": "<MID>"},
}
INSTAGRAM_COMMENT = {
    "field": "comments",
    "value": {
        "from": {"id": "<PSID>", "username": "a_customer"},
        "media": {"id": "17887498072083520", "media_product_type": "FEED"},
        "id": "17865799348089039",
        "text": "How much is this?",
    },
}


def millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def event(template: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A copy of a template with its placeholders filled: ``psid``, ``page_id``, ``mid``,
    ``text``, ``reply_to_mid``; ``at`` (a datetime) sets the timestamp and watermark."""
    text = json.dumps(template)
    for key, value in values.items():
        if key != "at":
            text = text.replace(f"<{key.upper()}>", str(value).replace('"', '\\"'))
    found = json.loads(text)
    if "at" in values:
        stamp = millis(values["at"])
        found["timestamp"] = stamp
        for key in ("delivery", "read"):
            if key in found and "watermark" in found[key]:
                found[key]["watermark"] = stamp
    if found.get("message", {}).get("text") == "<TEXT>":
        found["message"].pop("text")
    return found


def payload(
    account_id: str,
    *events: dict[str, Any],
    instagram: bool = False,
    standby: list[dict[str, Any]] | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One webhook POST body for the account (Messenger ``page``, or ``instagram``)."""
    entry: dict[str, Any] = {"id": account_id, "time": 1458692752478}
    if events:
        entry["messaging"] = list(events)
    if standby:
        entry["standby"] = standby
    if changes:
        entry["changes"] = changes
    return {"object": "instagram" if instagram else "page", "entry": [entry]}


def signed(body: dict[str, Any] | bytes, secret: str) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Meta would send with it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"X-Hub-Signature-256": sign(raw, secret), "Content-Type": "application/json"}

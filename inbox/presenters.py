"""Domain records as the JSON the inbox's browser code renders (pure, no I/O).

Everything here is data: the browser inserts it with textContent, never as HTML.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.core.channel_policy import NO_AUTO_REPLY, ReplyWindow
from agent.core.models import Contact, Conversation, Message, TeamMember, WhatsAppTemplate
from agent.core.whatsapp_templates import parameters

CHANNEL_LABELS = {
    "webchat": "Web chat",
    "email": "Email",
    "messenger": "Messenger",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "phone": "Phone",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_name(contact: Contact | None) -> str:
    return contact.display_name if contact is not None else "Unknown visitor"


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact_name(contact),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "address": contact.address,
        "source_channel": contact.source_channel,
    }


def conversation_json(
    conversation: Conversation,
    contact: Contact | None,
    last: Message | None,
    *,
    assignee: TeamMember | None = None,
    unread: int = 0,
) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "contact": contact_json(contact) if contact else None,
        "contact_name": contact_name(contact),
        "channel": conversation.channel,
        "channel_label": CHANNEL_LABELS.get(conversation.channel, conversation.channel),
        "status": str(conversation.status),
        "spam_reason": conversation.spam_reason,
        "mode": str(conversation.mode),
        "assignee": assignee.name if assignee else None,
        "last_message_at": _iso(conversation.last_message_at),
        "preview": (last.body[:140] if last else ""),
        "last_message_id": last.id if last else None,
        "unread": unread,
    }


# Channels staff can start a conversation on, and the contact detail each one needs.
_REACH = {"email": "email", "sms": "phone", "whatsapp": "phone"}


def window_json(
    window: ReplyWindow, contact: Contact | None, connected: frozenset[str]
) -> dict[str, Any]:
    """Who may reply now, for the composer; when nobody may, the other connected channels
    the contact can be reached on."""
    alternatives = []
    if not window.staff and contact is not None:
        alternatives = [
            {"channel": channel, "label": CHANNEL_LABELS[channel]}
            for channel, needs in _REACH.items()
            if channel in connected and getattr(contact, needs)
        ]
    return {
        "state": str(window.state),
        "reason": window.reason,
        "tag": window.tag,
        "until": _iso(window.until),
        "closed_at": _iso(window.closed_at),
        "alternatives": alternatives,
    }


def template_json(template: WhatsAppTemplate) -> dict[str, Any]:
    """An approved WhatsApp template as the composer offers it."""
    return {
        "id": template.id,
        "name": template.name,
        "language": template.language,
        "header": template.header,
        "body": template.body,
        "parameters": parameters(template.body),
    }


def message_json(message: Message, author: TeamMember | None = None) -> dict[str, Any]:
    meta = message.meta or {}
    kind = str(message.author_kind)
    name = {"contact": "Visitor", "ai": "AI receptionist", "system": "Activity"}.get(kind, "Staff")
    if author is not None:
        name = author.name
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": str(message.direction),
        "author_kind": kind,
        "author_name": name,
        "author_avatar": author.avatar_url if author is not None else "",
        "body": message.body,
        "channel": message.channel,
        "delivery_status": str(message.delivery_status),
        # Why a message failed (the provider's reason), and whether staff may send it again.
        "delivery_error": _delivery_error(message),
        "can_retry": _can_retry(message),
        "created_at": _iso(message.created_at),
        "citations": [
            {"source": str(c.get("source", "")), "uri": str(c.get("uri", ""))}
            for c in meta.get("citations", [])
            if isinstance(c, dict)
        ],
        "actions": [_action(call) for call in meta.get("tool_calls", []) if isinstance(call, dict)],
        # What a channel kept beside the body: files that came with it, the whole original
        # text when the body is only its new part, and why the AI left it to staff.
        "attachments": _attachments(message),
        "original": str(meta.get("original") or ""),
        # Sent by a person from the provider's own app (Meta's echoes), not from here.
        "external": bool(meta.get("echo")),
        "reply_to": _reply_to(meta),
        "reactions": sorted({str(e) for e in (meta.get("reactions") or {}).values()}),
        "call": _call(meta),
        "no_auto_reply": str(meta.get(NO_AUTO_REPLY) or ""),
    }


def _attachments(message: Message) -> list[dict[str, Any]]:
    found = []
    for index, entry in enumerate((message.meta or {}).get("attachments") or []):
        if not isinstance(entry, dict):
            continue
        stored = bool(entry.get("stored"))
        link = str(entry.get("link") or "")
        url = ""
        if stored:
            url = (
                f"/api/conversations/{message.conversation_id}/messages/{message.id}"
                f"/attachments/{index}"
            )
        found.append(
            {
                "name": str(entry.get("name") or f"attachment {index + 1}"),
                "size": int(entry.get("size") or 0),
                "note": str(entry.get("note") or ""),
                "url": url,
                # A provider's own link (Meta's CDN), opened in a new tab, never stored here.
                "link": link if link.startswith(("https://", "http://")) else "",
            }
        )
    return found


def _call(meta: dict[str, Any]) -> dict[str, Any] | None:
    """A phone call's details (status, duration, recording, summary, transcript)."""
    found = meta.get("call")
    if not isinstance(found, dict):
        return None
    recording = found.get("recording") if isinstance(found.get("recording"), dict) else None
    transcript = [
        {"who": str(t.get("who") or ""), "text": str(t.get("text") or "")}
        for t in found.get("transcript") or []
        if isinstance(t, dict)
    ]
    return {
        "status": str(found.get("status") or ""),
        "duration": int(found.get("duration") or 0),
        "text_back": str(found.get("text_back") or ""),
        "summary": str(found.get("summary") or ""),
        "recording": (
            {
                "url": str(recording.get("url") or ""),
                "duration": int(recording.get("duration") or 0),
            }
            if recording
            else None
        ),
        "transcript": transcript,
    }


def _reply_to(meta: dict[str, Any]) -> str:
    """An excerpt of the message the customer answered (Messenger's reply_to), if known."""
    found = meta.get("reply_to")
    return str(found.get("excerpt") or "")[:200] if isinstance(found, dict) else ""


def _delivery_error(message: Message) -> str:
    delivery = (message.meta or {}).get("delivery")
    if str(message.delivery_status) != "failed" or not isinstance(delivery, dict):
        return ""
    return str(delivery.get("error") or "")[:500]


def _can_retry(message: Message) -> bool:
    return (
        str(message.direction) == "out"
        and str(message.delivery_status) == "failed"
        and message.channel != "webchat"
    )


_ACTION_LABELS = {
    "capture_contact": "Contact captured",
    "book_appointment": "Appointment booked",
    "check_availability": "Checked availability",
    "handoff_to_human": "Handed over to a person",
    "share_link": "Shared a link",
    "search_knowledge": "Searched knowledge",
}


def _action(call: dict[str, Any]) -> dict[str, Any]:
    name = str(call.get("name", ""))
    result = call.get("result")
    detail = ""
    if isinstance(result, dict) and "status_code" in result:  # a custom AI action's call
        return {"name": name, "label": f"Called action {name}", "detail": _call_detail(result)}
    if isinstance(result, dict):
        detail = str(result.get("error") or result.get("message") or "")
    return {"name": name, "label": _ACTION_LABELS.get(name, name), "detail": detail[:200]}


def _call_detail(result: dict[str, Any]) -> str:
    """A custom action's outcome for staff: the HTTP status, the error, the fields seen."""
    code = result.get("status_code")
    parts = [f"HTTP {code}" if code else "not sent"]
    if result.get("error"):
        parts.append(str(result["error"]))
    data = result.get("data")
    if isinstance(data, dict) and data:
        parts.append("; ".join(f"{k}: {v}" for k, v in data.items()))
    return " · ".join(parts)[:300]

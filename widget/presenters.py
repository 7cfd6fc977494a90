"""What the visitor's browser sees (pure): the public config and messages as JSON.

Only visitor-facing messages ever leave here: internal notes and system activity stay in
the inbox. Bodies are data; the frame renders them as text (Markdown links excepted).
"""

from __future__ import annotations

from typing import Any

from agent.core.models import (
    AuthorKind,
    Conversation,
    Direction,
    Message,
    Mode,
    TeamMember,
    Workspace,
)
from agent.core.workspaces import WIDGET_DEFAULTS

_ROLES = {AuthorKind.CONTACT: "visitor", AuthorKind.AI: "ai", AuthorKind.STAFF: "staff"}
_APPEARANCE = (
    "greeting",
    "initial_message",
    "primary_color",
    "accent_color",
    "text_color",
    "position",
    "mobile_popup",
)


def widget_config(workspace: Workspace, base: str, max_message_chars: int) -> dict[str, Any]:
    """The public appearance settings the loader and frame need; nothing private."""
    widget = {**WIDGET_DEFAULTS, **(workspace.widget or {})}
    return {
        "key": workspace.widget_key,
        "business_name": workspace.name,
        **{name: widget[name] for name in _APPEARANCE},
        "max_message_chars": max_message_chars,
        "frame_url": f"{base}/widget/v1/{workspace.widget_key}/frame",
    }


def visitor_facing(message: Message) -> bool:
    return message.direction != Direction.INTERNAL and message.author_kind in _ROLES


def _avatar(member: TeamMember | None) -> str | None:
    url = member.avatar_url if member is not None else ""
    return url if url.startswith(("https://", "http://")) else None


def widget_message(
    message: Message, author: TeamMember | None, business_name: str
) -> dict[str, Any]:
    role = _ROLES[AuthorKind(message.author_kind)]
    name = {"visitor": None, "ai": business_name}.get(role, author.name if author else None)
    client_id = (message.meta or {}).get("client_id")
    return {
        "id": message.id,
        "client_id": client_id if isinstance(client_id, str) else None,
        "role": role,
        "body": message.body,
        "author_name": name,
        "author_avatar": _avatar(author) if role == "staff" else None,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def widget_conversation(conversation: Conversation, assignee: TeamMember | None) -> dict[str, Any]:
    human = conversation.mode == Mode.HUMAN and assignee is not None
    return {
        "id": conversation.id,
        "mode": str(conversation.mode),
        "status": str(conversation.status),
        "agent": {"name": assignee.name, "avatar": _avatar(assignee)} if human else None,
    }

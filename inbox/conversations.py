"""The inbox page and its JSON API: list, read and act on conversations.

Every handler resolves records through the signed-in member's workspace repository, so an
id from another workspace is simply "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, send_file

from agent.core.contacts import ContactDetails
from agent.core.errors import ValidationError
from agent.core.models import Channel, Conversation
from agent.core.ports import WorkspaceScope
from inbox.presenters import (
    CHANNEL_LABELS,
    conversation_json,
    message_json,
    template_json,
    window_json,
)
from web.context import container
from web.security import current, login_required

bp = Blueprint("conversations", __name__)
PAGE = 50
NOT_CONNECTED = "not connected yet: set it up under Settings > Channels"


def connected_channels() -> frozenset[str]:
    """The workspace's channels whose account works (Settings > Channels)."""
    return container().channels.connected(current().workspace_id)


@bp.get("/")
@login_required
def inbox():  # type: ignore[no-untyped-def]
    staff = current()
    with container().uow() as uow:
        templates = [
            {"name": t.name, "body": t.body}
            for t in uow.workspace(staff.workspace_id).templates.all()
        ]
    connected = connected_channels()
    channels = [
        {
            "value": c.value,
            "label": CHANNEL_LABELS[c.value],
            "reason": "" if c.value in connected else NOT_CONNECTED,
        }
        for c in Channel
        if c not in (Channel.WEBCHAT, Channel.PHONE)  # the customer starts these
    ]
    # A new WhatsApp conversation starts with an approved template, filled in.
    approved = (
        [template_json(t) for t in container().whatsapp_templates.approved(staff.workspace_id)]
        if Channel.WHATSAPP in connected
        else []
    )
    return render_template(
        "inbox.html", templates=templates, channels=channels, wa_templates=approved
    )


def summaries(
    repo: WorkspaceScope, member_id: int, conversations: Sequence[Conversation]
) -> list[dict[str, Any]]:
    """List rows with contact, last message, assignee and the member's unread count.

    A constant number of queries whatever the page size: each kind of record is loaded
    for the whole page at once, never row by row.
    """
    ids = [c.id for c in conversations]
    unread = repo.conversations.unread_counts(member_id, ids)
    contacts = repo.contacts.by_ids({c.contact_id for c in conversations})
    last = repo.messages.latest(ids)
    assignees = repo.team.by_ids({c.assignee_id for c in conversations if c.assignee_id})
    return [
        conversation_json(
            conversation,
            contacts.get(conversation.contact_id),
            last.get(conversation.id),
            assignee=assignees.get(conversation.assignee_id),
            unread=unread.get(conversation.id, 0),
        )
        for conversation in conversations
    ]


@bp.get("/api/conversations")
@login_required
def list_conversations():  # type: ignore[no-untyped-def]
    staff = current()
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None
    if status not in (None, "open", "closed", "spam"):
        abort(400, description="status must be open, closed or spam")
    if channel is not None and channel not in CHANNEL_LABELS:
        abort(400, description=f"unknown channel {channel!r}")
    text = (request.args.get("q") or "")[:200]
    with container().uow(read_only=True) as uow:
        repo = uow.workspace(staff.workspace_id)
        found = repo.conversations.search(status=status, channel=channel, text=text, limit=PAGE)
        rows = summaries(repo, staff.member.id, found)
    return jsonify(conversations=rows)


@bp.get("/api/conversations/<int:conversation_id>")
@login_required
def show(conversation_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    with container().uow() as uow:
        repo = uow.workspace(staff.workspace_id)
        conversation = repo.conversations.get(conversation_id)
        messages = list(repo.messages.for_conversation(conversation_id))
        members = {m.id: m for m in repo.team.all()}
        appointments = repo.appointments.list(conversation_id=conversation_id)
        if messages:
            repo.conversations.mark_read(staff.member.id, conversation_id, messages[-1].id)
            uow.commit()
        (summary,) = summaries(repo, staff.member.id, [conversation])
        contact = repo.contacts.get(conversation.contact_id)
    channel = conversation.channel
    connected = connected_channels()
    window = container().conversations.reply_window(staff.workspace_id, conversation_id)
    return jsonify(
        conversation=summary,
        # Replies go out on the conversation's own channel: is it connected, and does the
        # provider's window let a person reply now?
        reply_via={
            "channel": channel,
            "label": CHANNEL_LABELS.get(channel, channel),
            "connected": channel == Channel.WEBCHAT or channel in connected,
            "window": window_json(window, contact, connected),
            # What may go instead of free text (WhatsApp, outside its window).
            "templates": [
                template_json(t)
                for t in (
                    container().whatsapp_templates.approved(staff.workspace_id)
                    if channel == Channel.WHATSAPP
                    else []
                )
            ],
        },
        messages=[message_json(m, members.get(m.author_member_id)) for m in messages],
        appointments=[
            {"id": a.id, "start": a.start.isoformat(), "status": str(a.status)}
            for a in appointments
        ],
    )


@bp.post("/api/conversations/<int:conversation_id>/read")
@login_required
def mark_read(conversation_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    message_id = (request.get_json(silent=True) or {}).get("message_id")
    if not isinstance(message_id, int):
        abort(400, description="message_id must be a number")
    with container().uow() as uow:
        uow.workspace(staff.workspace_id).conversations.mark_read(
            staff.member.id, conversation_id, message_id
        )
        uow.commit()
    return jsonify(ok=True)


def _act(conversation_id: int, action: str) -> Any:
    staff = current()
    service = container().conversations
    ws, member = staff.workspace_id, staff.member.id
    if action == "takeover":
        service.take_over(ws, conversation_id, member)
    elif action == "release":
        service.release(ws, conversation_id, member)
    elif action == "close":
        service.close(ws, conversation_id, member)
    elif action == "reopen":
        service.reopen(ws, conversation_id, member)
    return show(conversation_id)


@bp.post("/api/conversations/<int:conversation_id>/<any(takeover,release,close,reopen):action>")
@login_required
def act(conversation_id: int, action: str):  # type: ignore[no-untyped-def]
    return _act(conversation_id, action)


@bp.post("/api/conversations/<int:conversation_id>/messages")
@login_required
def reply(conversation_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    body = str((request.get_json(silent=True) or {}).get("body", ""))
    message = container().conversations.reply(
        staff.workspace_id, conversation_id, staff.member.id, body
    )
    return jsonify(message=message_json(message, staff.member)), 201


@bp.post("/api/conversations/<int:conversation_id>/template")
@login_required
def send_template(conversation_id: int):  # type: ignore[no-untyped-def]
    """An approved WhatsApp template with its parameters (outside the 24-hour window)."""
    staff = current()
    data = request.get_json(silent=True) or {}
    template_id, values = _template_choice(data)
    if template_id is None:
        raise ValidationError("template_id", "choose a template")
    message = container().conversations.send_template(
        staff.workspace_id, conversation_id, staff.member.id, template_id, values
    )
    return jsonify(message=message_json(message, staff.member)), 201


def _template_choice(data: dict[str, Any]) -> tuple[int | None, list[str]]:
    template_id = data.get("template_id")
    if template_id is not None and (
        not isinstance(template_id, int) or isinstance(template_id, bool)
    ):
        raise ValidationError("template_id", "must be a number")
    values = data.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValidationError("values", "must be a list of texts")
    return template_id, values


@bp.post("/api/conversations/<int:conversation_id>/messages/<int:message_id>/retry")
@login_required
def retry(conversation_id: int, message_id: int):  # type: ignore[no-untyped-def]
    """Send a failed message again (after its channel was fixed, or the provider is back)."""
    staff = current()
    with container().uow(read_only=True) as uow:
        message = uow.workspace(staff.workspace_id).messages.get(message_id)
    if message.conversation_id != conversation_id:
        abort(404)
    message = container().delivery.retry(staff.workspace_id, message_id, staff.member.id)
    with container().uow(read_only=True) as uow:
        repo = uow.workspace(staff.workspace_id)
        author = repo.team.by_ids([message.author_member_id] if message.author_member_id else [])
        message = repo.messages.get(message_id)
    return jsonify(message=message_json(message, author.get(message.author_member_id)))


@bp.get(
    "/api/conversations/<int:conversation_id>/messages/<int:message_id>/attachments/<int:index>"
)
@login_required
def attachment(conversation_id: int, message_id: int, index: int):  # type: ignore[no-untyped-def]
    """A file a customer sent, to the workspace's staff only, always as a download (never
    rendered by the browser on our origin)."""
    staff = current()
    with container().uow(read_only=True) as uow:
        message = uow.workspace(staff.workspace_id).messages.get(message_id)
    files = (message.meta or {}).get("attachments") or []
    if message.conversation_id != conversation_id or not 0 <= index < len(files):
        abort(404)
    entry = files[index] if isinstance(files[index], dict) else {}
    path = container().attachments.path(staff.workspace_id, str(entry.get("stored") or ""))
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=str(entry.get("name") or path.name),
    )


@bp.post("/api/conversations")
@login_required
def start():  # type: ignore[no-untyped-def]
    staff = current()
    data = request.get_json(silent=True) or {}
    channel = str(data.get("channel") or "")
    if channel not in connected_channels():
        label = CHANNEL_LABELS.get(channel, channel or "That channel")
        raise ValidationError("channel", f"{label} is {NOT_CONNECTED}")
    contact_id = data.get("contact_id")
    new_contact = None
    if contact_id is None:
        fields = ("first_name", "last_name", "email", "phone")
        new_contact = ContactDetails(**{k: str(data.get(k) or "") for k in fields})
    elif not isinstance(contact_id, int):
        raise ValidationError("contact_id", "must be a number")
    template_id, values = _template_choice(data)
    conversation = container().conversations.start_conversation(
        staff.workspace_id,
        staff.member.id,
        channel,
        str(data.get("body") or ""),
        contact_id=contact_id,
        new_contact=new_contact,
        template_id=template_id,
        values=values,
    )
    return jsonify(conversation_id=conversation.id), 201

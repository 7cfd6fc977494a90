"""Live updates for staff: domain events out to Socket.IO rooms, and the /inbox namespace.

A staff browser joins its workspace room on connect and a conversation room only after a
permission check (rooms and emitters: ``web.rooms``).
"""

from __future__ import annotations

from typing import Any

from flask import request, session
from flask_socketio import SocketIO, join_room, leave_room

from agent.core.errors import NotFound
from agent.core.events import (
    ConversationEvent,
    ConversationUpdated,
    Event,
    EventBus,
    KnowledgeSourceUpdated,
    LeadCaptured,
    MessageCreated,
)
from agent.core.models import Channel, Message
from agent.core.ports import UnitOfWorkFactory
from inbox.knowledge_presenters import source_json
from inbox.presenters import contact_name, conversation_json, message_json
from web.rooms import (
    INBOX_NAMESPACE,
    WIDGET_NAMESPACE,
    Emit,
    conversation_room,
    visitor_room,
    workspace_room,
)

NAMESPACE = INBOX_NAMESPACE


class StaffBroadcaster:
    """Turns committed domain events into Socket.IO messages for the staff rooms."""

    def __init__(self, uow: UnitOfWorkFactory, emit: Emit) -> None:
        self._uow = uow
        self._emit = emit

    def attach(self, events: EventBus) -> None:
        events.subscribe(MessageCreated, self.on_event)
        events.subscribe(ConversationUpdated, self.on_event)
        events.subscribe(LeadCaptured, self.on_lead)
        events.subscribe(KnowledgeSourceUpdated, self.on_knowledge)

    def on_event(self, event: Event) -> None:
        assert isinstance(event, ConversationEvent)
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            conversation = repo.conversation(event.conversation_id)
            contact = repo.contact(conversation.contact_id)
            assignee = repo.member(conversation.assignee_id) if conversation.assignee_id else None
            message = None
            if isinstance(event, MessageCreated):  # the new message is also the newest one
                last: Message | None = repo.message(event.message_id)
                author = repo.member(last.author_member_id) if last.author_member_id else None
                message = message_json(last, author)
            else:
                last = next(iter(repo.messages(conversation.id, limit=1)), None)
            summary = conversation_json(conversation, contact, last, assignee=assignee)
        if message is not None:
            self._emit("message", message, conversation_room(event.conversation_id))
            summary["new_message"] = {"id": message["id"], "direction": message["direction"]}
        self._emit("conversation", summary, workspace_room(event.workspace_id))

    def on_lead(self, event: Event) -> None:
        assert isinstance(event, LeadCaptured)
        with self._uow(read_only=True) as uow:
            contact = uow.workspace(event.workspace_id).contact(event.contact_id)
            name = contact_name(contact)
        self._emit(
            "lead",
            {"conversation_id": event.conversation_id, "contact_name": name},
            workspace_room(event.workspace_id),
        )

    def on_knowledge(self, event: Event) -> None:
        """A source's status or progress for the knowledge page (``removed`` once deleted)."""
        assert isinstance(event, KnowledgeSourceUpdated)
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            try:
                source = repo.knowledge_source(event.source_id)
                data = source_json(source, repo.workspace().timezone)
            except NotFound:
                data = {"id": event.source_id, "removed": True}
        self._emit("knowledge", data, workspace_room(event.workspace_id))


def register_handlers(socketio: SocketIO, uow: UnitOfWorkFactory) -> None:
    """The /inbox namespace: authenticated connects, permission-checked joins, typing."""

    def staff() -> tuple[int, int] | None:
        member_id, workspace_id = session.get("member_id"), session.get("workspace_id")
        if not isinstance(member_id, int) or not isinstance(workspace_id, int):
            return None
        with uow(read_only=True) as work:
            try:
                work.workspace(workspace_id).member(member_id)
            except NotFound:
                return None
        return member_id, workspace_id

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth: Any = None) -> bool:
        who = staff()
        if who is None:
            return False  # refused: the browser sees connect_error
        join_room(workspace_room(who[1]))
        return True

    @socketio.on("join", namespace=NAMESPACE)
    def join(data: Any) -> dict[str, Any]:
        who = staff()
        conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
        if who is None or not isinstance(conversation_id, int):
            return {"ok": False, "error": "not allowed"}
        with uow(read_only=True) as work:
            try:
                work.workspace(who[1]).conversation(conversation_id)
            except NotFound:
                return {"ok": False, "error": "not allowed"}
        join_room(conversation_room(conversation_id))
        return {"ok": True}

    @socketio.on("leave", namespace=NAMESPACE)
    def leave(data: Any) -> None:
        conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
        if isinstance(conversation_id, int):
            leave_room(conversation_room(conversation_id))

    @socketio.on("typing", namespace=NAMESPACE)
    def typing(data: Any) -> None:
        who = staff()
        conversation_id = data.get("conversation_id") if isinstance(data, dict) else None
        if who is None or not isinstance(conversation_id, int):
            return
        with uow(read_only=True) as work:
            try:
                conversation = work.workspace(who[1]).conversation(conversation_id)
                name = work.workspace(who[1]).member(who[0]).name
            except NotFound:
                return
        payload = {"conversation_id": conversation_id, "who": name, "kind": "staff"}
        socketio.emit(
            "typing",
            payload,
            to=conversation_room(conversation_id),
            namespace=NAMESPACE,
            skip_sid=request.sid,  # type: ignore[attr-defined]
        )
        if conversation.channel == Channel.WEBCHAT and conversation.provider_thread_id:
            socketio.emit(
                "typing",
                {"kind": "staff", "name": name},
                to=visitor_room(who[1], conversation.provider_thread_id),
                namespace=WIDGET_NAMESPACE,
            )

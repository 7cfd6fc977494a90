"""Live updates for staff: domain events out to Socket.IO rooms, and the /inbox namespace.

A staff browser joins its member room, its workspace room and (admins) the workspace's
admins room on connect, and a conversation room only after a permission check (rooms and
emitters: ``web.rooms``). Every event checks again that the member still has the session
and the role the socket connected with; revoking access (removal, a new role, signing
out) disconnects the member's sockets at once (``web.rooms.end_member_sockets``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_socketio import SocketIO, disconnect, join_room, leave_room

from agent.core.errors import NotFound
from agent.core.events import (
    ConversationEvent,
    ConversationUpdated,
    Event,
    EventBus,
    KnowledgeSourceUpdated,
    LeadCaptured,
    MessageCreated,
    MessageStatusChanged,
)
from agent.core.models import Channel, Message, Role
from agent.core.ports import UnitOfWorkFactory, WorkspaceScope
from inbox.knowledge_presenters import source_json
from inbox.presenters import contact_name, conversation_json, message_json
from web.rooms import (
    INBOX_NAMESPACE,
    WIDGET_NAMESPACE,
    Emit,
    admins_room,
    conversation_room,
    member_room,
    visitor_room,
    workspace_room,
)
from web.security import session_member
from web.sockets import answers, connects

NAMESPACE = INBOX_NAMESPACE
ROLE_KEY = "socket_role"  # the member's role when the socket connected


class StaffBroadcaster:
    """Turns committed domain events into Socket.IO messages for the staff rooms."""

    def __init__(self, uow: UnitOfWorkFactory, emit: Emit) -> None:
        self._uow = uow
        self._emit = emit

    def attach(self, events: EventBus) -> None:
        """New messages come through ``web.fanout.MessageFanout`` (one read for every view)."""
        events.subscribe(ConversationUpdated, self.on_event)
        events.subscribe(LeadCaptured, self.on_lead)
        events.subscribe(KnowledgeSourceUpdated, self.on_knowledge)
        events.subscribe(MessageStatusChanged, self.on_status)

    def on_event(self, event: Event) -> None:
        with self._uow(read_only=True) as uow:
            send = self.prepare(uow.workspace(event.workspace_id), event)
        send()

    def prepare(self, repo: WorkspaceScope, event: Event) -> Callable[[], None]:
        """Read what staff see of a new message or a changed conversation; the returned
        function emits it (after the read session has ended)."""
        assert isinstance(event, ConversationEvent)
        conversation = repo.conversations.get(event.conversation_id)
        contact = repo.contacts.get(conversation.contact_id)
        assignee = repo.team.get(conversation.assignee_id) if conversation.assignee_id else None
        message = None
        if isinstance(event, MessageCreated):  # the new message is also the newest one
            last: Message | None = repo.messages.get(event.message_id)
            author = repo.team.get(last.author_member_id) if last.author_member_id else None
            message = message_json(last, author)
        else:
            last = next(iter(repo.messages.for_conversation(conversation.id, limit=1)), None)
        summary = conversation_json(conversation, contact, last, assignee=assignee)

        def send() -> None:
            if message is not None:
                self._emit("message", message, conversation_room(event.conversation_id))
                summary["new_message"] = {"id": message["id"], "direction": message["direction"]}
            self._emit("conversation", summary, workspace_room(event.workspace_id))

        return send

    def on_lead(self, event: Event) -> None:
        assert isinstance(event, LeadCaptured)
        with self._uow(read_only=True) as uow:
            contact = uow.workspace(event.workspace_id).contacts.get(event.contact_id)
            name = contact_name(contact)
        self._emit(
            "lead",
            {"conversation_id": event.conversation_id, "contact_name": name},
            workspace_room(event.workspace_id),
        )

    def on_status(self, event: Event) -> None:
        """An outbound message was sent, delivered, read or failed: the thread redraws it."""
        assert isinstance(event, MessageStatusChanged)
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            message = repo.messages.get(event.message_id)
            author = repo.team.get(message.author_member_id) if message.author_member_id else None
            data = message_json(message, author)
        self._emit("message_status", data, conversation_room(event.conversation_id))

    def on_knowledge(self, event: Event) -> None:
        """A source's status or progress for the knowledge page (``removed`` once deleted)."""
        assert isinstance(event, KnowledgeSourceUpdated)
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            try:
                source = repo.knowledge.get(event.source_id)
                data = source_json(source, repo.workspace().timezone)
            except NotFound:
                data = {"id": event.source_id, "removed": True}
        self._emit("knowledge", data, admins_room(event.workspace_id))  # staff get 403


def _conversation_id(data: Any) -> int | None:
    """The conversation an event names: an id a database could hold, else None."""
    value = data.get("conversation_id") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        return None
    return value


def register_handlers(socketio: SocketIO, uow: UnitOfWorkFactory) -> None:
    """The /inbox namespace: authenticated connects, permission-checked joins, typing."""

    def staff() -> tuple[int, int] | None:
        """(member id, workspace id) while the member keeps the session and role the socket
        connected with; otherwise the socket is disconnected and the answer is None."""
        member = session_member(uow)
        if member is None or member.role != session.get(ROLE_KEY):
            disconnect()  # removed, signed out or given a new role since it connected
            return None
        return member.id or 0, member.workspace_id

    @socketio.on("connect", namespace=NAMESPACE)
    @connects("The inbox could not connect. Please reload the page.")
    def connect(auth: Any = None) -> bool:
        member_id = session.get("member_id")
        if isinstance(member_id, int):
            # First, so a revocation committed after the check below still finds this socket.
            join_room(member_room(member_id))
        member = session_member(uow)
        if member is None:
            return False  # refused: the browser sees connect_error
        session[ROLE_KEY] = str(member.role)  # this socket's copy of the session only
        join_room(workspace_room(member.workspace_id))
        if member.role == Role.ADMIN:
            join_room(admins_room(member.workspace_id))
        return True

    @socketio.on("join", namespace=NAMESPACE)
    @answers("The conversation could not be opened. Please reload the page.")
    def join(data: Any) -> dict[str, Any]:
        who = staff()
        conversation_id = _conversation_id(data)
        if who is None or conversation_id is None:
            return {"ok": False, "error": "not allowed"}
        with uow(read_only=True) as work:
            try:
                work.workspace(who[1]).conversations.get(conversation_id)
            except NotFound:
                return {"ok": False, "error": "not allowed"}
        join_room(conversation_room(conversation_id))
        return {"ok": True}

    @socketio.on("leave", namespace=NAMESPACE)
    @answers("The conversation could not be left. Please reload the page.")
    def leave(data: Any) -> dict[str, Any] | None:
        if staff() is None:
            return {"ok": False, "error": "not allowed"}
        conversation_id = _conversation_id(data)
        if conversation_id is not None:
            leave_room(conversation_room(conversation_id))

    @socketio.on("typing", namespace=NAMESPACE)
    @answers("Typing could not be shown.")
    def typing(data: Any) -> None:
        who = staff()
        conversation_id = _conversation_id(data)
        if who is None or conversation_id is None:
            return
        with uow(read_only=True) as work:
            try:
                conversation = work.workspace(who[1]).conversations.get(conversation_id)
                name = work.workspace(who[1]).team.get(who[0]).name
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

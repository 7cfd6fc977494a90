"""The visitors' Socket.IO namespace ``/widget``, and the broadcaster that feeds it.

A frame connects with the signed frame token from its page (which workspace, which host
site) and, when it has them, the visitor credentials it kept in localStorage; without
valid ones the server mints new credentials. Every socket of a visitor joins that
visitor's room, so each tab sees the whole conversation. Sending is idempotent on the
frame's client id, so a message resent after a reconnect is stored once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room

from agent.core.after_hours import TIMEZONE, visitor_zone
from agent.core.conversations import Inbound
from agent.core.errors import NotFound, ValidationError
from agent.core.events import ConversationUpdated, Event, EventBus, MessageCreated
from agent.core.models import (
    TRY_IT_THREAD_PREFIX,
    Channel,
    Conversation,
    DeliveryStatus,
    Direction,
    TeamMember,
)
from agent.core.ports import UnitOfWorkFactory, WorkspaceScope
from agent.services import Services
from web.counters import Counter, make_counter
from web.rooms import INBOX_NAMESPACE, Emit, conversation_room, visitor_room
from web.rooms import WIDGET_NAMESPACE as NAMESPACE
from web.sockets import answers, connects
from widget.identity import new_visitor_id, read_frame_token, visitor_token, visitor_valid
from widget.origins import REFUSED, allowed_origins, origin_allowed
from widget.presenters import visitor_facing, widget_conversation, widget_message
from widget.snippet import snippet_base

EXPIRED = "This chat has expired. Please reload the page."
TOO_FAST = "You're sending messages too quickly. Please wait a minute and try again."
EMPTY = "Please type a message first."
BROKEN = "Your message could not be sent. Please reload the page and try again."
FAILED = "Your message could not be sent. Please try again."
UNAVAILABLE = "The chat is unavailable right now. Please try again later."
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_CONVERSATION_CHANGES = frozenset({"created", "mode", "status", "assignee_id"})


@dataclass(frozen=True)
class RateLimits:
    """Messages a visitor, and an IP address, may send per window (seconds)."""

    per_visitor: int = 10
    per_ip: int = 30
    window: int = 60


class MessageLimiter:
    """Fixed-window counts per visitor and per address (Redis-shared when there is Redis)."""

    def __init__(self, counter: Counter, limits: RateLimits) -> None:
        self._counter = counter
        self.limits = limits

    def retry_after(self, workspace_id: int, visitor_id: str, ip: str) -> int | None:
        """Counts this message against both limits (one round trip); seconds to wait when
        it is over either, else None."""
        limits = self.limits
        visitor, address = self._counter.hit_all(
            [f"visitor:{workspace_id}:{visitor_id}", f"ip:{ip}"], limits.window
        )
        if visitor > limits.per_visitor or address > limits.per_ip:
            return limits.window
        return None


@dataclass
class Visitor:
    """What one /widget socket is: kept in the Socket.IO session of that socket."""

    workspace_id: int
    visitor_id: str
    origin: str
    ip: str
    business_name: str
    conversation_id: int | None = None
    timezone: str = ""  # the browser's IANA time zone, when it sent a real one

    @property
    def room(self) -> str:
        return visitor_room(self.workspace_id, self.visitor_id)


def _authors(repo: WorkspaceScope) -> dict[int, TeamMember]:
    return {member.id: member for member in repo.team.all() if member.id is not None}


def _visitor_thread(conversation: Conversation) -> str | None:
    """The visitor id of a widget conversation; None for other channels and try-it chats."""
    thread = conversation.provider_thread_id
    if conversation.channel != Channel.WEBCHAT or not thread:
        return None
    return None if thread.startswith(TRY_IT_THREAD_PREFIX) else thread


class WidgetBroadcaster:
    """Committed domain events out to the visitor's room: their messages and mode changes.

    Outbound messages emitted here have reached the web chat channel: marked sent.
    """

    def __init__(self, uow: UnitOfWorkFactory, emit: Emit) -> None:
        self._uow = uow
        self._emit = emit

    def attach(self, events: EventBus) -> None:
        """New messages come through ``web.fanout.MessageFanout`` (one read for every view)."""
        events.subscribe(ConversationUpdated, self.on_conversation)

    def prepare(self, repo: WorkspaceScope, event: Event) -> Callable[[], None]:
        """Read what the visitor sees of a new message; the returned function sends it
        (marking an outbound message sent: the chat is its channel)."""
        assert isinstance(event, MessageCreated)
        thread = _visitor_thread(repo.conversations.get(event.conversation_id))
        if thread is None:
            return _nothing
        message = repo.messages.get(event.message_id)
        if not visitor_facing(message):
            return _nothing
        author = repo.team.get(message.author_member_id) if message.author_member_id else None
        data = widget_message(message, author, repo.workspace().name)
        queued = message.direction == Direction.OUTBOUND and (
            message.delivery_status == DeliveryStatus.QUEUED
        )

        def send() -> None:
            if queued:
                with self._uow() as uow:
                    uow.workspace(event.workspace_id).messages.get(
                        event.message_id
                    ).delivery_status = DeliveryStatus.SENT
                    uow.commit()
            self._emit("message", data, visitor_room(event.workspace_id, thread))

        return send

    def on_conversation(self, event: Event) -> None:
        assert isinstance(event, ConversationUpdated)
        if not _CONVERSATION_CHANGES & set(event.changes):
            return
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            conversation = repo.conversations.get(event.conversation_id)
            thread = _visitor_thread(conversation)
            if thread is None:
                return
            assignee = repo.team.get(conversation.assignee_id) if conversation.assignee_id else None
            data = widget_conversation(conversation, assignee)
        self._emit("conversation", data, visitor_room(event.workspace_id, thread))


def _nothing() -> None:
    pass


def message_limiter(container: Services, limits: RateLimits) -> MessageLimiter:
    counter = make_counter(container.redis_url, lambda: container.redis, "frontdesk:widget:")
    return MessageLimiter(counter, limits)


def register_handlers(socketio: SocketIO, container: Services, limiter: MessageLimiter) -> None:
    """The /widget namespace: token-checked connects, history, sending, typing."""
    secret = str(container.settings.secret_key)
    uow = container.uow
    visitors: dict[str, Visitor] = {}  # by socket id, while connected

    def current() -> Visitor:
        return visitors[request.sid]  # type: ignore[attr-defined]

    def remember(visitor: Visitor) -> None:
        visitors[request.sid] = visitor  # type: ignore[attr-defined]

    @socketio.on("disconnect", namespace=NAMESPACE)
    def disconnect(reason: Any = None) -> None:
        visitors.pop(request.sid, None)  # type: ignore[attr-defined]

    @socketio.on("connect", namespace=NAMESPACE)
    @connects(UNAVAILABLE)
    def connect(auth: Any = None) -> bool:
        auth = auth if isinstance(auth, dict) else {}
        grant = read_frame_token(secret, auth.get("frame_token"))
        if grant is None:
            raise ConnectionRefusedError(EXPIRED)
        visitor_id = auth.get("visitor_id")
        minted = not visitor_valid(
            secret, grant.workspace_id, visitor_id, auth.get("visitor_token")
        )
        if minted:
            visitor_id = new_visitor_id()
        with uow(read_only=True) as work:
            repo = work.workspace(grant.workspace_id)
            try:
                workspace = repo.workspace()
            except NotFound:
                raise ConnectionRefusedError(EXPIRED) from None
            conversation = repo.conversations.by_thread(Channel.WEBCHAT, visitor_id)
        base = snippet_base(container.settings.public_url, request.host_url)
        if not origin_allowed(grant.origin, allowed_origins(workspace.widget or {}, base)):
            raise ConnectionRefusedError(REFUSED)
        visitor = Visitor(
            workspace_id=grant.workspace_id,
            visitor_id=visitor_id,
            origin=grant.origin,
            ip=request.remote_addr or "unknown",
            business_name=workspace.name,
            conversation_id=conversation.id if conversation else None,
            timezone=auth.get("timezone") if visitor_zone(auth.get("timezone")) else "",
        )
        remember(visitor)
        join_room(visitor.room)
        if minted:
            token = visitor_token(secret, grant.workspace_id, visitor_id)
            emit("identity", {"visitor_id": visitor_id, "visitor_token": token})
        return True

    @socketio.on("history", namespace=NAMESPACE)
    @answers("The conversation could not be loaded. Please try again.")
    def history(data: Any) -> dict[str, Any]:
        visitor = current()
        after_id = data.get("after_id", 0) if isinstance(data, dict) else 0
        if not isinstance(after_id, int) or isinstance(after_id, bool):
            after_id = 0
        with uow(read_only=True) as work:
            repo = work.workspace(visitor.workspace_id)
            conversation = repo.conversations.by_thread(Channel.WEBCHAT, visitor.visitor_id)
            if conversation is None:
                return {"ok": True, "messages": [], "conversation": None}
            authors = _authors(repo)
            messages = [
                widget_message(m, authors.get(m.author_member_id or 0), visitor.business_name)
                for m in repo.messages.for_conversation(conversation.id)
                if m.id is not None and m.id > after_id and visitor_facing(m)
            ]
            summary = widget_conversation(conversation, authors.get(conversation.assignee_id or 0))
        return {"ok": True, "messages": messages, "conversation": summary}

    @socketio.on("message", namespace=NAMESPACE)
    @answers(FAILED)
    def message(data: Any) -> dict[str, Any]:
        visitor = current()
        data = data if isinstance(data, dict) else {}
        body, client_id = data.get("body"), data.get("client_id")
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            return {"ok": False, "error": BROKEN}
        if not isinstance(body, str) or not body.strip():
            return {"ok": False, "error": EMPTY}
        # Scoped to the visitor: another visitor's client id can never fetch this message.
        provider_id = f"{visitor.visitor_id}:{client_id}"
        limit = container.settings.max_message_chars
        if len(body.strip()) > limit:
            return {
                "ok": False,
                "error": f"Your message is too long: please keep it under {limit:,} characters.",
            }
        retry_after = limiter.retry_after(visitor.workspace_id, visitor.visitor_id, visitor.ip)
        if retry_after is not None:
            # A resend after a reconnect is answered even over the limit: it is stored
            # already. (Under the limit, receive() finds it by the unique key.)
            with uow(read_only=True) as work:
                stored = work.workspace(visitor.workspace_id).messages.by_provider_id(
                    Channel.WEBCHAT, provider_id
                )
            if stored is None:
                return {"ok": False, "error": TOO_FAST, "retry_after": retry_after}
            return {"ok": True, "message": widget_message(stored, None, visitor.business_name)}
        inbound = Inbound(
            channel=Channel.WEBCHAT,
            body=body,
            thread_id=visitor.visitor_id,
            provider_message_id=provider_id,
            meta={
                "origin": visitor.origin,
                "client_id": client_id,
                **({TIMEZONE: visitor.timezone} if visitor.timezone else {}),
            },
        )
        try:
            received = container.conversations.receive(
                visitor.workspace_id, inbound, expect_new=True
            )
        except ValidationError as exc:  # the service's own checks, as a sentence
            return {"ok": False, "error": f"Your message could not be sent: {exc.message}."}
        if visitor.conversation_id is None:
            visitor.conversation_id = received.conversation.id
            remember(visitor)
        if received.awaiting_ai:
            socketio.emit(
                "typing",
                {"kind": "ai", "name": visitor.business_name},
                to=visitor.room,
                namespace=NAMESPACE,
            )
        return {
            "ok": True,
            "message": widget_message(received.message, None, visitor.business_name),
        }

    @socketio.on("typing", namespace=NAMESPACE)
    @answers("Typing could not be shown.")
    def typing(data: Any) -> None:
        visitor = current()
        if visitor.conversation_id is None:
            return
        with uow(read_only=True) as work:
            repo = work.workspace(visitor.workspace_id)
            who = repo.contacts.get(
                repo.conversations.get(visitor.conversation_id).contact_id
            ).display_name
        socketio.emit(
            "typing",
            {"conversation_id": visitor.conversation_id, "who": who, "kind": "visitor"},
            to=conversation_room(visitor.conversation_id),
            namespace=INBOX_NAMESPACE,
        )

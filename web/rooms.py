"""Socket.IO namespaces, rooms and emitters, shared by the inbox and the widget.

Rooms on the staff's ``/inbox`` namespace: ``workspace-<id>`` (the conversation list,
lead alerts), ``admins-<workspace id>`` (knowledge sources: admins only),
``conversation-<id>`` (the open thread, typing) and ``member-<id>`` (every socket of one
team member, so their access can be revoked); ``visitor-<workspace id>-<visitor id>`` (one
web chat visitor's tabs) on ``/widget``. Web and worker processes both publish through the
Redis message queue, so any web process can deliver any event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import redis
import socketio as socketio_pkg
from flask_socketio import SocketIO

INBOX_NAMESPACE = "/inbox"
WIDGET_NAMESPACE = "/widget"
Emit = Callable[[str, dict[str, Any], str], None]  # (event, data, room)
Batch = Callable[[], AbstractContextManager[object]]  # emits inside go out together
PUBLISH_CONNECTIONS = 32  # per web process, to the Socket.IO message queue


def socket_transports(web_processes: int) -> list[str]:
    """What Socket.IO clients may use: long-polling too when one process holds every
    session, WebSocket only when several share the port (a connection never moves)."""
    return ["websocket"] if web_processes > 1 else ["websocket", "polling"]


def workspace_room(workspace_id: int) -> str:
    return f"workspace-{workspace_id}"


def admins_room(workspace_id: int) -> str:
    """The workspace's admins' sockets: what staff may not see (knowledge sources)."""
    return f"admins-{workspace_id}"


def conversation_room(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


MEMBER_ROOM_PREFIX = "member-"


def member_room(member_id: int) -> str:
    """Every /inbox socket of one team member (joined on connect, before any other room)."""
    return f"{MEMBER_ROOM_PREFIX}{member_id}"


def visitor_room(workspace_id: int, visitor_id: str) -> str:
    """A web chat visitor (every tab of theirs), on the /widget namespace."""
    return f"visitor-{workspace_id}-{visitor_id}"


def socketio_emitter(socketio: SocketIO, namespace: str) -> Emit:
    def emit(event: str, data: dict[str, Any], room: str) -> None:
        socketio.emit(event, data, to=room, namespace=namespace)

    return emit


def queue_emitter(manager: socketio_pkg.RedisManager, namespace: str) -> Emit:
    """For worker processes: publish through Redis (``queue_publisher``) without serving
    any client."""

    def emit(event: str, data: dict[str, Any], room: str) -> None:
        manager.emit(event, data, namespace=namespace, room=room)

    return emit


def batch_of(manager: object) -> Batch:
    """The manager's ``batch`` where it publishes through Redis; elsewhere emits are
    local calls, and there is nothing to gather."""
    return getattr(manager, "batch", nullcontext)


# -- publishing through Redis ----------------------------------------------------------

BATCH_METHOD = "frontdesk-batch"  # one Redis message carrying several pubsub messages


class _BatchingRedisManager(socketio_pkg.RedisManager):
    """A Redis client manager that can publish several emits as one Redis message.

    A new message goes out as three emits (the thread, the conversation list, the
    visitor's chat); inside ``batch()`` they are delivered locally at once as usual, and
    published to the other processes in one ``PUBLISH`` that each listener unpacks. That
    is one Redis round trip and one wake-up of every process's listener instead of three.
    """

    _gathered: ContextVar[list[dict[str, Any]] | None] = ContextVar(
        "socketio_batch", default=None
    )  # per greenlet or thread

    @contextmanager
    def batch(self) -> Iterator[None]:
        if self._gathered.get() is not None:  # already inside one: it publishes them all
            yield
            return
        gathered: list[dict[str, Any]] = []
        token = self._gathered.set(gathered)
        try:
            yield
        finally:
            self._gathered.reset(token)
            if len(gathered) == 1:
                super()._publish(gathered[0])
            elif gathered:
                # host_id first: a listener skips its own batch by the prefix, unparsed.
                packed = {"host_id": self.host_id, "method": BATCH_METHOD, "messages": gathered}
                super()._publish(packed)

    def _publish(self, data: dict[str, Any]) -> Any:
        gathered = self._gathered.get()
        if gathered is None:
            return super()._publish(data)
        gathered.append(data)
        return None

    def _handle_emit(self, message: dict[str, Any]) -> None:
        """Delivers an emit to this process's sockets, if any are in its room: most rooms
        of a message's emits are empty in most processes (the thread nobody has open, the
        visitor another process holds), and building the packet was most of the cost."""
        room, namespace = message.get("room"), message.get("namespace") or "/"
        nobody = isinstance(room, str) and not self.rooms.get(namespace, {}).get(room)
        if nobody and message.get("callback") is None:
            return
        super()._handle_emit(message)

    def _listen(self) -> Iterator[Any]:
        """The messages as the base listener dispatches them, a batch unpacked (and one
        of this process's own skipped whole: its emits were delivered here already)."""
        own = self.json.dumps({"host_id": self.host_id})[:-1].encode()
        for raw in super()._listen():
            if isinstance(raw, bytes) and raw.startswith(own):
                continue  # this process's batch: its emits were delivered here already
            try:
                data = self.json.loads(raw)
            except ValueError:
                continue  # not ours: the base listener ignores it too
            if isinstance(data, dict) and data.get("method") == BATCH_METHOD:
                yield from (m for m in data.get("messages") or [] if isinstance(m, dict))
            else:
                yield data


def queue_publisher(redis_url: str, channel: str) -> _BatchingRedisManager:
    """A worker process's manager: it publishes to the web processes and serves nobody."""
    return _BatchingRedisManager(redis_url, channel=channel, write_only=True)


# -- revoking access -------------------------------------------------------------------

CONNECT_GRACE = 10.0  # seconds a socket still in its connect handler may take to finish


def end_member_sockets(socketio: SocketIO, member_id: int) -> None:
    """Disconnect every /inbox socket of the member, in every web process, at once.

    Closing the member's room does it: on the managers ``client_manager`` makes, closing a
    member room disconnects its sockets, and with Redis ``close_room`` reaches every web
    process through the message queue. A browser still allowed reconnects, and joins the
    rooms its access allows now.
    """
    socketio.server.close_room(member_room(member_id), namespace=INBOX_NAMESPACE)


class _RevocableManager(socketio_pkg.Manager):
    """A client manager on which closing a member room disconnects its sockets.

    Each process closes a room among its own sockets (the message queue relays
    ``close_room`` to all of them), so each disconnects its own. A socket still in its
    connect handler (which joins the member room first, then checks the session) cannot be
    disconnected yet: it is disconnected as soon as its connection completes.
    """

    def basic_close_room(self, room: str, namespace: str) -> None:
        if namespace == INBOX_NAMESPACE and str(room).startswith(MEMBER_ROOM_PREFIX):
            for sid, _eio_sid in list(self.get_participants(namespace, room)):
                self._end_socket(sid, namespace)
        super().basic_close_room(room, namespace)

    def _end_socket(self, sid: str, namespace: str) -> None:
        if self.is_connected(sid, namespace):
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        elif self.is_pre_connected(sid, namespace):
            self.server.start_background_task(self._end_once_connected, sid, namespace)

    def _end_once_connected(self, sid: str, namespace: str) -> None:
        deadline = time.monotonic() + CONNECT_GRACE
        while time.monotonic() < deadline:
            try:
                if self.is_connected(sid, namespace):
                    self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
                    return
                if not self.is_pre_connected(sid, namespace):
                    return  # refused, or gone
            except KeyError:  # the connection's state changed under us: look again
                pass
            self.server.sleep(0.02)


class _RevocableRedisManager(_RevocableManager, _BatchingRedisManager):
    """The same, for web processes sharing the Redis message queue."""

    def _redis_connect(self) -> None:
        # Under the gevent server hundreds of greenlets publish at once: from a bounded
        # pool they wait their turn, where redis-py's default pool refuses the 101st
        # ("Too many connections") and the event is lost.
        pool = redis.BlockingConnectionPool.from_url(
            self.redis_url, max_connections=PUBLISH_CONNECTIONS, timeout=10
        )
        self.redis = redis.Redis(connection_pool=pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True


def client_manager(redis_url: str, channel: str) -> socketio_pkg.Manager:
    """The web process's Socket.IO client manager: through Redis when there is one."""
    if redis_url:
        return _RevocableRedisManager(redis_url, channel=channel)
    return _RevocableManager()

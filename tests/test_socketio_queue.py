"""The Socket.IO message queue on a real Redis: several emits published as one message.

Two "processes" in this one: a web process's client manager (its listener thread running)
and a worker's publisher, each with a host id of its own, on a channel of the test's own.
A raw Redis subscriber counts what is published.
"""

from __future__ import annotations

import contextlib
import json
import queue
import time
import uuid
from typing import Any

import redis
import socketio

from web import rooms


def _web_process(redis_url: str, channel: str) -> tuple[socketio.Server, queue.Queue]:
    """A web process's server whose deliveries to its own sockets are recorded."""
    server = socketio.Server(
        client_manager=rooms.client_manager(redis_url, channel), async_mode="threading"
    )
    delivered: queue.Queue = queue.Queue()
    server.manager._handle_emit = lambda message: delivered.put(  # type: ignore[method-assign]
        (message["event"], message["room"], message["data"])
    )
    server.manager.initialize()  # starts the listener
    return server, delivered


def _subscribers(conn: redis.Redis, channel: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while conn.pubsub_numsub(channel)[0][1] < count:
        assert time.monotonic() < deadline, "the listener never subscribed"
        time.sleep(0.02)


def _drain(delivered: queue.Queue, wait: float = 0.5) -> list[Any]:
    got = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            got.append(delivered.get(timeout=0.05))
    return got


def _published(pubsub: Any) -> list[Any]:
    found = []
    while (message := pubsub.get_message(timeout=0.3)) is not None:
        found.append(message)
    return found


def test_a_batch_is_one_publish_that_every_other_process_unpacks(redis_url: str) -> None:
    channel = f"test-socketio-{uuid.uuid4().hex}"
    conn = redis.Redis.from_url(redis_url)
    watcher = conn.pubsub(ignore_subscribe_messages=True)
    watcher.subscribe(channel)
    _web, delivered = _web_process(redis_url, channel)
    _subscribers(conn, channel, 2)
    worker = rooms.queue_publisher(redis_url, channel)
    staff = rooms.queue_emitter(worker, rooms.INBOX_NAMESPACE)
    visitor = rooms.queue_emitter(worker, rooms.WIDGET_NAMESPACE)

    with rooms.batch_of(worker)():
        staff("message", {"id": 1}, "conversation-7")
        with rooms.batch_of(worker)():  # a batch inside one: still one publish
            staff("conversation", {"id": 7}, "workspace-3")
        visitor("message", {"id": 1}, "visitor-3-v")
        assert _published(watcher) == []  # nothing leaves before the batch ends
    assert len(_published(watcher)) == 1
    assert _drain(delivered) == [
        ("message", "conversation-7", [{"id": 1}]),
        ("conversation", "workspace-3", [{"id": 7}]),
        ("message", "visitor-3-v", [{"id": 1}]),
    ]

    # Outside a batch, and a batch of one: plain messages, as any other process sends.
    staff("typing", {"id": 7}, "conversation-7")
    with rooms.batch_of(worker)():
        staff("lead", {"id": 7}, "workspace-3")
    plain = [json.loads(m["data"]) for m in _published(watcher)]
    assert [m["method"] for m in plain] == ["emit", "emit"]
    assert [e for e, _, _ in _drain(delivered)] == ["typing", "lead"]


def test_a_process_delivers_its_own_batch_once(redis_url: str) -> None:
    channel = f"test-socketio-{uuid.uuid4().hex}"
    conn = redis.Redis.from_url(redis_url)
    web, delivered = _web_process(redis_url, channel)
    _other, other_delivered = _web_process(redis_url, channel)
    _subscribers(conn, channel, 2)

    with rooms.batch_of(web.manager)():
        web.manager.emit("message", {"id": 2}, namespace="/inbox", room="conversation-8")
        web.manager.emit("conversation", {"id": 8}, namespace="/inbox", room="workspace-3")
    # Delivered here as it was emitted, not again when the batch comes back from Redis;
    # the other process gets it once, through Redis.
    expected = [
        ("message", "conversation-8", [{"id": 2}]),
        ("conversation", "workspace-3", [{"id": 8}]),
    ]
    assert _drain(delivered) == expected
    assert _drain(other_delivered) == expected


def test_no_batch_without_redis() -> None:
    # One process and no queue: emits are local calls, and the batch is a plain block.
    manager = rooms.client_manager("", "unused")
    with rooms.batch_of(manager)():
        pass
    assert not hasattr(manager, "batch")


def test_a_process_builds_packets_only_for_rooms_it_holds_sockets_in(redis_url: str) -> None:
    # A message's emits mostly name rooms empty in this process (the thread nobody has
    # open, a visitor another process holds): nothing is encoded for them.
    server = socketio.Server(
        client_manager=rooms.client_manager(redis_url, f"test-socketio-{uuid.uuid4().hex}"),
        async_mode="threading",
    )
    built: list[Any] = []
    sent: list[str] = []

    class Counted(server.packet_class):  # type: ignore[name-defined,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(kwargs.get("data"))
            super().__init__(*args, **kwargs)

    server.packet_class = Counted
    server._send_eio_packet = lambda eio_sid, _packet: sent.append(eio_sid)  # type: ignore[method-assign]
    sid = server.manager.connect("eio-staff", rooms.INBOX_NAMESPACE)
    server.manager.basic_enter_room(sid, rooms.INBOX_NAMESPACE, "workspace-3")
    server.manager.emit(
        "message", {"id": 1}, namespace=rooms.INBOX_NAMESPACE, room="conversation-7"
    )
    server.manager.emit(
        "conversation", {"id": 7}, namespace=rooms.INBOX_NAMESPACE, room="workspace-3"
    )
    assert built == [["conversation", {"id": 7}]] and sent == ["eio-staff"]

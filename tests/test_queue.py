"""Background turns through real rq and Redis: locking, idempotency and failure records."""

from __future__ import annotations

import threading
import time

import pytest
from rq import Retry

from agent.core.conversations import Inbound
from agent.core.models import AuthorKind
from agent.core.turns import TurnOutcome, TurnRunner
from agent.queue.dispatch import RqTurnDispatcher
from agent.queue.locks import LockTimeout, RedisLocks
from agent.queue.redis_server import EmbeddedRedis
from frontdesk.wiring import build
from tests.conftest import make_workspace


def visitor(body, thread="v1", pmid=None):
    return Inbound(channel="webchat", body=body, thread_id=thread, provider_message_id=pmid)


def test_visitor_message_is_answered_by_a_worker(queued):
    container, _responder = queued
    workspace, _ = make_workspace(container)
    received = container.conversations.receive(workspace.id, visitor("hello"))
    assert isinstance(container.dispatcher, RqTurnDispatcher)
    assert container.queue("turns").count == 1
    container.worker().work(burst=True)
    with container.uow() as uow:
        thread = uow.workspace(workspace.id).messages.for_conversation(received.conversation.id)
    assert [(m.author_kind, m.body) for m in thread][1:] == [
        (AuthorKind.CONTACT, "hello"),
        (AuthorKind.AI, f"echo {received.message.id}"),
    ]  # after the web chat's welcome message
    assert thread[2].reply_to_id == received.message.id


def test_turns_are_idempotent_and_respect_human_mode(queued):
    container, responder = queued
    workspace, dana = make_workspace(container)
    received = container.conversations.receive(workspace.id, visitor("hello"))
    runner = container.turns
    conv_id, msg_id = received.conversation.id, received.message.id
    assert runner.run(workspace.id, conv_id, msg_id) is TurnOutcome.ANSWERED
    assert runner.run(workspace.id, conv_id, msg_id) is TurnOutcome.ALREADY_ANSWERED
    later = container.conversations.receive(workspace.id, visitor("more"))
    container.conversations.take_over(workspace.id, conv_id, dana.id)
    assert runner.run(workspace.id, conv_id, later.message.id) is TurnOutcome.NOT_AI
    assert responder.calls == 1


def test_one_turn_at_a_time_per_conversation(queued, redis_url):
    container, responder = queued
    responder.delay = 0.05
    workspace, _ = make_workspace(container)
    ids = []
    for thread in ("a", "b"):
        for n in range(3):
            r = container.conversations.receive(
                workspace.id, visitor(f"{thread}{n}", thread=thread)
            )
            ids.append((r.conversation.id, r.message.id))
    # Two workers' worth of threads, each with its own Redis connection, racing on the queue.
    runners = [
        TurnRunner(
            container.uow,
            RedisLocks(build(container.settings, redis_url=redis_url).redis),
            responder,
        )
        for _ in range(2)
    ]
    threads = [
        threading.Thread(target=runners[i % 2].run, args=(workspace.id, conv, msg))
        for i, (conv, msg) in enumerate(ids * 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(responder.max_active_per_conversation.values()) == {1}
    # All three messages of a conversation were stored before its first turn ran: that
    # turn answered them together, and every other job (duplicates included) saw it.
    assert responder.calls == 2
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        for conv in {conv for conv, _ in ids}:
            newest = max(msg for c, msg in ids if c == conv)
            replies = [
                m.body
                for m in repo.messages.for_conversation(conv)
                if m.author_kind == AuthorKind.AI and not m.meta.get("welcome")
            ]
            assert replies == [f"echo {newest}"]
        for _conv, msg in ids:
            assert repo.messages.reply_to(msg) is not None


def test_lock_timeout_is_an_error_not_a_silent_skip(redis_conn):
    locks = RedisLocks(redis_conn, ttl=5, wait=0.1)
    with locks.hold("conversation:1"):
        with pytest.raises(LockTimeout), locks.hold("conversation:1"):
            pass
        with locks.hold("conversation:2"):
            pass


def test_failed_jobs_are_recorded_and_retried(queued):
    container, responder = queued
    responder.fail = True
    workspace, _ = make_workspace(container)
    container.dispatcher._retry = Retry(max=1)  # one retry, no delay
    received = container.conversations.receive(workspace.id, visitor("hello"))
    container.worker().work(burst=True)
    with container.uow() as uow:
        failures = uow.job_failures()
    assert [f.final for f in reversed(failures)] == [False, True]
    assert all(f.workspace_id == workspace.id for f in failures)
    assert failures[0].function == "agent.queue.jobs.run_turn"
    assert failures[0].args == [workspace.id, received.conversation.id, received.message.id]
    assert "RuntimeError: the model is unreachable" in failures[0].error
    assert "Traceback" in failures[0].traceback
    assert container.queue("turns").failed_job_registry.count == 1
    assert responder.calls == 2


def test_embedded_redis_starts_attaches_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    assert url.startswith("unix://") and server.is_running()
    assert EmbeddedRedis(tmp_path / "redis").start() == url  # a second process attaches
    build_conn = build(None, redis_url=url).redis  # type: ignore[arg-type]
    build_conn.set("k", "v")
    assert build_conn.get("k") == b"v"
    server.stop()
    assert not server.is_running() and not server.socket_path.exists()


def test_embedded_redis_socket_path_stays_short(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket_path)) <= 100
    server.start()
    try:
        assert server.is_running()
    finally:
        server.stop()


class _Rounds:
    """Stands in for the knowledge and notification services: counts each call."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def refresh_due(self) -> None:
        self.calls.append("refresh")

    def send_digests(self) -> None:
        self.calls.append("digests")


def test_workers_take_turns_at_the_refresh_round(redis_conn):
    """Every worker that serves turns runs the refresh-and-digest round (so split
    deployments get it too), one at a time across workers: a round that finds another
    one running is skipped."""
    from frontdesk.cli.run import _start_refresh_scheduler

    rounds = _Rounds()
    locks = RedisLocks(redis_conn, ttl=5, wait=0)
    with locks.hold("refresh-round"):  # another worker is in the middle of a round
        stop = _start_refresh_scheduler(rounds, rounds, every=0.05, locks=locks)  # type: ignore[arg-type]
        time.sleep(0.3)
        assert rounds.calls == []
    deadline = time.monotonic() + 5
    while not rounds.calls and time.monotonic() < deadline:
        time.sleep(0.02)
    stop()
    assert rounds.calls[:2] == ["refresh", "digests"]

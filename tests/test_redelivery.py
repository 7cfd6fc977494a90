"""At-least-once turns: a turn lost or abandoned by a dead worker runs again within a
minute, exactly once in effect; short turn locks free a dead holder's conversation."""

from __future__ import annotations

import threading
import time

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from agent.core.conversations import Inbound
from agent.core.models import AuthorKind, Mode
from agent.queue.dispatch import TURNS_QUEUE
from agent.queue.locks import LockTimeout, RedisLocks
from tests.conftest import make_workspace


def visitor(body: str, thread: str) -> Inbound:
    return Inbound(channel="webchat", body=body, thread_id=thread)


def replies(container, workspace_id: int, conversation_id: int) -> list[str]:
    with container.uow() as uow:
        thread = uow.workspace(workspace_id).messages.for_conversation(conversation_id)
    return [m.body for m in thread if m.author_kind == AuthorKind.AI and not m.meta.get("welcome")]


def lose(container, job_id: str) -> None:
    """A worker took the job and died before registering it: queued, but in no queue."""
    container.redis.lrem(Queue(TURNS_QUEUE, connection=container.redis).key, 0, job_id)


def test_a_lost_turn_is_dispatched_again_after_a_minute_and_answered_once(queued):
    container, responder = queued
    workspace, _ = make_workspace(container)
    received = container.conversations.receive(workspace.id, visitor("anyone there?", "v1"))
    job_id = f"turn-{workspace.id}-{received.message.id}"
    lose(container, job_id)
    assert Job.fetch(job_id, connection=container.redis).get_status() == JobStatus.QUEUED
    container.worker().work(burst=True)
    assert replies(container, workspace.id, received.conversation.id) == []  # lost

    container.clock.advance(seconds=30)
    assert container.sweeper.sweep() == []  # too early: the turn may only be slow
    container.clock.advance(seconds=31)
    assert [r.message_id for r in container.sweeper.sweep()] == [received.message.id]
    assert container.sweeper.sweep() != []  # still unanswered ...
    assert len(container.queue(TURNS_QUEUE)) == 1  # ... but one fresh job is enough
    container.worker().work(burst=True)
    expected = [f"echo {received.message.id}"]
    assert replies(container, workspace.id, received.conversation.id) == expected
    assert container.sweeper.sweep() == []  # answered now
    container.worker().work(burst=True)
    assert responder.calls == 1


def test_an_abandoned_turn_runs_again_unless_its_worker_is_alive(queued):
    container, responder = queued
    workspace, _ = make_workspace(container)
    received = container.conversations.receive(workspace.id, visitor("hello?", "v1"))
    job = Job.fetch(f"turn-{workspace.id}-{received.message.id}", connection=container.redis)
    lose(container, job.id)
    job.set_status(JobStatus.STARTED)  # taken by a worker that then died mid-turn
    container.clock.advance(minutes=2)
    lock = f"conversation:{received.conversation.id}"
    holding, release = threading.Event(), threading.Event()

    def live_worker() -> None:
        with container.turn_locks.hold(lock):
            holding.set()
            release.wait(10)

    alive = threading.Thread(target=live_worker)
    alive.start()
    holding.wait(5)
    try:
        assert container.sweeper.sweep() == []  # its worker is alive: leave it
    finally:
        release.set()
        alive.join()
    assert len(container.sweeper.sweep()) == 1
    container.worker().work(burst=True)
    assert replies(container, workspace.id, received.conversation.id) == [
        f"echo {received.message.id}"
    ]
    assert responder.calls == 1


def test_only_unanswered_ai_conversations_within_the_window_are_swept(queued):
    container, _ = queued
    workspace, admin = make_workspace(container)
    service = container.conversations
    answered = service.receive(workspace.id, visitor("answered", "a"))
    container.worker().work(burst=True)
    human = service.receive(workspace.id, visitor("for staff", "b"))
    service.take_over(workspace.id, human.conversation.id, admin.id)
    closed = service.receive(workspace.id, visitor("closed", "c"))
    service.close(workspace.id, closed.conversation.id, admin.id)
    old = service.receive(workspace.id, visitor("long ago", "d"))
    for r in (human, closed, old):
        lose(container, f"turn-{workspace.id}-{r.message.id}")
    container.clock.advance(minutes=20)
    waiting = service.receive(workspace.id, visitor("waiting", "e"))
    lose(container, f"turn-{workspace.id}-{waiting.message.id}")
    container.clock.advance(minutes=2)
    fresh = service.receive(workspace.id, visitor("just now", "f"))
    with container.uow() as uow:
        assert uow.workspace(workspace.id).conversations.get(human.conversation.id).mode == (
            Mode.HUMAN
        )
    swept = container.sweeper.sweep()
    assert [r.message_id for r in swept] == [waiting.message.id]
    assert fresh.message.id not in {r.message_id for r in swept}
    assert answered.message.id not in {r.message_id for r in swept}


def test_turn_locks_outlive_their_ttl_while_held_and_free_a_dead_holder_fast(redis_conn):
    locks = RedisLocks(redis_conn, ttl=1.5, wait=0)
    with locks.hold("conversation:1"):
        time.sleep(3.5)  # over twice the ttl: renewals keep it
        assert locks.held("conversation:1")
        with pytest.raises(LockTimeout), locks.hold("conversation:1"):
            pass
    assert not locks.held("conversation:1")
    # A holder that dies renews nothing: the lock frees itself within the ttl.
    redis_conn.lock(RedisLocks.key("conversation:2"), timeout=1).acquire()
    assert locks.held("conversation:2")
    time.sleep(1.2)
    assert not locks.held("conversation:2")
    with locks.hold("conversation:2"):
        pass


def test_messages_left_to_staff_by_their_channel_are_not_swept(queued):
    container, _ = queued
    workspace, _ = make_workspace(container)
    service = container.conversations
    container.channels.connect_meta(
        workspace.id, "messenger", "1049382", access_token="EAAGm0PX4ZCp",
        app_secret="0f1e2d3c4b5a6978", verify_token="verify-123",
    )  # fmt: skip
    container.channels.set_auto_reply(workspace.id, "messenger", False)
    off = service.receive(
        workspace.id, Inbound(channel="messenger", body="hi", thread_id="6243551",
                              provider_message_id="m_1"),
    )  # fmt: skip
    blocked = service.receive(
        workspace.id,
        Inbound(channel="webchat", body="(sent image)", thread_id="g",
                meta={"no_auto_reply": "only an attachment"}),
    )  # fmt: skip
    waiting = service.receive(workspace.id, visitor("waiting", "h"))
    lose(container, f"turn-{workspace.id}-{waiting.message.id}")
    container.clock.advance(minutes=2)
    swept = {r.message_id for r in container.sweeper.sweep()}
    assert swept == {waiting.message.id}
    assert off.message.id not in swept and blocked.message.id not in swept

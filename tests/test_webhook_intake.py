"""Webhook intake through real Redis and rq: bodies kept in a list, drained in batches by
one job, nothing lost when a drainer dies or the database is away, a poison body kept
aside instead of blocking the rest."""

from __future__ import annotations

import pytest
from rq import Queue
from sqlalchemy.exc import OperationalError

from channels.webhooks import RqWebhookQueue, drain


@pytest.fixture
def queue(redis_conn):
    return Queue("default", connection=redis_conn)


def test_bodies_are_kept_in_order_and_one_drain_job_applies_them_all(queue, redis_conn):
    intake = RqWebhookQueue(queue)
    for n in range(250):
        intake.enqueue("meta", f"body {n}".encode())
    assert queue.count == 1  # one drain scheduled, not one job per body
    seen: list[bytes] = []
    assert drain(redis_conn, "meta", seen.append, batch=100) == 250
    assert seen == [f"body {n}".encode() for n in range(250)]
    assert redis_conn.llen("frontdesk:webhooks:meta") == 0
    intake.enqueue("meta", b"later")  # the drain finished: the next body schedules another
    assert queue.count == 2


def test_a_dead_drainer_s_batch_is_applied_first_by_the_next(queue, redis_conn):
    intake = RqWebhookQueue(queue)
    for n in range(5):
        intake.enqueue("meta", f"body {n}".encode())
    applied: list[bytes] = []

    def database_gone(body: bytes) -> None:
        if body == b"body 2":
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        applied.append(body)

    with pytest.raises(OperationalError):
        drain(redis_conn, "meta", database_gone, batch=3)
    assert redis_conn.lrange("frontdesk:webhooks:meta:processing", 0, -1) == [
        b"body 0", b"body 1", b"body 2",
    ]  # fmt: skip
    intake.enqueue("meta", b"body 5")  # the flag is still held: no second drain job
    assert queue.count == 1
    drain(redis_conn, "meta", applied.append, batch=3)  # the job's retry
    assert applied == [b"body 0", b"body 1"] + [f"body {n}".encode() for n in range(6)]


def test_a_body_that_cannot_be_applied_is_kept_aside(redis_conn, queue):
    intake = RqWebhookQueue(queue)
    for body in (b"ok 1", b"poison", b"ok 2"):
        intake.enqueue("whatsapp", body)
    applied: list[bytes] = []

    def handle(body: bytes) -> None:
        if body == b"poison":
            raise ValueError("a bug")
        applied.append(body)

    assert drain(redis_conn, "whatsapp", handle) == 3
    assert applied == [b"ok 1", b"ok 2"]
    assert redis_conn.lrange("frontdesk:webhooks:whatsapp:failed", 0, -1) == [b"poison"]


def test_kick_schedules_a_drain_for_bodies_left_by_a_lost_job(redis_conn, queue):
    intake = RqWebhookQueue(queue)
    intake.enqueue("meta", b"stranded")
    queue.empty()  # the drain job was lost...
    assert not intake.kick("meta")  # ...but its claim still stands: nothing yet
    redis_conn.delete("frontdesk:webhooks:meta:drain")  # the claim expired
    assert intake.kick("meta") and queue.count == 1
    assert not intake.kick("meta")  # once

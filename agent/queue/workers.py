"""Which workers are alive, per queue: each worker process beats while it runs.

rq's own worker keys live as long as the job a worker is running may take (hours for a
crawl), so a worker killed mid-job would look alive until then. This heartbeat is
independent of jobs: a thread renews a short-lived key every few seconds, so a dead
worker disappears from ``/healthz`` within ``TTL`` seconds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
PREFIX = "frontdesk:worker:"
TTL = 30  # seconds a beat stays valid
EVERY = 10  # seconds between beats


@contextmanager
def heartbeat(
    connection: redis.Redis, name: str, queues: Sequence[str], *, every: float = EVERY
) -> Iterator[None]:
    """Announce this worker (its queues and pid) until the block ends."""
    key = PREFIX + name
    value = json.dumps({"queues": list(queues), "pid": os.getpid()})
    stop = threading.Event()

    def beat() -> None:
        try:
            connection.set(key, value, ex=TTL)
        except RedisError:
            log.warning("worker heartbeat: Redis unreachable")

    def loop() -> None:
        while not stop.wait(every):
            beat()

    beat()  # announced before the worker takes its first job
    thread = threading.Thread(target=loop, name="worker-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with suppress(RedisError):
            connection.delete(key)


def alive_per_queue(connection: redis.Redis, queues: Sequence[str]) -> dict[str, int]:
    """How many live workers serve each queue (0 when none beat within ``TTL``)."""
    counts = dict.fromkeys(queues, 0)
    keys = list(connection.scan_iter(match=PREFIX + "*", count=100))
    for raw in connection.mget(keys) if keys else []:
        if raw is None:
            continue  # expired between the scan and the read
        try:
            served = json.loads(raw)["queues"]
        except (ValueError, KeyError, TypeError):
            continue
        for queue in served:
            if queue in counts:
                counts[queue] += 1
    return counts

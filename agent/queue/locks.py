"""Redis locks: one AI turn per conversation at a time, across every worker process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from redis.exceptions import LockError


class LockTimeout(RuntimeError):
    """Another worker held the lock too long; the job fails and rq retries it later."""


class RedisLocks:
    def __init__(self, connection: redis.Redis, *, ttl: float = 300, wait: float = 60) -> None:
        # ttl bounds how long a crashed worker can block a conversation.
        self._redis = connection
        self._ttl = ttl
        self._wait = wait

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        lock = self._redis.lock(
            f"frontdesk:lock:{name}", timeout=self._ttl, blocking_timeout=self._wait
        )
        if not lock.acquire():
            raise LockTimeout(f"{name} is busy in another worker")
        try:
            yield
        finally:
            # LockError: it expired while we worked, and the ttl already freed it.
            with suppress(LockError):
                lock.release()


class LocalLocks:
    """In-process locks, for running turns inline without Redis (terminal chat, evals)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            yield

"""Redis locks: one AI turn per conversation at a time, across every worker process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from redis.exceptions import LockError, RedisError

from agent.core.errors import Busy

log = logging.getLogger(__name__)


class LockTimeout(Busy):
    """Another worker held the lock too long; the job fails and rq retries it later."""


class RedisLocks:
    """Short-lived locks that their holder keeps renewing while it works.

    A live holder never loses its lock however long the turn takes (a slow tool, a slow
    model), while a worker killed mid-turn frees the conversation within ``ttl`` seconds,
    so the next attempt is not kept waiting for minutes.
    """

    def __init__(self, connection: redis.Redis, *, ttl: float = 30, wait: float = 60) -> None:
        self._redis = connection
        self._ttl = ttl
        self._wait = wait

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        lock = self._redis.lock(
            self.key(name), timeout=self._ttl, blocking_timeout=self._wait, thread_local=False
        )
        if not lock.acquire():
            raise LockTimeout(f"{name} is busy in another worker")
        done = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(lock, done), name=f"lock-{name}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            # LockError: it expired anyway (Redis was unreachable for a whole ttl).
            with suppress(LockError):
                lock.release()

    def held(self, name: str) -> bool:
        """Whether someone (alive, given the renewals) holds the lock now."""
        return bool(self._redis.exists(self.key(name)))

    @staticmethod
    def key(name: str) -> str:
        return f"frontdesk:lock:{name}"

    def _renew(self, lock: redis.lock.Lock, done: threading.Event) -> None:
        while not done.wait(self._ttl / 3):
            try:
                lock.reacquire()
            except (LockError, RedisError):
                log.warning("could not renew the lock %s; it may expire", lock.name)


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

    def held(self, name: str) -> bool:
        with self._guard:
            lock = self._locks.get(name)
        return lock is not None and lock.locked()

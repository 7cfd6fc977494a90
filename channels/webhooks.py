"""Webhook intake: verified bodies kept in Redis, applied by workers in batches.

A provider's webhook view verifies the request and hands the raw body to the queue,
which answers fast and loses nothing it accepted:

- ``RqWebhookQueue.enqueue`` appends the body to a Redis list per provider and, unless
  a drain is already scheduled or running (a short-lived flag), enqueues one rq job
  ``drain_webhooks(provider)``. One job per body would spend more on rq's bookkeeping
  than on the body itself; a drain takes up to ``BATCH`` bodies at a time.
- The drain moves a batch atomically to a "processing" list, applies each body through
  the provider's handler (idempotent: providers retry, and so do we), then clears the
  batch; it runs until the list is empty. A drainer that dies leaves its batch in the
  processing list: the next drain applies it first. One drainer per provider at a
  time, its flag renewed while it works. When the database is down the batch waits for
  the job's retry; a body that fails otherwise is kept aside in ``<list>:failed``.
- ``kick`` (run by the workers' periodic sweep) schedules a drain for bodies left
  waiting when a drain job was lost.

Without Redis (tests, a single process) ``InlineWebhookQueue`` applies the body at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import redis
from rq import Queue, Retry
from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger(__name__)
Handler = Callable[[bytes], Any]
BATCH = 100
FLAG_SECONDS = 60  # a drain's claim; renewed each batch, so only a dead drainer's expires
_PREFIX = "frontdesk:webhooks:"
# Errors of the infrastructure, not of a body: the whole batch is tried again later.
TRANSIENT = (OperationalError, InterfaceError, redis.RedisError, ConnectionError, TimeoutError)

# Move up to ARGV[1] bodies from the waiting list to the processing list, atomically.
_TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""


def _keys(provider: str) -> tuple[str, str, str]:
    base = _PREFIX + provider
    return base, base + ":processing", base + ":drain"


class WebhookRuntime(Protocol):
    @property
    def redis(self) -> redis.Redis: ...

    def webhook_handler(self, provider: str) -> Handler: ...


def drain_webhooks(provider: str, *, runtime: WebhookRuntime) -> int:
    """Apply every waiting body of ``provider`` (what the rq job runs); how many."""
    return drain(runtime.redis, provider, runtime.webhook_handler(provider))


def drain(connection: redis.Redis, provider: str, handle: Handler, batch: int = BATCH) -> int:
    waiting, processing, flag = _keys(provider)
    take = connection.register_script(_TAKE)
    done = 0
    connection.set(flag, "1", ex=FLAG_SECONDS)  # ours now (a dead drainer's has expired)
    while True:
        # A batch a dead drainer left comes first, then new bodies.
        bodies = connection.lrange(processing, 0, -1) or take(
            keys=[waiting, processing], args=[batch]
        )
        if not bodies:
            connection.delete(flag)
            # A body may have arrived between the last take and the delete: claim again.
            if connection.llen(waiting) and connection.set(flag, "1", nx=True, ex=FLAG_SECONDS):
                continue
            return done
        for body in bodies:
            try:
                handle(body)
            except TRANSIENT:  # the database or Redis is down: the batch waits for a retry
                log.exception("%s webhooks wait: the batch could not be applied", provider)
                raise
            except Exception:  # a body no handler can apply: kept aside, never blocking
                log.exception("a %s webhook body could not be applied: kept aside", provider)
                connection.rpush(waiting + ":failed", body)
        connection.ltrim(processing, len(bodies), -1)
        connection.expire(flag, FLAG_SECONDS)
        done += len(bodies)


class RqWebhookQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def enqueue(self, provider: str, body: bytes) -> None:
        waiting, _, flag = _keys(provider)
        pipe = self._queue.connection.pipeline(transaction=False)
        pipe.rpush(waiting, body)
        pipe.set(flag, "1", nx=True, ex=FLAG_SECONDS)
        _, claimed = pipe.execute()
        if claimed:  # no drain scheduled: this body's request schedules one
            self._schedule(provider)

    def kick(self, provider: str) -> bool:
        """Schedule a drain for bodies left waiting (a lost job); True when it did."""
        waiting, processing, flag = _keys(provider)
        connection = self._queue.connection
        stranded = connection.llen(waiting) or connection.llen(processing)
        if stranded and connection.set(flag, "1", nx=True, ex=FLAG_SECONDS):
            self._schedule(provider)
            return True
        return False

    def _schedule(self, provider: str) -> None:
        self._queue.enqueue(
            drain_webhooks,
            provider,
            description=f"apply {provider} webhooks",
            retry=Retry(max=5, interval=[5, 15, 60, 300, 900]),
            result_ttl=0,
            failure_ttl=7 * 24 * 3600,
        )


class InlineWebhookQueue:
    """Without Redis (tests, a single process): applied at once, in the request's thread."""

    def __init__(self, handler: Callable[[str], Handler]) -> None:
        self._handler = handler

    def enqueue(self, provider: str, body: bytes) -> None:
        self._handler(provider)(body)

    def kick(self, provider: str) -> bool:
        return False

"""The webhook job and the ways to schedule it (rq, or inline without Redis).

A provider's webhook view verifies the request and enqueues its raw body by provider
name ("meta"...); the job hands it to that provider's handler, built by the worker's
composition root. rq keeps the job until a worker ran it, and retries it when the
database is briefly unreachable; handlers are idempotent (Meta and others retry too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rq import Queue, Retry

Handler = Callable[[bytes], Any]


class WebhookRuntime(Protocol):
    def webhook_handler(self, provider: str) -> Handler: ...


def receive_webhook(provider: str, body: bytes, *, runtime: WebhookRuntime) -> str:
    """Apply one verified webhook body (what the rq job runs)."""
    return repr(runtime.webhook_handler(provider)(body))


class RqWebhookQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def enqueue(self, provider: str, body: bytes) -> None:
        self._queue.enqueue(
            receive_webhook,
            provider,
            body,
            description=f"{provider} webhook",
            retry=Retry(max=3, interval=[10, 60, 300]),
            result_ttl=0,  # nothing to read back: spares Redis work on every webhook
            failure_ttl=7 * 24 * 3600,
        )


class InlineWebhookQueue:
    """Without Redis (tests, a single process): applied at once, in the request's thread."""

    def __init__(self, handler: Callable[[str], Handler]) -> None:
        self._handler = handler

    def enqueue(self, provider: str, body: bytes) -> None:
        self._handler(provider)(body)

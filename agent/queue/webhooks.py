"""Outgoing webhook deliveries on the rq queue (or inline), and the job that attempts one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from rq import Queue, Retry

from agent.core.outgoing_webhooks import WebhookService

log = logging.getLogger(__name__)


class WebhookRuntime(Protocol):
    @property
    def outgoing_webhooks(self) -> WebhookService: ...


def send_webhook(workspace_id: int, delivery_id: int, *, runtime: WebhookRuntime) -> str:
    """POST one outgoing webhook delivery (retries are enqueued by the service, with
    their backoff)."""
    return runtime.outgoing_webhooks.attempt(workspace_id, delivery_id).value


class RqWebhookDeliveryQueue:
    """Enqueues ``send_webhook``; a retry waits in rq's scheduler, not in a worker."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def enqueue(self, workspace_id: int, delivery_id: int, *, delay: float = 0) -> None:
        options = {
            "description": f"send webhook delivery {delivery_id}",
            # Only for the job itself failing (the database unreachable): a receiver's
            # errors are retried by the service, with its own backoff.
            "retry": Retry(max=3, interval=[10, 60, 300]),
            "result_ttl": 3600,
            "failure_ttl": 7 * 24 * 3600,
        }
        if delay > 0:
            self._queue.enqueue_in(
                timedelta(seconds=delay), send_webhook, workspace_id, delivery_id, **options
            )
        else:
            self._queue.enqueue(send_webhook, workspace_id, delivery_id, **options)


class InlineWebhookDeliveryQueue:
    """Without Redis (the terminal chat, a CLI command): attempts at once, in the caller's
    thread. A retry cannot wait here; it stays pending for a worker's sweep (logged)."""

    def __init__(self, service: Callable[[], WebhookService]) -> None:
        self._service = service

    def enqueue(self, workspace_id: int, delivery_id: int, *, delay: float = 0) -> None:
        if delay > 0:
            log.warning(
                "no queue to retry webhook delivery %s later: it stays pending", delivery_id
            )
            return
        self._service().attempt(workspace_id, delivery_id)

"""Ways to schedule an outbound message's delivery: through the rq queue, or inline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from rq import Queue, Retry

from agent.core.delivery import DeliveryService
from agent.queue import jobs

log = logging.getLogger(__name__)


class RqDeliveryQueue:
    """Enqueues the ``deliver`` job; a delayed retry waits in rq's scheduler (the
    workers run with it), so no worker sits idle through a backoff."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def enqueue(self, workspace_id: int, message_id: int, *, delay: float = 0) -> None:
        options = {
            "description": f"deliver message {message_id}",
            # Only for the job itself failing (the database unreachable): provider errors
            # are retried by the delivery service, with its own backoff.
            "retry": Retry(max=3, interval=[10, 60, 300]),
            "result_ttl": 3600,
            "failure_ttl": 7 * 24 * 3600,
        }
        if delay > 0:
            self._queue.enqueue_in(
                timedelta(seconds=delay), jobs.deliver, workspace_id, message_id, **options
            )
        else:
            self._queue.enqueue(jobs.deliver, workspace_id, message_id, **options)


class InlineDeliveryQueue:
    """Without Redis (the terminal chat, tests): delivers at once, in the caller's thread.

    A retry after a backoff cannot wait here; that message stays queued (logged)."""

    def __init__(self, delivery: Callable[[], DeliveryService]) -> None:
        self._delivery = delivery

    def enqueue(self, workspace_id: int, message_id: int, *, delay: float = 0) -> None:
        if delay > 0:
            log.warning("no queue to retry message %s later: it stays queued", message_id)
            return
        self._delivery().deliver(workspace_id, message_id)

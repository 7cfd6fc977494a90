"""Job functions rq imports by name: they take ids only, so a retry sees fresh data.

Their collaborators arrive as the ``runtime`` keyword argument, passed by the worker that
runs them (``agent.queue.worker.RuntimeWorker``, bound to its process's container), never
stored in Redis and never kept in a module global.
"""

from __future__ import annotations

import time
from typing import Protocol

from agent.core.delivery import DeliveryService
from agent.core.turns import TurnOutcome, TurnRunner
from agent.queue.turn_timings import RedisTurnTimings


class TurnRuntime(Protocol):
    @property
    def turns(self) -> TurnRunner: ...
    @property
    def turn_timings(self) -> RedisTurnTimings: ...


def run_turn(
    workspace_id: int, conversation_id: int, message_id: int, *, runtime: TurnRuntime
) -> str:
    """Let the AI receptionist answer one visitor message.

    An answered turn's duration (waiting for the conversation's lock included: the visitor
    waits too) goes to ``frontdesk_turn_seconds``; skipped turns would only blur it."""
    started = time.monotonic()
    outcome = runtime.turns.run(workspace_id, conversation_id, message_id)
    if outcome is TurnOutcome.ANSWERED:
        runtime.turn_timings.record(time.monotonic() - started)
    return outcome.value


class DeliveryRuntime(Protocol):
    @property
    def delivery(self) -> DeliveryService: ...


def deliver(workspace_id: int, message_id: int, *, runtime: DeliveryRuntime) -> str:
    """Hand one stored outbound message to its channel's sender (retries are enqueued
    by the service itself, with their backoff)."""
    return runtime.delivery.deliver(workspace_id, message_id).value

"""Ways to hand a visitor message to the AI: through the rq queue, or inline."""

from __future__ import annotations

from rq import Queue, Retry

from agent.core.turns import TurnRunner
from agent.queue import jobs

TURNS_QUEUE = "turns"
DEFAULT_QUEUE = "default"


class RqTurnDispatcher:
    def __init__(self, queue: Queue, retry: Retry | None = None) -> None:
        self._queue = queue
        self._retry = retry or Retry(max=3, interval=[2, 10, 30])

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        self._queue.enqueue(
            jobs.run_turn,
            workspace_id,
            conversation_id,
            message_id,
            job_id=f"turn-{workspace_id}-{message_id}",
            description=f"AI turn for message {message_id} in conversation {conversation_id}",
            retry=self._retry,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )


class InlineDispatcher:
    """Runs the turn in the caller's thread: the terminal chat and tests use it."""

    def __init__(self, runner: TurnRunner) -> None:
        self._runner = runner

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        self._runner.run(workspace_id, conversation_id, message_id)

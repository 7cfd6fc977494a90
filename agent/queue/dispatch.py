"""Ways to hand a visitor message to the AI: through the rq queue, or inline."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job, JobStatus

from agent.core.turns import TurnRunner
from agent.queue import jobs

TURNS_QUEUE = "turns"
DEFAULT_QUEUE = "default"
REDELIVERIES = 3  # fresh jobs a lost or abandoned turn may get, after its first
_WAITING = (JobStatus.SCHEDULED, JobStatus.DEFERRED)
_ENDED = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED)
log = logging.getLogger(__name__)


class RqTurnDispatcher:
    replies_inline = False

    def __init__(self, queue: Queue, retry: Retry | None = None) -> None:
        self._queue = queue
        self._retry = retry or Retry(max=3, interval=[2, 10, 30])

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        """Queue the turn, unless a job for it is still waiting or has ended.

        Dispatching again (the redelivery sweep does, for messages left unanswered) queues
        a fresh job only when the last one was lost (queued but in no queue) or abandoned
        (started, while no live worker holds the conversation's turn lock).

        While Redis is unreachable the message is already stored: it is not refused, and
        the sweep dispatches its turn once the queue is back.
        """
        try:
            job_id = self._next_job_id(f"turn-{workspace_id}-{message_id}")
            if job_id is None:
                return
            self._queue.enqueue(
                jobs.run_turn,
                workspace_id,
                conversation_id,
                message_id,
                job_id=job_id,
                description=f"AI turn for message {message_id} in conversation {conversation_id}",
                retry=self._retry,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
        except RedisError as exc:
            log.warning(
                "could not queue the AI turn for message %s (%s): the sweep will, once the "
                "queue is back",
                message_id,
                exc,
            )

    def _next_job_id(self, base: str) -> str | None:
        ids = [base, *(f"{base}-again{n}" for n in range(1, REDELIVERIES + 1))]
        found = Job.fetch_many(ids, connection=self._queue.connection)
        last = max((n for n, job in enumerate(found) if job is not None), default=None)
        if last is None:
            return base
        job = found[last]
        status = job.get_status(refresh=False)
        if status in _WAITING or status in _ENDED:
            return None
        if status == JobStatus.QUEUED and job.get_position() is not None:
            return None  # waiting its turn in the queue
        return ids[last + 1] if last + 1 < len(ids) else None


class InlineDispatcher:
    """Runs the turn in the caller's thread: the terminal chat and tests use it."""

    replies_inline = True

    def __init__(self, runner: TurnRunner) -> None:
        self._runner = runner

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        self._runner.run(workspace_id, conversation_id, message_id)

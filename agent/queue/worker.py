"""An rq worker that hands its process's runtime to every job it performs.

rq jobs are plain importable functions; what they need (the turn runner, the ingestor)
belongs to the worker process, built by its composition root. ``RuntimeWorker`` passes it
in as the ``runtime`` keyword, so job functions declare their dependencies and tests can
call them with any runtime.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue


class RuntimeJob(Job):
    runtime: object | None = None  # set by the worker just before it performs the job

    def _execute(self) -> Any:
        if self.runtime is None:
            raise RuntimeError("no job runtime: jobs run under `frontdesk worker`")
        return self.func(*self.args, runtime=self.runtime, **self.kwargs)


class RuntimeWorker(SimpleWorker):
    """A fork-free worker whose jobs receive ``runtime`` (attributes built on first use)."""

    def __init__(self, queues: Sequence[str], *, runtime: object, **kwargs: Any) -> None:
        # Queue names, not Queue objects: rq then builds the queues with our job class.
        super().__init__(list(queues), job_class=RuntimeJob, **kwargs)
        self.runtime = runtime

    def execute_job(self, job: Job, queue: Queue) -> None:
        job.runtime = self.runtime  # type: ignore[attr-defined]
        super().execute_job(job, queue)

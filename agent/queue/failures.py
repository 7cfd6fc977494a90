"""Record every failed job in the database, where staff and ``frontdesk jobs`` can see it."""

from __future__ import annotations

import logging
import traceback as tb_module
from types import TracebackType
from typing import Any

from rq.job import Job

from agent.core.models import JobFailure
from agent.core.ports import Clock
from agent.storage.repositories import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)


class FailureRecorder:
    """An rq exception handler; returns True so rq's own failed-job registry still runs."""

    def __init__(self, uow: SqlUnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(
        self,
        job: Job,
        exc_type: type[BaseException],
        exc_value: BaseException,
        traceback: TracebackType | None,
    ) -> bool:
        failure = JobFailure(
            workspace_id=_workspace_id(job),
            job_id=job.id,
            function=job.func_name,
            args=[a for a in job.args if isinstance(a, int | str | float | bool)],
            error=f"{exc_type.__name__}: {exc_value}",
            traceback="".join(tb_module.format_exception(exc_type, exc_value, traceback)),
            final=not job.should_retry,
            created_at=self._clock(),
        )
        try:
            with self._uow() as uow:
                uow.add_job_failure(failure)
                uow.commit()
        except Exception:
            log.exception("could not record the failure of job %s", job.id)
        return True


def _workspace_id(job: Job) -> Any:
    """Our jobs take the workspace id first (or as a keyword)."""
    if "workspace_id" in job.kwargs:
        return job.kwargs["workspace_id"]
    first = job.args[0] if job.args else None
    return first if isinstance(first, int) else None

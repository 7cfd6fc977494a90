"""rq jobs for ingestion (they take ids), and the queue adapter the knowledge service uses.

The worker passes each job its ``runtime`` (see ``agent.queue.worker``).
"""

from __future__ import annotations

from typing import Protocol

from rq import Queue, Retry
from rq.job import Job, JobStatus

from ingestion.pipeline import Ingestor

INGEST_QUEUE = "ingest"


class IngestRuntime(Protocol):
    @property
    def ingestor(self) -> Ingestor: ...


def ingest_source(workspace_id: int, source_id: int, *, runtime: IngestRuntime) -> dict | None:
    """Crawl or parse one source and sync it into the workspace's index."""
    stats = runtime.ingestor.run(workspace_id, source_id)
    return stats.summary() if stats is not None else None


def purge_source(workspace_id: int, source_id: int, *, runtime: IngestRuntime) -> int:
    """Remove a deleted source's chunks from the index."""
    return runtime.ingestor.purge(workspace_id, source_id)


class RqIngestQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def ingest(self, workspace_id: int, source_id: int) -> None:
        job_id = f"ingest-{workspace_id}-{source_id}"
        existing = Job.fetch_many([job_id], connection=self._queue.connection)[0]
        if existing is not None and existing.get_status() in (
            JobStatus.QUEUED,
            JobStatus.SCHEDULED,
        ):
            return  # already waiting: one crawl is enough
        self._queue.enqueue(
            ingest_source,
            workspace_id,
            source_id,
            job_id=job_id,
            job_timeout=4 * 3600,
            description=f"ingest knowledge source {source_id}",
            retry=Retry(max=2, interval=[30, 300]),
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
        )

    def purge(self, workspace_id: int, source_id: int) -> None:
        self._queue.enqueue(
            purge_source,
            workspace_id,
            source_id,
            description=f"purge knowledge source {source_id}",
            retry=Retry(max=3, interval=[5, 30, 120]),
        )


class DeferredIngestQueue:
    """Collects the work instead of queueing it: the CLI's --wait runs it in front of you."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, int, int]] = []

    def ingest(self, workspace_id: int, source_id: int) -> None:
        self.pending.append(("ingest", workspace_id, source_id))

    def purge(self, workspace_id: int, source_id: int) -> None:
        self.pending.append(("purge", workspace_id, source_id))

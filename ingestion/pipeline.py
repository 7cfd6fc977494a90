"""Ingest one knowledge source: collect its documents, chunk them, sync the index.

A source moves queued → running (with progress) → ready | failed. Everything is
collected before the index is touched, so a failure never leaves a half-ingested
source behind; re-running after a crash is safe because chunk ids are content hashes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

from agent.core.errors import Busy, NotFound
from agent.core.events import EventBus, KnowledgeSourceUpdated
from agent.core.models import KnowledgeSource, SourceKind, SourceStatus
from agent.core.ports import Clock, Locks, UnitOfWorkFactory
from ingestion.chunk import Chunk, chunk_document, qa_chunk, text_chunks
from ingestion.crawl import CrawlLimits, crawl
from ingestion.document import IngestError
from ingestion.fetch import SafeFetcher
from ingestion.index import ChromaIndex, SyncStats
from ingestion.parse import parse_file
from ingestion.profile import profile_document

log = logging.getLogger(__name__)
Documents = dict[str, tuple[str, list[Chunk]]]
ProgressListener = Callable[[KnowledgeSource], None]
INDEX_WRITE_LOCK = "knowledge-index-write"
_WATCHED = frozenset({"status", "progress_done", "progress_total"})  # what admins see change


@dataclass(frozen=True)
class IngestOptions:
    uploads: Path
    allow_private_urls: bool = False
    max_upload_bytes: int = 100 * 1024 * 1024


class Ingestor:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        index: ChromaIndex,
        clock: Clock,
        options: IngestOptions,
        *,
        locks: Locks | None = None,
        source_locks: Locks | None = None,
        on_progress: ProgressListener | None = None,
        events: EventBus | None = None,
    ) -> None:
        self._uow = uow
        self._index = index
        self._clock = clock
        self._options = options
        self._locks = locks
        # One run per source at a time, never waiting: a "Refresh now" during a running
        # crawl (another ingest worker) is covered by that crawl.
        self._source_locks = source_locks
        self._on_progress = on_progress
        self._events = events  # status and (throttled) progress, for the admin's live page

    def run(
        self, workspace_id: int, source_id: int, progress: ProgressListener | None = None
    ) -> SyncStats | None:
        """Ingest the source; a failure is recorded on it (and re-raised only if unexpected).
        None when another worker is ingesting it right now (that run covers this one)."""
        with ExitStack() as claim:
            if self._source_locks is not None:
                try:
                    claim.enter_context(self._source_locks.hold(f"ingest-source:{source_id}"))
                except Busy:
                    log.info(
                        "source %s is being ingested elsewhere: this run is skipped", source_id
                    )
                    return None
            return self._run(workspace_id, source_id, progress)

    def _run(
        self, workspace_id: int, source_id: int, progress: ProgressListener | None
    ) -> SyncStats | None:
        try:
            source = self._update(
                workspace_id,
                source_id,
                status=SourceStatus.RUNNING,
                error="",
                progress_done=0,  # not the last run's count
                progress_total=0,
            )
        except NotFound:
            self.purge(workspace_id, source_id)  # removed while it waited in the queue
            return None
        reporter = _Throttled(lambda done, total: self._progress(source, done, total, progress))
        try:
            documents, keep, skipped = self._collect(source, reporter)
            stats = self._write(workspace_id, source, documents, keep)
        except IngestError as exc:
            self._fail(source, str(exc))
            return None
        except Exception as exc:
            self._fail(
                source, f"unexpected error ({type(exc).__name__}); see `frontdesk jobs failed`"
            )
            raise
        summary = {**stats.summary(), "skipped": len(skipped)}
        if skipped:
            summary["skipped_examples"] = [f"{url}: {why}" for url, why in skipped[:10]]
        config = {**source.config, "last_run": summary}
        self._update(
            workspace_id,
            source_id,
            status=SourceStatus.READY,
            error="",
            config=config,
            last_refreshed_at=self._clock(),
        )
        log.info("ingested source %s: %s", source_id, summary)
        return stats

    def purge(self, workspace_id: int, source_id: int) -> int:
        """Drop a removed source's chunks; watchers learn it is gone."""
        removed = self._purge_chunks(workspace_id, source_id)
        if self._events is not None:
            self._events.publish(KnowledgeSourceUpdated(workspace_id, source_id))
        return removed

    def _purge_chunks(self, workspace_id: int, source_id: int) -> int:
        with self._write_lock():
            return self._index.purge_source(workspace_id, source_id)

    # -- collecting ------------------------------------------------------------

    def _collect(
        self, source: KnowledgeSource, progress: _Throttled
    ) -> tuple[Documents, list[str], list[tuple[str, str]]]:
        if source.kind == SourceKind.WEBSITE:
            fetcher = SafeFetcher(allow_private=self._options.allow_private_urls)
            limits = CrawlLimits(max_pages=int(source.config.get("max_pages", 500)))
            result = crawl(source.uri, fetcher, limits, on_progress=progress)
            progress.flush()
            if not result.documents:
                reason = result.skipped[0][1] if result.skipped else "no readable pages"
                raise IngestError(f"nothing could be read from {source.uri} ({reason})")
            documents = {d.uri: (d.title, chunk_document(d)) for d in result.documents}
            # Pages that failed this time keep what we had; pages now gone are removed.
            keep = [url for url, why in result.skipped if _transient(why)]
            return documents, keep, result.skipped
        if source.kind == SourceKind.FILE:
            path = self._options.uploads / str(source.workspace_id) / source.uri
            if not path.is_file():
                raise IngestError(f"the uploaded file {source.title} is missing; upload it again")
            document = parse_file(
                path, source.uri, max_bytes=self._options.max_upload_bytes, progress=progress
            )
            progress.flush()
            chunks = chunk_document(document)
            if not chunks:
                raise IngestError(f"no text found in {source.title}")
            return {source.uri: (document.title, chunks)}, [], []
        if source.kind == SourceKind.TEXT:
            body = str(source.config.get("body", ""))
            return {source.title: (source.title, text_chunks(source.title, body))}, [], []
        if source.kind == SourceKind.QA:
            chunk = qa_chunk(str(source.config["q"]), str(source.config["a"]))
            return {f"qa-{source.id}": (source.title, [chunk])}, [], []
        if source.kind == SourceKind.PROFILE:
            with self._uow() as uow:
                workspace = uow.workspace(source.workspace_id).workspace()
            document = profile_document(workspace)
            return {document.uri: (document.title, chunk_document(document))}, [], []
        raise IngestError(f"unknown source kind {source.kind!r}")

    def _write(
        self, workspace_id: int, source: KnowledgeSource, documents: Documents, keep: list[str]
    ) -> SyncStats:
        with self._write_lock():
            return self._index.replace_source(
                workspace_id, source.id, str(source.kind), documents, keep=keep
            )

    def _write_lock(self) -> AbstractContextManager[None]:
        """Embedded Chroma has one writer at a time across worker processes."""
        return self._locks.hold(INDEX_WRITE_LOCK) if self._locks else nullcontext()

    # -- status ----------------------------------------------------------------

    def _fail(self, source: KnowledgeSource, message: str) -> None:
        log.warning("source %s failed: %s", source.id, message)
        if source.last_refreshed_at is None:
            self._purge_chunks(source.workspace_id, source.id)  # never leave partial chunks
        with suppress(NotFound):  # removed meanwhile: nothing to mark
            self._update(source.workspace_id, source.id, status=SourceStatus.FAILED, error=message)

    def _progress(
        self, source: KnowledgeSource, done: int, total: int, listener: ProgressListener | None
    ) -> None:
        try:
            updated = self._update(
                source.workspace_id, source.id, progress_done=done, progress_total=total
            )
        except NotFound:
            return
        for callback in (listener, self._on_progress):
            if callback is not None:
                callback(updated)

    def _update(self, workspace_id: int, source_id: int, **changes: object) -> KnowledgeSource:
        with self._uow() as uow:
            source = uow.workspace(workspace_id).knowledge.get(source_id)
            for key, value in changes.items():
                setattr(source, key, value)
            source.updated_at = self._clock()
            uow.commit()
        if self._on_progress is not None and "status" in changes:
            self._on_progress(source)
        if self._events is not None and changes.keys() & _WATCHED:
            self._events.publish(
                KnowledgeSourceUpdated(
                    workspace_id,
                    source_id,
                    str(source.status),
                    source.progress_done,
                    source.progress_total,
                )
            )
        return source


class _Throttled:
    """Progress callbacks at most every 0.5 s (each is a database write and a live event)."""

    def __init__(self, report: Callable[[int, int], None], interval: float = 0.5) -> None:
        self._report = report
        self._interval = interval
        self._last = 0.0
        self._pending: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self._pending = (done, total)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        if self._pending is not None:
            self._last = time.monotonic()
            self._report(*self._pending)
            self._pending = None


def _transient(reason: str) -> bool:
    reason = reason.lower()
    return any(word in reason for word in ("timed out", "timeout", "connection", "http 5"))

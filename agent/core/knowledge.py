"""Knowledge sources (what admins add) and passages (what the agent retrieves).

Adding, refreshing or removing a source only records the intent and queues the work;
the ingestion jobs do the crawling, parsing and indexing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from agent.core import validation
from agent.core.errors import ValidationError
from agent.core.models import KnowledgeSource, SourceKind, SourceStatus
from agent.core.ports import Clock, UnitOfWorkFactory

DEFAULT_REFRESH_HOURS = 24
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST = re.compile(rf"^([0-9a-f.]*:[0-9a-f:.]*|{_LABEL}(\.{_LABEL})*)$")  # IPv6, or DNS labels
MAX_QA_CHARS = 5_000
MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk with its provenance and how well it matched."""

    chunk_id: str
    text: str
    source_id: int
    kind: str
    uri: str
    title: str
    heading: str
    score: float  # fused rank score, for ordering only
    similarity: float  # cosine similarity to the query (dense support), 0..1
    keyword: float  # share of the query's informative terms found in the passage, 0..1

    @property
    def citation(self) -> str:
        """What a reader sees as the source: a page or file, and the section in it."""
        if self.kind == "qa":
            return f"Q&A: {self.title}"
        where = self.uri or self.title
        return f"{where} > {self.heading}" if self.heading else where


class KnowledgeSearch(Protocol):
    def search(self, workspace_id: int, query: str, k: int = 5) -> list[Passage]: ...


class IngestQueue(Protocol):
    """Where ingestion work goes: rq in production, inline in the CLI's --wait and tests."""

    def ingest(self, workspace_id: int, source_id: int) -> None: ...
    def purge(self, workspace_id: int, source_id: int) -> None: ...


# Why a website address may not be crawled (the crawler's own sentence), or None. Wired
# to the fetcher's check, so an address the crawl would refuse is refused when it is added.
UrlCheck = Callable[[str], str | None]


def website_url(url: str) -> str:
    """Syntax only; the fetcher re-checks every address it resolves before connecting."""
    url = (url or "").strip()
    if "://" not in url:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)", url):  # mailto:, javascript:, ...
            raise ValidationError("url", f"{url!r}: only http and https websites can be added")
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("url", f"{url!r}: only http and https websites can be added")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValidationError("url", f"{url!r} has an invalid port") from None
    host = parts.hostname or ""
    if not _HOST.match(host) or parts.username or parts.password:
        raise ValidationError("url", f"{url!r} is not a website address")
    return parts._replace(fragment="").geturl()


class KnowledgeService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        queue: IngestQueue,
        *,
        url_check: UrlCheck | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._queue = queue
        self._url_check = url_check

    def _add(self, source: KnowledgeSource) -> KnowledgeSource:
        source.created_at = source.updated_at = self._clock()
        with self._uow() as uow:
            uow.workspace(source.workspace_id).add(source)
            uow.commit()
        self._queue.ingest(source.workspace_id, source.id)
        return source

    def add_website(
        self,
        workspace_id: int,
        url: str,
        *,
        refresh_hours: int | None = DEFAULT_REFRESH_HOURS,
        max_pages: int = 500,
    ) -> KnowledgeSource:
        url = website_url(url)
        refused = self._url_check(url) if self._url_check else None
        if refused:
            raise ValidationError("url", refused)
        if not 1 <= max_pages <= 10_000:
            raise ValidationError("max_pages", "must be between 1 and 10,000")
        return self._add(
            KnowledgeSource(
                workspace_id=workspace_id,
                kind=SourceKind.WEBSITE,
                title=urlsplit(url).hostname or url,
                uri=url,
                config={"max_pages": max_pages},
                refresh_interval_hours=_interval(refresh_hours),
            )
        )

    def add_file(self, workspace_id: int, title: str, stored_name: str) -> KnowledgeSource:
        return self._add(
            KnowledgeSource(
                workspace_id=workspace_id,
                kind=SourceKind.FILE,
                title=validation.name(title, "title", 300, required=True),
                uri=stored_name,
                refresh_interval_hours=None,
            )
        )

    def add_text(self, workspace_id: int, title: str, body: str) -> KnowledgeSource:
        body = (body or "").strip()
        if not body:
            raise ValidationError("body", "is empty")
        if len(body) > MAX_TEXT_CHARS:
            raise ValidationError("body", f"is longer than {MAX_TEXT_CHARS:,} characters")
        return self._add(
            KnowledgeSource(
                workspace_id=workspace_id,
                kind=SourceKind.TEXT,
                title=validation.name(title, "title", 300, required=True),
                config={"body": body},
                refresh_interval_hours=None,
            )
        )

    def add_qa(self, workspace_id: int, question: str, answer: str) -> KnowledgeSource:
        question = validation.name(question, "question", 1_000, required=True)
        answer = (answer or "").strip()
        if not answer:
            raise ValidationError("answer", "is empty")
        if len(answer) > MAX_QA_CHARS:
            raise ValidationError("answer", f"is longer than {MAX_QA_CHARS:,} characters")
        return self._add(
            KnowledgeSource(
                workspace_id=workspace_id,
                kind=SourceKind.QA,
                title=question,
                config={"q": question, "a": answer},
                refresh_interval_hours=None,
            )
        )

    def ensure_profile_source(self, workspace_id: int) -> KnowledgeSource:
        """The business profile is knowledge too; re-queue it whenever the profile changes."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            existing = [s for s in repo.knowledge.all() if s.kind == SourceKind.PROFILE]
            if existing:
                source = existing[0]
                source.status = SourceStatus.QUEUED
                source.updated_at = self._clock()
                uow.commit()
                self._queue.ingest(workspace_id, source.id)
                return source
        return self._add(
            KnowledgeSource(
                workspace_id=workspace_id,
                kind=SourceKind.PROFILE,
                title="Business profile",
                refresh_interval_hours=None,
            )
        )

    def sources(self, workspace_id: int) -> Sequence[KnowledgeSource]:
        with self._uow() as uow:
            return uow.workspace(workspace_id).knowledge.all()

    def refresh(self, workspace_id: int, source_id: int) -> KnowledgeSource:
        with self._uow() as uow:
            source = uow.workspace(workspace_id).knowledge.get(source_id)
            source.status = SourceStatus.QUEUED
            source.error = ""
            source.updated_at = self._clock()
            uow.commit()
        self._queue.ingest(workspace_id, source_id)
        return source

    def set_refresh_interval(
        self, workspace_id: int, source_id: int, hours: int | None
    ) -> KnowledgeSource:
        with self._uow() as uow:
            source = uow.workspace(workspace_id).knowledge.get(source_id)
            if source.kind != SourceKind.WEBSITE:
                raise ValidationError("refresh_interval_hours", "only websites are re-crawled")
            source.refresh_interval_hours = _interval(hours)
            uow.commit()
        return source

    def remove(self, workspace_id: int, source_id: int) -> None:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            repo.delete(repo.knowledge.get(source_id))
            uow.commit()
        self._queue.purge(workspace_id, source_id)

    def due_for_refresh(self, now: datetime | None = None) -> list[tuple[int, int]]:
        """(workspace, source) pairs of websites whose refresh interval has passed."""
        now = now or self._clock()
        due = []
        with self._uow() as uow:
            for workspace in uow.workspaces():
                for source in uow.workspace(workspace.id).knowledge.all():
                    if _is_due(source, now):
                        due.append((workspace.id, source.id))
        return due

    def requeue_pending(self) -> int:
        """After a restart, queue again whatever was queued or running (crash recovery)."""
        count = 0
        with self._uow() as uow:
            pending = [
                (workspace.id, source.id)
                for workspace in uow.workspaces()
                for source in uow.workspace(workspace.id).knowledge.all()
                if source.status in (SourceStatus.QUEUED, SourceStatus.RUNNING)
            ]
        for workspace_id, source_id in pending:
            self._queue.ingest(workspace_id, source_id)
            count += 1
        return count

    def refresh_due(self, now: datetime | None = None) -> list[tuple[int, int]]:
        due = self.due_for_refresh(now)
        for workspace_id, source_id in due:
            self.refresh(workspace_id, source_id)
        return due


def _interval(hours: int | None) -> int | None:
    if hours is None or hours == 0:
        return None
    if not 1 <= int(hours) <= 24 * 365:
        raise ValidationError("refresh_interval_hours", "must be between 1 hour and a year")
    return int(hours)


def _is_due(source: KnowledgeSource, now: datetime) -> bool:
    if source.kind != SourceKind.WEBSITE or not source.refresh_interval_hours:
        return False
    if source.status in (SourceStatus.QUEUED, SourceStatus.RUNNING):
        return False
    # A failed first crawl is retried one interval after it failed, not on every tick.
    base = source.last_refreshed_at or source.updated_at or source.created_at
    return base is not None and now >= base + timedelta(hours=source.refresh_interval_hours)

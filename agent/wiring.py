"""The composition root: the one place that builds real implementations from settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine

from agent.core.clock import system_clock
from agent.core.events import Event, EventBus, ProfileChanged
from agent.core.knowledge import IngestQueue, KnowledgeService
from agent.core.ports import Clock, Responder, TurnDispatcher
from agent.core.service import ConversationService, Limits
from agent.core.turns import TurnRunner
from agent.core.workspaces import WorkspaceService
from agent.queue import jobs
from agent.queue.dispatch import DEFAULT_QUEUE, TURNS_QUEUE, RqTurnDispatcher
from agent.queue.failures import FailureRecorder
from agent.queue.locks import RedisLocks
from agent.settings import Settings
from agent.storage import migrate
from agent.storage.database import make_engine, make_session_factory
from agent.storage.repositories import SqlUnitOfWorkFactory
from ingestion.embed import shared_embedder
from ingestion.index import ChromaConnection, ChromaIndex
from ingestion.jobs import INGEST_QUEUE, DeferredIngestQueue, RqIngestQueue
from ingestion.pipeline import IngestOptions, Ingestor

# The queues a plain `frontdesk worker` serves, most urgent first.
WORKER_QUEUES = (TURNS_QUEUE, DEFAULT_QUEUE, INGEST_QUEUE)


@dataclass
class Container:
    """Everything a process needs, built lazily so a CLI command pays only for what it uses.

    ``redis_url`` is the resolved address (``REDIS_URL`` or the embedded server's socket).
    ``responder`` is the AI receptionist; without one, messages wait for staff.
    """

    settings: Settings
    redis_url: str = ""
    clock: Clock = system_clock
    responder: Responder | None = None
    dispatcher_override: TurnDispatcher | None = None
    ingest_queue_override: IngestQueue | None = None
    events: EventBus = field(default_factory=EventBus)

    def __post_init__(self) -> None:
        self.events.subscribe(ProfileChanged, self._profile_changed)

    def _profile_changed(self, event: Event) -> None:
        self.knowledge.ensure_profile_source(event.workspace_id)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.sqlalchemy_url)

    @cached_property
    def uow(self) -> SqlUnitOfWorkFactory:
        return SqlUnitOfWorkFactory(make_session_factory(self.engine))

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    @cached_property
    def redis(self) -> redis.Redis:
        if not self.redis_url:
            raise RuntimeError("no Redis configured: set REDIS_URL or start `frontdesk up`")
        return redis.Redis.from_url(self.redis_url)

    def queue(self, name: str = DEFAULT_QUEUE) -> Queue:
        return Queue(name, connection=self.redis)

    @cached_property
    def dispatcher(self) -> TurnDispatcher | None:
        if self.dispatcher_override is not None:
            return self.dispatcher_override
        if self.responder is None:
            return None
        return RqTurnDispatcher(self.queue(TURNS_QUEUE))

    @cached_property
    def conversations(self) -> ConversationService:
        limits = Limits(max_message_chars=self.settings.max_message_chars)
        return ConversationService(self.uow, self.events, self.dispatcher, self.clock, limits)

    @cached_property
    def workspaces(self) -> WorkspaceService:
        return WorkspaceService(self.uow, self.clock, self.events)

    # -- knowledge ---------------------------------------------------------------

    @cached_property
    def ingest_queue(self) -> IngestQueue:
        if self.ingest_queue_override is not None:
            return self.ingest_queue_override
        if not self.redis_url:
            return DeferredIngestQueue()  # picked up by `requeue_pending` when a worker starts
        return RqIngestQueue(self.queue(INGEST_QUEUE))

    @cached_property
    def knowledge(self) -> KnowledgeService:
        return KnowledgeService(self.uow, self.clock, self.ingest_queue)

    @cached_property
    def index(self) -> ChromaIndex:
        connection = ChromaConnection(
            path=str(self.settings.chroma_path), url=self.settings.chroma_url
        )
        return ChromaIndex(connection, shared_embedder())

    @cached_property
    def ingestor(self) -> Ingestor:
        options = IngestOptions(
            uploads=self.settings.uploads_path,
            allow_private_urls=self.settings.allow_private_urls,
            max_upload_bytes=self.settings.max_upload_mb * 1024 * 1024,
        )
        locks = RedisLocks(self.redis, ttl=3600, wait=3600) if self.redis_url else None
        return Ingestor(self.uow, self.index, self.clock, options, locks=locks)

    @cached_property
    def turns(self) -> TurnRunner | None:
        if self.responder is None:
            return None
        return TurnRunner(self.uow, RedisLocks(self.redis), self.responder)

    def worker(
        self, queues: Sequence[str] = WORKER_QUEUES, name: str | None = None
    ) -> SimpleWorker:
        """An rq worker on the given queues, recording failures; binds the job runtime."""
        jobs.bind(
            jobs.JobRuntime(turns=self.turns, ingestor=self.ingestor, knowledge=self.knowledge)
        )
        return SimpleWorker(
            [self.queue(name_) for name_ in queues],
            connection=self.redis,
            name=name,
            exception_handlers=[FailureRecorder(self.uow, self.clock)],
        )


def build(settings: Settings, *, redis_url: str | None = None, **overrides: object) -> Container:
    return Container(
        settings=settings,
        redis_url=redis_url if redis_url is not None else settings.redis_url,
        **overrides,  # type: ignore[arg-type]
    )

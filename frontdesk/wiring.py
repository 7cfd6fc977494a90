"""The composition root: the one place that builds real implementations from settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, partial
from typing import Protocol

import redis
from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph
from rq import Queue
from sqlalchemy import Engine

from agent.action_caller import PublicActionCaller
from agent.attachments import AttachmentStore
from agent.config import Settings
from agent.core.automations import AutomationService
from agent.core.booking import BookingService
from agent.core.channel_accounts import TWILIO_PATHS, ChannelAccountService
from agent.core.clock import system_clock
from agent.core.conversations import ConversationService, Limits
from agent.core.custom_actions import CustomActionService
from agent.core.delivery import DeliveryService
from agent.core.events import Event, EventBus, LeadCaptured, ProfileChanged
from agent.core.knowledge import IngestQueue, KnowledgeService
from agent.core.models import Channel
from agent.core.notifications import NotificationService
from agent.core.outgoing_webhooks import SOURCES as WEBHOOK_SOURCES
from agent.core.outgoing_webhooks import WebhookService
from agent.core.ports import (
    AutomationQueue,
    Clock,
    DeliveryQueue,
    Responder,
    Sender,
    TurnDispatcher,
    WebhookDeliveryQueue,
    WebhookQueue,
)
from agent.core.privacy import PrivacyService
from agent.core.redelivery import TurnSweeper
from agent.core.senders import SenderRegistry
from agent.core.turns import TurnRunner
from agent.core.webhook_payloads import webhook_types
from agent.core.whatsapp_templates import WhatsAppTemplateService
from agent.core.workspaces import WorkspaceService
from agent.graph.context import AgentContext
from agent.graph.graph import build_graph
from agent.graph.runner import AgentResponder, thread_id
from agent.llm import call_summarizer, make_chat_model
from agent.local.meaning import Meaning
from agent.mail import SmtpSender
from agent.offload import Runner
from agent.queue.automations import InlineAutomationQueue, RqAutomationQueue
from agent.queue.delivery import InlineDeliveryQueue, RqDeliveryQueue
from agent.queue.dispatch import DEFAULT_QUEUE, TURNS_QUEUE, InlineDispatcher, RqTurnDispatcher
from agent.queue.failures import FailureRecorder
from agent.queue.locks import LocalLocks, RedisLocks
from agent.queue.turn_timings import RedisTurnTimings
from agent.queue.webhooks import InlineWebhookDeliveryQueue, RqWebhookDeliveryQueue
from agent.queue.worker import RuntimeWorker
from agent.sealing import FernetBox, derive_secret
from agent.storage import migrate
from agent.storage.checkpoints import make_checkpointer
from agent.storage.database import make_engine, make_session_factory
from agent.storage.repositories import SqlUnitOfWorkFactory
from agent.webhook_poster import PublicPoster
from channels.email import smtp_server
from channels.email.history import mail_thread
from channels.email.inbound import EmailInbound
from channels.email.jobs import InlineMailQueue, RqMailQueue
from channels.email.sender import EmailSender
from channels.email.smtp_send import SmtpMailSender
from channels.meta.graph import GraphClient
from channels.meta.inbound import MetaInbound
from channels.meta.sender import MetaSender
from channels.twilio.inbound import TwilioInbound
from channels.twilio.sender import TwilioSmsSender
from channels.twilio.voice import VoiceService
from channels.webhooks import Handler, InlineWebhookQueue, RqWebhookQueue
from channels.whatsapp.inbound import WhatsAppInbound
from channels.whatsapp.sender import GraphTemplateSubmitter, WhatsAppSender
from ingestion.chroma import ChromaConnection
from ingestion.embed import shared_embedder
from ingestion.fetch import unsafe_address
from ingestion.index import ChromaIndex
from ingestion.jobs import INGEST_QUEUE, DeferredIngestQueue, RqIngestQueue
from ingestion.multilingual import shared_multilingual_embedder
from ingestion.pipeline import IngestOptions, Ingestor


class MailQueue(Protocol):
    """Where the inbound SMTP server hands each accepted mail (rq, or inline)."""

    def enqueue(self, recipient: str, raw: bytes) -> None: ...


class CheckpointMemory:
    """The agent's checkpoints of a conversation, forgotten when its contact is erased."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def forget(self, workspace_id: int, conversation_id: int) -> None:
        saver = make_checkpointer(self._settings.sqlalchemy_url, self._settings.data_dir)
        try:
            saver.delete_thread(thread_id(workspace_id, conversation_id))
        finally:
            connection = getattr(saver, "conn", None)
            if connection is not None:
                connection.close()


# The queues a plain `frontdesk worker` serves, most urgent first.
WORKER_QUEUES = (TURNS_QUEUE, DEFAULT_QUEUE, INGEST_QUEUE)
REDIS_CONNECTIONS = 64  # per process; more callers wait for one (REDIS_WAIT_SECONDS at most)
REDIS_WAIT_SECONDS = 10


@dataclass
class Container:
    """Everything a process needs, built lazily so a CLI command pays only for what it uses.

    ``redis_url`` is the resolved address (``REDIS_URL`` or the embedded server's socket).
    ``responder`` is the AI receptionist; without one, messages wait for staff.
    """

    settings: Settings
    redis_url: str = ""
    clock: Clock = system_clock
    responder_override: Responder | None = None
    dispatcher_override: TurnDispatcher | None = None
    ingest_queue_override: IngestQueue | None = None
    delivery_queue_override: DeliveryQueue | None = None
    mail_queue_override: MailQueue | None = None
    webhook_queue_override: WebhookQueue | None = None
    outgoing_webhook_queue_override: WebhookDeliveryQueue | None = None
    automation_queue_override: AutomationQueue | None = None
    # How knowledge searches (BM25, Chroma's query) leave an event loop (the gevent web
    # server, frontdesk.wsgi); None: they run directly.
    offload: Runner | None = None
    # channel -> outbound adapter, added to (and replacing) the registered ones: tests
    # pass recording senders here.
    senders_override: Mapping[str, Sender] | None = None
    events: EventBus = field(default_factory=EventBus)
    worker_queues: tuple[str, ...] = WORKER_QUEUES

    def __post_init__(self) -> None:
        self.events.subscribe(ProfileChanged, self._profile_changed)
        self.events.subscribe(LeadCaptured, self._lead_captured)
        for source in WEBHOOK_SOURCES:  # in every process: web, workers, the CLI
            self.events.subscribe(source, self._webhook_event)
            self.events.subscribe(source, self._automation_event)

    def _webhook_event(self, event: Event) -> None:
        if webhook_types(event):  # most events are none: no database read for those
            self.outgoing_webhooks.on_event(event)

    def _automation_event(self, event: Event) -> None:
        if webhook_types(event):  # the automations' triggers are the webhooks' events
            self.automations.on_event(event)

    def _lead_captured(self, event: Event) -> None:
        self.notifications.lead_captured(event)

    def _profile_changed(self, event: Event) -> None:
        self.knowledge.ensure_profile_source(event.workspace_id)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.sqlalchemy_url)

    @cached_property
    def uow(self) -> SqlUnitOfWorkFactory:
        return SqlUnitOfWorkFactory(
            make_session_factory(self.engine),
            make_session_factory(self.engine, read_only=True),
        )

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    @cached_property
    def redis(self) -> redis.Redis:
        if not self.redis_url:
            raise RuntimeError("no Redis configured: set REDIS_URL or start `frontdesk up`")
        # A bounded pool that makes callers wait for a free connection: under the gevent
        # web server hundreds of greenlets call Redis at once, and redis-py's default pool
        # refuses the 101st with "Too many connections" instead.
        pool = redis.BlockingConnectionPool.from_url(
            self.redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS
        )
        return redis.Redis(connection_pool=pool)

    def queue(self, name: str = DEFAULT_QUEUE) -> Queue:
        return Queue(name, connection=self.redis)

    @cached_property
    def dispatcher(self) -> TurnDispatcher:
        """Queued to the workers when there is Redis; otherwise run inline (chat, evals)."""
        if self.dispatcher_override is not None:
            return self.dispatcher_override
        if self.redis_url:
            return RqTurnDispatcher(self.queue(TURNS_QUEUE))
        return InlineDispatcher(self.turns)

    @cached_property
    def conversations(self) -> ConversationService:
        limits = Limits(max_message_chars=self.settings.max_message_chars)
        return ConversationService(
            self.uow,
            self.events,
            self.dispatcher,
            self.clock,
            limits,
            outbox=self.delivery_queue,
        )

    # -- channels ------------------------------------------------------------------------

    @cached_property
    def secret_box(self) -> FernetBox:
        return FernetBox(self.settings.secret_key)

    @cached_property
    def channels(self) -> ChannelAccountService:
        return ChannelAccountService(
            self.uow, self.clock, self.secret_box, email_domain=self.settings.email_domain
        )

    @cached_property
    def senders(self) -> SenderRegistry:
        """One outbound adapter per provider channel. A provider plugs in here:
        ``registry.register(Channel.EMAIL, EmailSender(...))``; a channel without one
        fails its messages with a clear reason (and ``channels test`` says so)."""
        registry = SenderRegistry()
        if self.settings.smtp_url:
            registry.register(Channel.EMAIL, self.email_sender)
        registry.register(Channel.MESSENGER, self.meta_sender)
        registry.register(Channel.INSTAGRAM, self.meta_sender)
        registry.register(Channel.WHATSAPP, WhatsAppSender(self.meta_graph))
        status_url = self.settings.base_url.rstrip("/") + TWILIO_PATHS["status"]
        registry.register(Channel.SMS, TwilioSmsSender(self.settings.twilio_api_url, status_url))
        for channel, sender in (self.senders_override or {}).items():
            registry.register(channel, sender)
        return registry

    # -- the email channel ---------------------------------------------------------------

    @cached_property
    def email_key(self) -> bytes:
        """Signs reply addresses and Message-IDs: derived from the secret key, so changing
        it only makes old reply tokens start new conversations."""
        return derive_secret(self.settings.secret_key, b"frontdesk email addresses v1")

    @cached_property
    def email_sender(self) -> EmailSender:
        return EmailSender(
            SmtpMailSender(self.settings.smtp_url),
            self.email_key,
            partial(mail_thread, self.uow),
            clock=self.clock,
        )

    @cached_property
    def attachments(self) -> AttachmentStore:
        return AttachmentStore(self.settings.attachments_path)

    @cached_property
    def email_inbound(self) -> EmailInbound:
        return EmailInbound(
            uow=self.uow,
            accounts=self.channels,
            conversations=self.conversations,
            delivery=self.delivery,
            attachments=self.attachments,
            clock=self.clock,
            key=self.email_key,
            email_domain=self.settings.email_domain,
            max_chars=self.settings.max_message_chars,
        )

    @cached_property
    def mail_queue(self) -> MailQueue:
        """The inbound mail job on the default queue, or inline when there is no Redis."""
        if self.mail_queue_override is not None:
            return self.mail_queue_override
        if self.redis_url:
            return RqMailQueue(self.queue(DEFAULT_QUEUE))
        return InlineMailQueue(lambda: self.email_inbound)

    def inbound_smtp(
        self, host: str | None = None, port: int | None = None
    ) -> smtp_server.InboundServer:
        """Start the inbound SMTP server (its own thread): known recipients only, each
        accepted mail enqueued. ``port`` 0 picks a free one; returns the running server."""
        return smtp_server.start(
            host or self.settings.inbound_smtp_host,
            self.settings.inbound_smtp_port if port is None else port,
            is_known=self.email_inbound.is_known,
            deliver=self.mail_queue.enqueue,
        )

    # -- Messenger, Instagram and WhatsApp (Meta's Graph API) ----------------------------

    @cached_property
    def meta_graph(self) -> GraphClient:
        return GraphClient(self.settings.meta_graph_url)

    @cached_property
    def meta_sender(self) -> MetaSender:
        return MetaSender(self.meta_graph)

    @cached_property
    def meta_inbound(self) -> MetaInbound:
        return MetaInbound(
            uow=self.uow,
            accounts=self.channels,
            conversations=self.conversations,
            delivery=self.delivery,
            graph=self.meta_graph,
        )

    @cached_property
    def whatsapp_templates(self) -> WhatsAppTemplateService:
        return WhatsAppTemplateService(
            self.uow, self.clock, self.channels, GraphTemplateSubmitter(self.meta_graph)
        )

    @cached_property
    def whatsapp_inbound(self) -> WhatsAppInbound:
        return WhatsAppInbound(
            uow=self.uow,
            accounts=self.channels,
            conversations=self.conversations,
            delivery=self.delivery,
            templates=self.whatsapp_templates,
            graph=self.meta_graph,
            attachments=self.attachments,
        )

    # -- SMS and calls (Twilio) ----------------------------------------------------------

    @cached_property
    def twilio_inbound(self) -> TwilioInbound:
        return TwilioInbound(
            accounts=self.channels,
            conversations=self.conversations,
            delivery=self.delivery,
            attachments=self.attachments,
        )

    @cached_property
    def voice(self) -> VoiceService:
        """Calls, answered in the web process: each voice turn runs the agent at once."""
        return VoiceService(
            uow=self.uow,
            accounts=self.channels,
            conversations=self.conversations,
            agent=AgentResponder(self.graph, self.agent_context).run,
            public_url=self.settings.base_url,
            api_url=self.settings.twilio_api_url,
            # The offline model writes an extractive summary; an LLM writes a real one.
            summarize=None if self.settings.model == "local" else call_summarizer(self.chat_model),
        )

    def webhook_handler(self, provider: str) -> Handler:
        """What applies a verified webhook body of this provider (in the worker)."""
        if provider == "twilio":
            return self.twilio_inbound.handle
        if provider == "whatsapp":
            return self.whatsapp_inbound.handle
        if provider == "meta":
            return self.meta_inbound.handle
        raise KeyError(f"no webhook handler for {provider!r}")

    @cached_property
    def webhook_queue(self) -> WebhookQueue:
        """The webhook job on the default queue, or inline when there is no Redis."""
        if self.webhook_queue_override is not None:
            return self.webhook_queue_override
        if self.redis_url:
            return RqWebhookQueue(self.queue(DEFAULT_QUEUE))
        return InlineWebhookQueue(self.webhook_handler)

    @cached_property
    def delivery_queue(self) -> DeliveryQueue:
        """The ``deliver`` job on the default queue, or inline when there is no Redis."""
        if self.delivery_queue_override is not None:
            return self.delivery_queue_override
        if self.redis_url:
            return RqDeliveryQueue(self.queue(DEFAULT_QUEUE))
        return InlineDeliveryQueue(lambda: self.delivery)

    @cached_property
    def delivery(self) -> DeliveryService:
        return DeliveryService(
            self.uow,
            self.events,
            self.clock,
            self.senders,
            self.channels,
            self.delivery_queue,
            locks=self.turn_locks,
        )

    # -- outgoing webhooks ---------------------------------------------------------------

    @cached_property
    def outgoing_webhook_queue(self) -> WebhookDeliveryQueue:
        """The ``send_webhook`` job on the default queue, or inline when there is no Redis."""
        if self.outgoing_webhook_queue_override is not None:
            return self.outgoing_webhook_queue_override
        if self.redis_url:
            return RqWebhookDeliveryQueue(self.queue(DEFAULT_QUEUE))
        return InlineWebhookDeliveryQueue(lambda: self.outgoing_webhooks)

    @cached_property
    def outgoing_webhooks(self) -> WebhookService:
        """Webhooks to Zapier, Make, n8n or a CRM: public addresses only, as for the crawler
        (``FRONTDESK_ALLOW_PRIVATE_URLS`` lifts that, for tests and trusted intranets)."""
        poster = PublicPoster(allow_private=self.settings.allow_private_urls)
        return WebhookService(
            self.uow,
            self.clock,
            self.secret_box,
            poster,
            self.outgoing_webhook_queue,
            locks=self.turn_locks,
        )

    # -- automations ---------------------------------------------------------------------

    @cached_property
    def automation_queue(self) -> AutomationQueue:
        """The ``run_automations`` job on the default queue, or inline without Redis."""
        if self.automation_queue_override is not None:
            return self.automation_queue_override
        if self.redis_url:
            return RqAutomationQueue(self.queue(DEFAULT_QUEUE))
        return InlineAutomationQueue(lambda: self.automations)

    @cached_property
    def automations(self) -> AutomationService:
        return AutomationService(
            self.uow,
            self.clock,
            self.conversations,
            self.notifications,
            self.outgoing_webhooks,
            self.delivery,
            self.automation_queue,
        )

    @cached_property
    def workspaces(self) -> WorkspaceService:
        return WorkspaceService(self.uow, self.clock, self.events)

    @cached_property
    def privacy(self) -> PrivacyService:
        """Privacy requests: a contact's data exported, or erased with their files."""
        memory = CheckpointMemory(self.settings)
        return PrivacyService(self.uow, self.clock, self.attachments, memory)

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
        url_check = partial(unsafe_address, allow_private=self.settings.allow_private_urls)
        return KnowledgeService(self.uow, self.clock, self.ingest_queue, url_check=url_check)

    @cached_property
    def chroma(self) -> ChromaConnection:
        """The knowledge index's Chroma client (``/healthz`` beats it without loading the
        embedding model the index needs)."""
        return ChromaConnection(path=str(self.settings.chroma_path), url=self.settings.chroma_url)

    @cached_property
    def index(self) -> ChromaIndex:
        index = ChromaIndex(self.chroma, shared_embedder())
        if self.offload is not None:
            index.offload(self.offload)
        return index

    @cached_property
    def ingestor(self) -> Ingestor:
        options = IngestOptions(
            uploads=self.settings.uploads_path,
            allow_private_urls=self.settings.allow_private_urls,
            max_upload_bytes=self.settings.max_upload_mb * 1024 * 1024,
        )
        locks = RedisLocks(self.redis, ttl=60, wait=3600) if self.redis_url else None
        # One run of a source at a time across workers; a second one is skipped at once.
        source_locks = RedisLocks(self.redis, ttl=60, wait=0) if self.redis_url else None
        return Ingestor(
            self.uow,
            self.index,
            self.clock,
            options,
            locks=locks,
            source_locks=source_locks,
            events=self.events,
        )

    @cached_property
    def turns(self) -> TurnRunner:
        return TurnRunner(self.uow, self.turn_locks, self.responder)

    @cached_property
    def sweeper(self) -> TurnSweeper:
        """Dispatches again the turns a dead worker lost (see agent.core.redelivery): those
        unanswered for three sweeps, once the turn lock of a dead holder has expired."""
        min_age = timedelta(seconds=3 * self.settings.sweep_seconds)
        return TurnSweeper(self.uow, self.dispatcher, self.turn_locks, self.clock, min_age=min_age)

    @cached_property
    def turn_timings(self) -> RedisTurnTimings:
        """Where workers record how long each AI turn took (``frontdesk_turn_seconds``)."""
        return RedisTurnTimings(self.redis)

    @cached_property
    def turn_locks(self) -> RedisLocks | LocalLocks:
        """One turn at a time per conversation, across workers (Redis) or in-process. A
        killed holder's lock expires within two sweeps, so the sweep after can retry."""
        if not self.redis_url:
            return LocalLocks()
        return RedisLocks(self.redis, ttl=2 * self.settings.sweep_seconds)

    # -- the AI receptionist -------------------------------------------------------

    @cached_property
    def booking(self) -> BookingService:
        return BookingService(self.uow, self.clock, self.events)

    @cached_property
    def notifications(self) -> NotificationService:
        sender = None
        if self.settings.smtp_url:
            sender = SmtpSender(self.settings.smtp_url, self.settings.mail_from)
        return NotificationService(self.uow, self.clock, sender=sender)

    @cached_property
    def chat_model(self) -> BaseChatModel:
        # The offline model reads meaning with the knowledge index's own embedding model, and
        # other languages with the multilingual one (loaded on the first such question).
        return make_chat_model(
            self.settings.model,
            meaning=Meaning(shared_embedder().embed),
            multilingual=Meaning(lambda texts: shared_multilingual_embedder().embed(texts)),
        )

    @cached_property
    def graph(self) -> CompiledStateGraph:
        checkpointer = make_checkpointer(self.settings.sqlalchemy_url, self.settings.data_dir)
        return build_graph(self.chat_model, checkpointer)

    def agent_context(self, workspace_id: int, conversation_id: int) -> AgentContext:
        return AgentContext(
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            uow=self.uow,
            conversations=self.conversations,
            knowledge=self.index,
            booking=self.booking,
            notifications=self.notifications,
            clock=self.clock,
            actions=self.custom_actions,
        )

    @cached_property
    def custom_actions(self) -> CustomActionService:
        """Custom AI actions: HTTP calls to public addresses only, as for the crawler
        (``FRONTDESK_ALLOW_PRIVATE_URLS`` lifts that), secret headers sealed at rest."""
        caller = PublicActionCaller(allow_private=self.settings.allow_private_urls)
        return CustomActionService(self.uow, self.clock, self.secret_box, caller)

    @cached_property
    def responder(self) -> Responder:
        if self.responder_override is not None:
            return self.responder_override
        return AgentResponder(self.graph, self.agent_context)

    def worker(
        self, queues: Sequence[str] = WORKER_QUEUES, name: str | None = None
    ) -> RuntimeWorker:
        """An rq worker on the given queues, recording failures; its jobs get this container."""
        return RuntimeWorker(
            queues,
            runtime=self,
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

"""What a running process offers its adapters: the shape of the composition root.

The web adapters (inbox, widget, channels) and the eval runner type against this
protocol; ``frontdesk.wiring.Container`` implements it. So they never import the shell,
and the shell stays the one place that knows the concrete classes.
"""

from __future__ import annotations

from typing import Any, Protocol

import redis
from langgraph.graph.state import CompiledStateGraph
from sqlalchemy import Engine

from agent.config import Settings
from agent.core.automations import AutomationService
from agent.core.booking import BookingService
from agent.core.channel_accounts import ChannelAccountService
from agent.core.conversations import ConversationService
from agent.core.custom_actions import CustomActionService
from agent.core.delivery import DeliveryService
from agent.core.events import EventBus
from agent.core.knowledge import KnowledgeSearch, KnowledgeService
from agent.core.notifications import NotificationService
from agent.core.outgoing_webhooks import WebhookService
from agent.core.ports import Clock, Locks, UnitOfWorkFactory, WebhookQueue
from agent.core.privacy import PrivacyService
from agent.core.whatsapp_templates import WhatsAppTemplateService
from agent.core.workspaces import WorkspaceService
from agent.queue.turn_timings import RedisTurnTimings


class Heartbeat(Protocol):
    def heartbeat(self) -> None:
        """Raise unless the dependency answers."""


class Services(Protocol):
    """Services are built on first use, so a process pays only for what it touches."""

    settings: Settings
    redis_url: str  # REDIS_URL or the embedded server's socket; "" when there is none
    clock: Clock
    events: EventBus
    worker_queues: tuple[str, ...]  # the queues workers must serve, most urgent first

    @property
    def engine(self) -> Engine: ...
    @property
    def uow(self) -> UnitOfWorkFactory: ...
    @property
    def redis(self) -> redis.Redis: ...
    @property
    def conversations(self) -> ConversationService: ...
    @property
    def workspaces(self) -> WorkspaceService: ...
    @property
    def privacy(self) -> PrivacyService: ...
    @property
    def knowledge(self) -> KnowledgeService: ...
    @property
    def index(self) -> KnowledgeSearch: ...
    @property
    def chroma(self) -> Heartbeat: ...  # the index's Chroma client, for /healthz
    @property
    def turn_timings(self) -> RedisTurnTimings: ...
    @property
    def outgoing_webhooks(self) -> WebhookService: ...
    @property
    def automations(self) -> AutomationService: ...
    @property
    def custom_actions(self) -> CustomActionService: ...
    @property
    def booking(self) -> BookingService: ...
    @property
    def notifications(self) -> NotificationService: ...
    @property
    def turn_locks(self) -> Locks: ...
    @property
    def channels(self) -> ChannelAccountService: ...
    @property
    def delivery(self) -> DeliveryService: ...
    @property
    def webhook_queue(self) -> WebhookQueue: ...
    @property
    def whatsapp_templates(self) -> WhatsAppTemplateService: ...
    @property
    def voice(self) -> Any: ...  # channels.twilio.voice.VoiceService (agent cannot name it)
    @property
    def graph(self) -> CompiledStateGraph: ...

    def migrate(self) -> None: ...

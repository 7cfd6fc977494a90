"""The domain model: plain dataclasses, mapped onto tables by ``agent.storage.tables``.

Every record except ``Workspace`` carries ``workspace_id``; repositories filter on it
so no query can cross tenants. Times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class Channel(StrEnum):
    WEBCHAT = "webchat"
    EMAIL = "email"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    PHONE = "phone"


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SPAM = "spam"  # held out of the inbox: never answered nor notified (agent.core.spam)


class Mode(StrEnum):
    AI = "ai"
    HUMAN = "human"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"
    INTERNAL = "internal"  # activity notes in the thread, never sent to the customer


class AuthorKind(StrEnum):
    CONTACT = "contact"
    AI = "ai"
    STAFF = "staff"
    SYSTEM = "system"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"  # inbound, stored
    QUEUED = "queued"  # outbound, waiting for the channel
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class ChannelAccountStatus(StrEnum):
    CONNECTED = "connected"
    ERROR = "error"  # connected, but the provider refused us last time (``last_error``)


class SourceKind(StrEnum):
    WEBSITE = "website"
    FILE = "file"
    TEXT = "text"
    QA = "qa"
    PROFILE = "profile"


class SourceStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(eq=False, kw_only=True)
class Workspace:
    """A business and its profile: everything the receptionist needs to know about it."""

    id: int | None = None
    name: str
    timezone: str = "UTC"
    country: str = "US"
    address: str = ""
    phone: str = ""
    email: str = ""
    # day ("mon".."sun") -> list of "HH:MM-HH:MM" ranges; an empty list means closed.
    hours: dict[str, list[str]] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    appointment_minutes: int = 60
    links: dict[str, str] = field(default_factory=dict)
    instructions: str = ""
    widget: dict[str, Any] = field(default_factory=dict)
    widget_key: str = ""  # public id used by the embed snippet
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class TeamMember:
    id: int | None = None
    workspace_id: int
    name: str
    email: str
    role: Role = Role.STAFF
    password_hash: str = field(default="", repr=False)
    avatar_url: str = ""
    notify: str = "instant"  # instant | digest | off
    # Stored in each session cookie at sign-in: a session is valid only while it matches,
    # so bumping it (sign-out) ends every session of the member, on every device.
    session_version: int = 0
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class Contact:
    id: int | None = None
    workspace_id: int
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""  # E.164
    address: str = ""
    source_channel: str = Channel.WEBCHAT
    tags: list[str] = field(default_factory=list)  # lower case, set by staff or automations
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"Visitor #{self.id}"

    @property
    def is_lead(self) -> bool:
        """A lead is someone we can name and get back to."""
        return bool(self.first_name or self.last_name) and bool(self.email or self.phone)


# An admin's private test chat (Settings > Instructions > "Try it") runs through the real
# service on a web chat thread id with this prefix; the inbox list leaves such threads out.
TRY_IT_THREAD_PREFIX = "tryit-"


@dataclass(eq=False, kw_only=True)
class Conversation:
    id: int | None = None
    workspace_id: int
    contact_id: int
    channel: str = Channel.WEBCHAT
    status: ConversationStatus = ConversationStatus.OPEN
    mode: Mode = Mode.AI
    assignee_id: int | None = None
    # The provider's handle for the thread: widget visitor id, email thread, phone number...
    provider_thread_id: str | None = None
    lead_notified_at: datetime | None = None
    last_message_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    spam_reason: str = ""  # why it is in the Spam view, in plain words


@dataclass(eq=False, kw_only=True)
class Message:
    id: int | None = None
    workspace_id: int
    conversation_id: int
    direction: Direction
    author_kind: AuthorKind
    author_member_id: int | None = None
    body: str
    channel: str = Channel.WEBCHAT
    provider_message_id: str | None = None
    delivery_status: DeliveryStatus = DeliveryStatus.RECEIVED
    # citations, tool calls, attachments...
    meta: dict[str, Any] = field(default_factory=dict)
    # The newest visitor message an AI reply read (it answers all the earlier ones too).
    reply_to_id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class Appointment:
    id: int | None = None
    workspace_id: int
    contact_id: int | None = None
    conversation_id: int | None = None
    start: datetime
    end: datetime
    status: AppointmentStatus = AppointmentStatus.BOOKED
    notes: str = ""
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class KnowledgeSource:
    id: int | None = None
    workspace_id: int
    kind: SourceKind
    title: str = ""
    uri: str = ""  # start URL or stored file name
    config: dict[str, Any] = field(default_factory=dict)  # text body, Q&A pair, crawl limits
    status: SourceStatus = SourceStatus.QUEUED
    progress_done: int = 0
    progress_total: int = 0
    error: str = ""
    refresh_interval_hours: int | None = 24
    last_refreshed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class MessageTemplate:
    id: int | None = None
    workspace_id: int
    name: str
    body: str
    created_at: datetime | None = None


class TemplateStatus(StrEnum):
    """Where a WhatsApp template stands with Meta (``DRAFT``: not submitted yet)."""

    DRAFT = "DRAFT"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


@dataclass(eq=False, kw_only=True)
class WhatsAppTemplate:
    """A message template for WhatsApp, the only thing that may start a conversation or
    go out after the 24-hour window; Meta must approve it first."""

    id: int | None = None
    workspace_id: int
    name: str  # lowercase letters, digits and underscores (Meta's rule)
    category: str  # MARKETING | UTILITY | AUTHENTICATION
    language: str  # en, en_US, es...
    body: str  # with {{1}}, {{2}}... parameters
    header: str = ""
    buttons: list[str] = field(default_factory=list)  # quick-reply button texts
    status: str = TemplateStatus.DRAFT
    reason: str = ""  # why Meta rejected or paused it
    provider_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class SmsOptOut:
    """A number that texted STOP: nobody may text it until it texts START."""

    workspace_id: int
    phone: str  # E.164
    created_at: datetime | None = None


class SenderRuleKind(StrEnum):
    CONTACT = "contact"  # value: the contact's id
    EMAIL = "email"
    DOMAIN = "domain"  # an email domain
    PHONE = "phone"  # E.164


class SenderVerdict(StrEnum):
    BLOCKED = "blocked"  # their messages go to the Spam view
    GOOD = "good"  # released from spam once: never flagged automatically again


@dataclass(eq=False, kw_only=True)
class SenderRule:
    """A sender staff blocked, or released from spam (agent.core.spam): one per value."""

    id: int | None = None
    workspace_id: int
    kind: str  # SenderRuleKind
    value: str
    verdict: str  # SenderVerdict
    created_by: str = ""  # a member's email
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class AuditEntry:
    """One line of the audit log: who exported or deleted whose data, and when.

    It names the record by id and sums up counts; it never keeps the personal data."""

    id: int | None = None
    workspace_id: int
    actor: str  # a team member's email, or "cli"
    action: str  # contact.deleted | contact.exported
    subject: str  # "contact:42"
    detail: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class WebhookEndpoint:
    """Where a workspace's outgoing webhooks go (Zapier, Make, n8n, a CRM)."""

    id: int | None = None
    workspace_id: int
    url: str
    events: list[str] = field(default_factory=list)  # webhook event names it receives
    secret: str = ""  # the signing secret, sealed (a Fernet token), never plaintext
    active: bool = True
    created_at: datetime | None = None


class WebhookStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # refused, or given up after a day of retries


@dataclass(eq=False, kw_only=True)
class WebhookDelivery:
    """One event sent (or to send) to one endpoint: its body is fixed when it is created,
    so every retry carries the same event id; the signature is fresh at each attempt."""

    id: int | None = None
    workspace_id: int
    endpoint_id: int
    event_id: str
    event_type: str
    body: str
    status: WebhookStatus = WebhookStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    response_code: int | None = None
    last_error: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class Notification:
    """One notification sent (or attempted) to the team: the log staff and admins can audit."""

    id: int | None = None
    workspace_id: int
    kind: str  # new_lead | handoff | new_message | digest
    recipient: str = ""
    subject: str = ""
    body: str = ""
    conversation_id: int | None = None
    contact_id: int | None = None
    status: NotificationStatus = NotificationStatus.PENDING
    error: str = ""
    created_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class ChannelAccount:
    """A provider account (an email address, a Page, a phone number) and its workspace.

    ``(channel, external_id)`` is unique across workspaces: one provider account belongs to
    exactly one workspace, and inbound webhooks are routed by it. ``credentials`` holds the
    sealed (encrypted) token, never the secrets themselves.
    """

    id: int | None = None
    workspace_id: int
    channel: str
    external_id: str
    status: ChannelAccountStatus = ChannelAccountStatus.CONNECTED
    last_error: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # ai_auto_reply, public_address...
    credentials: str = field(default="", repr=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class SendingAccount:
    """An account as a sender adapter needs it for one message: its secrets opened.

    ``sender_name`` is who the message goes out as: the staff member on staff replies,
    otherwise the business."""

    workspace_id: int
    channel: str
    external_id: str
    business_name: str
    sender_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SendResult:
    """What a provider said when it accepted a message: its id for status callbacks (and
    every part's id when the channel sent it as several messages)."""

    provider_message_id: str
    part_ids: tuple[str, ...] = ()


@dataclass(eq=False, kw_only=True)
class JobFailure:
    """A background job that raised: kept so failures are visible, never swallowed."""

    id: int | None = None
    workspace_id: int | None = None
    job_id: str
    function: str
    args: list[Any] = field(default_factory=list)
    error: str
    traceback: str = ""
    final: bool = True  # False while rq will still retry it
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class CustomAction:
    """An HTTP call an admin lets the AI make as a tool (order status, stock check...).

    ``headers`` is a list of ``{"name", "value", "secret"}``; a secret header's value is
    sealed (a Fernet token), never plaintext. ``response_fields`` are the dotted paths of the
    response the AI may see; everything else is dropped."""

    id: int | None = None
    workspace_id: int
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)  # a JSON schema (type: object)
    method: str = "GET"
    url: str = ""  # a template: https://api.example.com/orders/{order_number}
    headers: list[dict[str, Any]] = field(default_factory=list, repr=False)
    response_fields: list[str] = field(default_factory=list)
    enabled: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class AutomationRule:
    """When ``trigger`` happens and every condition holds, the actions run, in order.

    Conditions and actions are small dicts with a ``kind`` (``agent.core.automation_rules``
    checks and describes them). ``wait_minutes`` is for the "no staff reply" trigger."""

    id: int | None = None
    workspace_id: int
    name: str
    trigger: str
    wait_minutes: int = 0
    conditions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    enabled: bool = False
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class AutomationEvent:
    """A trigger that happened (a lead, a booking, a handoff...), kept so a rule can be
    dry-run against recent ones; visitor messages are read from the messages instead."""

    id: int | None = None
    workspace_id: int
    type: str
    conversation_id: int | None = None
    contact_id: int | None = None
    appointment_id: int | None = None
    created_at: datetime | None = None


@dataclass(eq=False, kw_only=True)
class AutomationRun:
    """One rule met one event: what its conditions said, what its actions did."""

    id: int | None = None
    workspace_id: int
    rule_id: int
    event_key: str  # unique per rule: a job run twice records (and acts) once
    event_type: str
    conversation_id: int | None = None
    matched: bool = False
    checks: list[dict[str, Any]] = field(default_factory=list)  # [{"condition", "ok"}]
    actions: list[dict[str, Any]] = field(default_factory=list)  # [{"action", "ok", "detail"}]
    error: str = ""
    depth: int = 0  # how many rules' actions led to this event (0: a visitor, staff...)
    created_at: datetime | None = None

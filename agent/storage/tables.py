"""Table definitions, and the imperative mapping of the core's dataclasses onto them.

Mapping imperatively keeps ``agent.core.models`` free of SQLAlchemy while the
repositories still hand out (and track changes to) those same objects.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from agent.core import models


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (no tz support) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _workspace_fk() -> Column:
    return Column(
        "workspace_id", Integer, ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False
    )


workspace = Table(
    "workspace",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    Column("address", String(500), nullable=False, default=""),
    Column("phone", String(32), nullable=False, default=""),
    Column("email", String(320), nullable=False, default=""),
    Column("hours", JSON, nullable=False),
    Column("services", JSON, nullable=False),
    Column("appointment_minutes", Integer, nullable=False),
    Column("links", JSON, nullable=False),
    Column("instructions", Text, nullable=False, default=""),
    Column("widget", JSON, nullable=False),
    Column("widget_key", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
)

team_member = Table(
    "team_member",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("name", String(120), nullable=False),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("avatar_url", String(500), nullable=False, default=""),
    Column("notify", String(16), nullable=False, default="instant"),
    Column("created_at", UTCDateTime),
    Column("session_version", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("workspace_id", "email", name="uq_team_member_workspace_email"),
)

contact = Table(
    "contact",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("first_name", String(100), nullable=False, default=""),
    Column("last_name", String(100), nullable=False, default=""),
    Column("email", String(320), nullable=False, default=""),
    Column("phone", String(32), nullable=False, default=""),
    Column("address", String(500), nullable=False, default=""),
    Column("source_channel", String(16), nullable=False),
    Column("tags", JSON, nullable=False, default=list, server_default="[]"),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Index("ix_contact_workspace_email", "workspace_id", "email"),
    Index("ix_contact_workspace_phone", "workspace_id", "phone"),
    # Batch loads by id (the inbox list's page): without statistics, SQLite would rather
    # scan one of the indexes above for the workspace than look up the ids themselves.
    Index("ix_contact_workspace_id", "workspace_id", "id"),
)

conversation = Table(
    "conversation",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("contact_id", Integer, ForeignKey("contact.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("assignee_id", Integer, ForeignKey("team_member.id", ondelete="SET NULL")),
    Column("provider_thread_id", String(255)),
    Column("lead_notified_at", UTCDateTime),
    Column("last_message_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("spam_reason", Text, nullable=False, default="", server_default=""),
    UniqueConstraint(
        "workspace_id", "channel", "provider_thread_id", name="uq_conversation_thread"
    ),
    Index("ix_conversation_workspace_status", "workspace_id", "status", "last_message_at"),
    Index("ix_conversation_workspace_recent", "workspace_id", "last_message_at", "id"),
)

message = Table(
    "message",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversation.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("direction", String(8), nullable=False),
    Column("author_kind", String(8), nullable=False),
    Column("author_member_id", Integer, ForeignKey("team_member.id", ondelete="SET NULL")),
    Column("body", Text, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("provider_message_id", String(255)),
    Column("delivery_status", String(16), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("reply_to_id", Integer),  # the newest visitor message an AI reply read
    Column("created_at", UTCDateTime),
    UniqueConstraint(
        "workspace_id", "channel", "provider_message_id", name="uq_message_provider_id"
    ),
    # Carries workspace_id, which every repository query filters on, so SQLite (no
    # statistics) picks it over the unique index that merely starts with workspace_id.
    Index("ix_message_conversation_workspace", "conversation_id", "workspace_id", "id"),
    Index("ix_message_reply_to", "reply_to_id"),
)

appointment = Table(
    "appointment",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("contact_id", Integer, ForeignKey("contact.id", ondelete="SET NULL")),
    Column("conversation_id", Integer, ForeignKey("conversation.id", ondelete="SET NULL")),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("notes", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime),
    Index("ix_appointment_workspace_start", "workspace_id", "start"),
)

knowledge_source = Table(
    "knowledge_source",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("kind", String(16), nullable=False),
    Column("title", String(500), nullable=False, default=""),
    Column("uri", String(2000), nullable=False, default=""),
    Column("config", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress_done", Integer, nullable=False, default=0),
    Column("progress_total", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("refresh_interval_hours", Integer),
    Column("last_refreshed_at", UTCDateTime),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
)

message_template = Table(
    "message_template",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("name", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime),
    UniqueConstraint("workspace_id", "name", name="uq_message_template_workspace_name"),
)

notification = Table(
    "notification",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("kind", String(32), nullable=False),
    Column("recipient", String(320), nullable=False, default=""),
    Column("subject", String(500), nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("conversation_id", Integer, ForeignKey("conversation.id", ondelete="SET NULL")),
    Column("contact_id", Integer, ForeignKey("contact.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
)

job_failure = Table(
    "job_failure",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspace.id", ondelete="CASCADE")),
    Column("job_id", String(64), nullable=False),
    Column("function", String(200), nullable=False),
    Column("args", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("traceback", Text, nullable=False, default=""),
    Column("final", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime),
)

# Provider accounts (an address, a Page, a number) and the workspace each belongs to.
channel_account = Table(
    "channel_account",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(320), nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("settings", JSON, nullable=False),
    Column("credentials", Text, nullable=False, default=""),  # a Fernet token, never plaintext
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    # One provider account belongs to exactly one workspace: webhooks are routed by it.
    UniqueConstraint("channel", "external_id", name="uq_channel_account_external"),
    UniqueConstraint("workspace_id", "channel", name="uq_channel_account_workspace_channel"),
)

# WhatsApp message templates and their review status at Meta.
whatsapp_template = Table(
    "whatsapp_template",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("name", String(512), nullable=False),
    Column("category", String(16), nullable=False),
    Column("language", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("header", Text, nullable=False, default=""),
    Column("buttons", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("provider_id", String(64), nullable=False, default=""),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    UniqueConstraint("workspace_id", "name", "language", name="uq_whatsapp_template_name"),
)

# Numbers that texted STOP to the workspace's SMS number.
sms_opt_out = Table(
    "sms_opt_out",
    metadata,
    Column(
        "workspace_id",
        Integer,
        ForeignKey("workspace.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("phone", String(32), primary_key=True),
    Column("created_at", UTCDateTime),
)

# Who did what to whose data (privacy exports and deletions): ids and counts, never the
# personal data itself.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("created_at", UTCDateTime),
    Column("actor", Text, nullable=False),  # a member's email, or "cli"
    Column("action", String(64), nullable=False),  # contact.deleted, contact.exported...
    Column("subject", Text, nullable=False),  # contact:42
    Column("detail", JSON, nullable=False),
    Index("ix_audit_log_workspace_created", "workspace_id", "created_at"),
)

# Outgoing webhooks: the endpoints a workspace sends its events to, and each delivery.
webhook_endpoint = Table(
    "webhook_endpoint",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", Text, nullable=False),  # a Fernet token, never plaintext
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime),
)

webhook_delivery = Table(
    "webhook_delivery",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column(
        "endpoint_id",
        Integer,
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("response_code", Integer),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),
    Index("ix_webhook_delivery_status", "status", "next_attempt_at"),
)

# Senders staff blocked, or released from spam (known good): one row per value.
sender_rule = Table(
    "sender_rule",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("kind", String(16), nullable=False),  # contact | email | domain | phone
    Column("value", String(320), nullable=False),
    Column("verdict", String(16), nullable=False),  # blocked | good
    Column("created_by", String(320), nullable=False, default=""),
    Column("created_at", UTCDateTime),
    UniqueConstraint("workspace_id", "kind", "value", name="uq_sender_rule_value"),
)

# How far each team member has read each conversation (unread counts in the inbox).
conversation_read = Table(
    "conversation_read",
    metadata,
    Column(
        "member_id", Integer, ForeignKey("team_member.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversation.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("last_read_message_id", Integer, nullable=False),
)

# Custom AI actions: HTTP calls an admin lets the AI make as tools (secret headers sealed).
custom_action = Table(
    "custom_action",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("parameters", JSON, nullable=False),
    Column("method", String(8), nullable=False, default="GET"),
    Column("url", Text, nullable=False),
    Column("headers", JSON, nullable=False),  # [{"name", "value", "secret"}]; secrets sealed
    Column("response_fields", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    UniqueConstraint("workspace_id", "name", name="uq_custom_action_name"),
)

# Automations: admins' rules, the trigger events kept for dry runs, and each rule's runs.
automation_rule = Table(
    "automation_rule",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("name", String(120), nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("wait_minutes", Integer, nullable=False, default=0),
    Column("conditions", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, default=False),
    Column("created_by", String(320), nullable=False, default=""),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Index("ix_automation_rule_trigger", "workspace_id", "trigger"),
)

automation_event = Table(
    "automation_event",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column("type", String(64), nullable=False),
    Column("conversation_id", Integer),
    Column("contact_id", Integer),
    Column("appointment_id", Integer),
    Column("created_at", UTCDateTime),
    Index("ix_automation_event_type", "workspace_id", "type", "id"),
)

automation_run = Table(
    "automation_run",
    metadata,
    Column("id", Integer, primary_key=True),
    _workspace_fk(),
    Column(
        "rule_id", Integer, ForeignKey("automation_rule.id", ondelete="CASCADE"), nullable=False
    ),
    Column("event_key", String(120), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("conversation_id", Integer),
    Column("matched", Boolean, nullable=False, default=False),
    Column("checks", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("depth", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime),
    UniqueConstraint("rule_id", "event_key", name="uq_automation_run_event"),
    Index("ix_automation_run_rule", "rule_id", "id"),
)

mapper_registry = registry(metadata=metadata)
_MAPPINGS = (
    (models.Workspace, workspace),
    (models.TeamMember, team_member),
    (models.Contact, contact),
    (models.Conversation, conversation),
    (models.Message, message),
    (models.Appointment, appointment),
    (models.KnowledgeSource, knowledge_source),
    (models.MessageTemplate, message_template),
    (models.Notification, notification),
    (models.JobFailure, job_failure),
    (models.ChannelAccount, channel_account),
    (models.WhatsAppTemplate, whatsapp_template),
    (models.SmsOptOut, sms_opt_out),
    (models.AuditEntry, audit_log),
    (models.WebhookEndpoint, webhook_endpoint),
    (models.WebhookDelivery, webhook_delivery),
    (models.SenderRule, sender_rule),
    (models.CustomAction, custom_action),
    (models.AutomationRule, automation_rule),
    (models.AutomationEvent, automation_event),
    (models.AutomationRun, automation_run),
)


def map_models() -> None:
    """Map the domain classes once per process (idempotent)."""
    if mapper_registry.mappers:
        return
    for cls, table in _MAPPINGS:
        mapper_registry.map_imperatively(cls, table)

"""One workspace's slice of the unit of work: its row, writes, and the aggregates' reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.core.errors import NotFound
from agent.core.models import Workspace
from agent.storage.repositories.appointments import SqlAppointments
from agent.storage.repositories.automations import (
    SqlAutomationEvents,
    SqlAutomationRules,
    SqlAutomationRuns,
)
from agent.storage.repositories.base import check_workspace, clash
from agent.storage.repositories.contacts import SqlContacts
from agent.storage.repositories.conversations import SqlConversations
from agent.storage.repositories.custom_actions import SqlCustomActions
from agent.storage.repositories.messages import SqlMessages
from agent.storage.repositories.records import (
    SqlAuditLog,
    SqlChannelAccounts,
    SqlKnowledgeSources,
    SqlNotifications,
    SqlSmsOptOuts,
    SqlTemplates,
    SqlWhatsAppTemplates,
)
from agent.storage.repositories.sender_rules import SqlSenderRules
from agent.storage.repositories.team import SqlTeam
from agent.storage.repositories.webhooks import SqlWebhookDeliveries, SqlWebhookEndpoints


class SqlWorkspaceScope:
    """Adds and deletes only this workspace's records; each repository reads only its rows."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self._session = session
        self.workspace_id = workspace_id
        self.team = SqlTeam(session, workspace_id)
        self.contacts = SqlContacts(session, workspace_id)
        self.conversations = SqlConversations(session, workspace_id)
        self.messages = SqlMessages(session, workspace_id)
        self.appointments = SqlAppointments(session, workspace_id)
        self.knowledge = SqlKnowledgeSources(session, workspace_id)
        self.templates = SqlTemplates(session, workspace_id)
        self.notifications = SqlNotifications(session, workspace_id)
        self.channel_accounts = SqlChannelAccounts(session, workspace_id)
        self.whatsapp_templates = SqlWhatsAppTemplates(session, workspace_id)
        self.sms_opt_outs = SqlSmsOptOuts(session, workspace_id)
        self.audit_log = SqlAuditLog(session, workspace_id)
        self.webhook_endpoints = SqlWebhookEndpoints(session, workspace_id)
        self.webhook_deliveries = SqlWebhookDeliveries(session, workspace_id)
        self.sender_rules = SqlSenderRules(session, workspace_id)
        self.custom_actions = SqlCustomActions(session, workspace_id)
        self.automation_rules = SqlAutomationRules(session, workspace_id)
        self.automation_events = SqlAutomationEvents(session, workspace_id)
        self.automation_runs = SqlAutomationRuns(session, workspace_id)

    def workspace(self, *, for_update: bool = False) -> Workspace:
        if for_update:
            # PostgreSQL: FOR NO KEY UPDATE, which serialises the callers (bookings, team
            # changes) without blocking new rows that reference the workspace. SQLite's
            # writers already take turns. Lock first: a fresh read replaces unsaved edits.
            query = select(Workspace).where(Workspace.id == self.workspace_id)
            found = self._session.scalars(
                query.with_for_update(key_share=True).execution_options(populate_existing=True)
            ).first()
        else:
            found = self._session.get(Workspace, self.workspace_id)
        if found is None:
            raise NotFound("workspace", self.workspace_id)
        return found

    def add(self, record: Any) -> None:
        check_workspace(record, self.workspace_id)
        self._session.add(record)

    def flush(self) -> None:
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise clash(exc) from exc

    def delete(self, record: Any) -> None:
        check_workspace(record, self.workspace_id)
        self._session.delete(record)

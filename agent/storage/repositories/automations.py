"""A workspace's automation rules, the trigger events kept for dry runs, and the run log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from agent.core.models import (
    AuthorKind,
    AutomationEvent,
    AutomationRule,
    AutomationRun,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)
from agent.storage.repositories.base import Scoped


class SqlAutomationRules(Scoped):
    def get(self, rule_id: int) -> AutomationRule:
        return self._one(AutomationRule, rule_id)

    def all(self) -> Sequence[AutomationRule]:
        return self._session.scalars(self._scoped(AutomationRule).order_by(AutomationRule.id)).all()

    def enabled(self, trigger: str) -> Sequence[AutomationRule]:
        query = self._scoped(AutomationRule).where(
            AutomationRule.trigger == trigger, AutomationRule.enabled.is_(True)
        )
        return self._session.scalars(query.order_by(AutomationRule.id)).all()

    def triggers_in_use(self) -> set[str]:
        """The triggers some enabled rule waits for."""
        query = select(AutomationRule.trigger).where(
            AutomationRule.workspace_id == self.workspace_id, AutomationRule.enabled.is_(True)
        )
        return set(self._session.scalars(query.distinct()).all())


class SqlAutomationEvents(Scoped):
    def recent(self, event_type: str, limit: int) -> Sequence[AutomationEvent]:
        """Newest first."""
        query = (
            self._scoped(AutomationEvent)
            .where(AutomationEvent.type == event_type)
            .order_by(AutomationEvent.id.desc())
            .limit(limit)
        )
        return self._session.scalars(query).all()

    def prune(self, keep: int) -> None:
        """Keep the newest ``keep`` events of the workspace."""
        cutoff = self._session.scalar(
            select(AutomationEvent.id)
            .where(AutomationEvent.workspace_id == self.workspace_id)
            .order_by(AutomationEvent.id.desc())
            .offset(keep)
            .limit(1)
        )
        if cutoff is not None:
            self._session.execute(
                delete(AutomationEvent).where(
                    AutomationEvent.workspace_id == self.workspace_id,
                    AutomationEvent.id <= cutoff,
                )
            )

    def visitor_messages(self, limit: int) -> Sequence[Message]:
        """The newest messages from customers (the "message received" events), newest first."""
        query = (
            self._scoped(Message)
            .where(Message.author_kind == AuthorKind.CONTACT)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        return self._session.scalars(query).all()

    def unanswered(self, since: datetime, before: datetime, limit: int) -> Sequence[Message]:
        """Open conversations' last messages when they are the customer's, sent between
        ``since`` and ``before`` (nobody has answered them since)."""
        last = (
            select(Message.conversation_id, func.max(Message.id).label("last_id"))
            .where(
                Message.workspace_id == self.workspace_id,
                Message.direction != Direction.INTERNAL,
            )
            .group_by(Message.conversation_id)
            .subquery()
        )
        query = (
            select(Message)
            .join(last, Message.id == last.c.last_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.workspace_id == self.workspace_id,
                Conversation.status == ConversationStatus.OPEN,
                Conversation.last_message_at >= since,
                Message.author_kind == AuthorKind.CONTACT,
                Message.created_at >= since,
                Message.created_at <= before,
            )
            .order_by(Message.id)
            .limit(limit)
        )
        return self._session.scalars(query).all()


class SqlAutomationRuns(Scoped):
    def get(self, run_id: int) -> AutomationRun:
        return self._one(AutomationRun, run_id)

    def for_rule(self, rule_id: int, *, limit: int = 100) -> Sequence[AutomationRun]:
        """Newest first: the rule's run log."""
        query = (
            self._scoped(AutomationRun)
            .where(AutomationRun.rule_id == rule_id)
            .order_by(AutomationRun.id.desc())
            .limit(limit)
        )
        return self._session.scalars(query).all()

    def delete_for_rule(self, rule_id: int) -> None:
        self._session.execute(
            delete(AutomationRun).where(
                AutomationRun.workspace_id == self.workspace_id, AutomationRun.rule_id == rule_id
            )
        )

    def ran(self, rule_id: int, event_key: str) -> bool:
        query = select(AutomationRun.id).where(
            AutomationRun.workspace_id == self.workspace_id,
            AutomationRun.rule_id == rule_id,
            AutomationRun.event_key == event_key,
        )
        return self._session.scalar(query.limit(1)) is not None

"""The workspace's smaller aggregates: knowledge sources, message templates, notifications,
channel accounts, WhatsApp templates, SMS opt-outs, the audit log."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import or_

from agent.core.models import (
    AuditEntry,
    ChannelAccount,
    KnowledgeSource,
    MessageTemplate,
    Notification,
    SmsOptOut,
    WhatsAppTemplate,
)
from agent.storage.repositories.base import Scoped


class SqlKnowledgeSources(Scoped):
    def get(self, source_id: int) -> KnowledgeSource:
        return self._one(KnowledgeSource, source_id)

    def all(self) -> Sequence[KnowledgeSource]:
        return self._session.scalars(
            self._scoped(KnowledgeSource).order_by(KnowledgeSource.id)
        ).all()


class SqlTemplates(Scoped):
    def all(self) -> Sequence[MessageTemplate]:
        return self._session.scalars(
            self._scoped(MessageTemplate).order_by(MessageTemplate.name)
        ).all()


class SqlNotifications(Scoped):
    def all(self) -> Sequence[Notification]:
        return self._session.scalars(self._scoped(Notification).order_by(Notification.id)).all()

    def about(self, contact_id: int, conversation_ids: Collection[int]) -> Sequence[Notification]:
        """The ones naming this contact or one of these conversations (privacy requests)."""
        query = self._scoped(Notification).where(
            or_(
                Notification.contact_id == contact_id,
                Notification.conversation_id.in_(list(conversation_ids)),
            )
        )
        return self._session.scalars(query.order_by(Notification.id)).all()


class SqlChannelAccounts(Scoped):
    def all(self) -> Sequence[ChannelAccount]:
        return self._session.scalars(self._scoped(ChannelAccount).order_by(ChannelAccount.id)).all()

    def for_channel(self, channel: str) -> ChannelAccount | None:
        query = self._scoped(ChannelAccount).where(ChannelAccount.channel == channel)
        return self._session.scalars(query).first()


class SqlWhatsAppTemplates(Scoped):
    def all(self) -> Sequence[WhatsAppTemplate]:
        query = self._scoped(WhatsAppTemplate).order_by(
            WhatsAppTemplate.name, WhatsAppTemplate.language
        )
        return self._session.scalars(query).all()

    def get(self, template_id: int) -> WhatsAppTemplate:
        return self._one(WhatsAppTemplate, template_id)

    def find(self, name: str, language: str) -> WhatsAppTemplate | None:
        query = self._scoped(WhatsAppTemplate).where(
            WhatsAppTemplate.name == name, WhatsAppTemplate.language == language
        )
        return self._session.scalars(query).first()


class SqlSmsOptOuts(Scoped):
    def has(self, phone: str) -> bool:
        query = self._scoped(SmsOptOut).where(SmsOptOut.phone == phone)
        return self._session.scalars(query).first() is not None

    def get(self, phone: str) -> SmsOptOut | None:
        return self._session.scalars(
            self._scoped(SmsOptOut).where(SmsOptOut.phone == phone)
        ).first()


class SqlAuditLog(Scoped):
    def recent(self, *, limit: int = 100) -> Sequence[AuditEntry]:
        query = self._scoped(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        return self._session.scalars(query).all()

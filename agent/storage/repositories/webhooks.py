"""A workspace's outgoing webhook endpoints and their delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete

from agent.core.models import WebhookDelivery, WebhookEndpoint, WebhookStatus
from agent.storage.repositories.base import Scoped


class SqlWebhookEndpoints(Scoped):
    def get(self, endpoint_id: int) -> WebhookEndpoint:
        return self._one(WebhookEndpoint, endpoint_id)

    def all(self) -> Sequence[WebhookEndpoint]:
        query = self._scoped(WebhookEndpoint).order_by(WebhookEndpoint.id)
        return self._session.scalars(query).all()

    def subscribed(self, event_type: str) -> list[WebhookEndpoint]:
        """Active endpoints that receive ``event_type`` (few per workspace: read them all)."""
        return [e for e in self.all() if e.active and event_type in (e.events or [])]


class SqlWebhookDeliveries(Scoped):
    def get(self, delivery_id: int, *, for_update: bool = False) -> WebhookDelivery:
        return self._one(WebhookDelivery, delivery_id, for_update=for_update)

    def for_endpoint(self, endpoint_id: int, *, limit: int = 100) -> Sequence[WebhookDelivery]:
        """Newest first: the endpoint's delivery log."""
        query = (
            self._scoped(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        return self._session.scalars(query).all()

    def due(self, before: datetime) -> Sequence[WebhookDelivery]:
        """Pending deliveries whose attempt was due by ``before``."""
        query = self._scoped(WebhookDelivery).where(
            WebhookDelivery.status == WebhookStatus.PENDING,
            WebhookDelivery.next_attempt_at <= before,
        )
        return self._session.scalars(query.order_by(WebhookDelivery.id)).all()

    def delete_for_endpoint(self, endpoint_id: int) -> None:
        self._session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.workspace_id == self.workspace_id,
                WebhookDelivery.endpoint_id == endpoint_id,
            )
        )

"""A workspace's blocked and known-good senders (``agent.core.spam``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_

from agent.core.models import SenderRule
from agent.storage.repositories.base import Scoped


class SqlSenderRules(Scoped):
    def all(self) -> Sequence[SenderRule]:
        query = self._scoped(SenderRule).order_by(SenderRule.kind, SenderRule.value)
        return self._session.scalars(query).all()

    def get(self, kind: str, value: str) -> SenderRule | None:
        query = self._scoped(SenderRule).where(SenderRule.kind == kind, SenderRule.value == value)
        return self._session.scalars(query).first()

    def matching(self, keys: Iterable[tuple[str, str]]) -> Sequence[SenderRule]:
        """The rules for any of these (kind, value) pairs: one query, whatever the count."""
        pairs = [and_(SenderRule.kind == k, SenderRule.value == v) for k, v in keys]
        if not pairs:
            return []
        query = self._scoped(SenderRule).where(or_(*pairs))
        return self._session.scalars(query).all()

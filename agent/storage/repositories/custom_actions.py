"""A workspace's custom AI actions (the HTTP calls its AI may make as tools)."""

from __future__ import annotations

from collections.abc import Sequence

from agent.core.models import CustomAction
from agent.storage.repositories.base import Scoped


class SqlCustomActions(Scoped):
    def get(self, action_id: int) -> CustomAction:
        return self._one(CustomAction, action_id)

    def all(self) -> Sequence[CustomAction]:
        query = self._scoped(CustomAction).order_by(CustomAction.name)
        return self._session.scalars(query).all()

    def by_name(self, name: str) -> CustomAction | None:
        query = self._scoped(CustomAction).where(CustomAction.name == name)
        return self._session.scalars(query).first()

    def enabled(self) -> Sequence[CustomAction]:
        """The actions the AI may call now (a handful per workspace)."""
        query = self._scoped(CustomAction).where(CustomAction.enabled.is_(True))
        return self._session.scalars(query.order_by(CustomAction.name)).all()

"""A workspace's team members."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from agent.core.models import TeamMember
from agent.storage.repositories.base import Scoped


class SqlTeam(Scoped):
    def get(self, member_id: int) -> TeamMember:
        return self._one(TeamMember, member_id)

    def by_email(self, email: str) -> TeamMember | None:
        return self._session.scalars(
            self._scoped(TeamMember).where(TeamMember.email == email.lower())
        ).first()

    def all(self) -> Sequence[TeamMember]:
        return self._session.scalars(self._scoped(TeamMember).order_by(TeamMember.id)).all()

    def by_ids(self, member_ids: Collection[int]) -> dict[int, TeamMember]:
        """One query for many ids; an id from another workspace is simply absent."""
        if not member_ids:
            return {}
        query = self._scoped(TeamMember).where(TeamMember.id.in_(set(member_ids)))
        return {m.id: m for m in self._session.scalars(query)}

"""Managing the team: roles, removal, and each member's own account settings.

A workspace must always keep an admin, so nobody may demote or remove themselves, and
the last admin can be neither demoted nor removed. Changes first lock the workspace row,
so two admins demoting each other at the same moment cannot leave it with none. Removal,
a role change and signing out publish ``MemberAccessChanged`` after commit, so the web
layer ends the member's live connections at once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from agent.core import validation
from agent.core.errors import Conflict, ValidationError
from agent.core.events import EventBus, MemberAccessChanged
from agent.core.models import Role, TeamMember
from agent.core.ports import Clock, UnitOfWorkFactory, WorkspaceScope

NOTIFY_CHOICES = ("instant", "digest", "off")


def avatar_url(value: str) -> str:
    """An http(s) image address, or nothing: other schemes (javascript:, data:) are refused."""
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("avatar_url", "must be an http:// or https:// address")
    if len(value) > 500:
        raise ValidationError("avatar_url", "is longer than 500 characters")
    return value


def notify_choice(value: str) -> str:
    if value not in NOTIFY_CHOICES:
        raise ValidationError("notify", "choose instant, digest or off")
    return value


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError("role", f"{value!r} is not a role (admin or staff)") from None


class TeamService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, events: EventBus | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events

    def _access_changed(self, workspace_id: int, member_id: int) -> None:
        if self._events is not None:
            self._events.publish(MemberAccessChanged(workspace_id, member_id))

    def _lock(self, repo: WorkspaceScope) -> None:
        """Serialise team changes per workspace (a row lock on PostgreSQL until commit)."""
        repo.workspace(for_update=True)

    @staticmethod
    def _guard(repo: WorkspaceScope, actor_id: int, target: TeamMember, what: str) -> None:
        if repo.team.get(actor_id).role != Role.ADMIN:
            raise Conflict("Only admins can manage the team.")
        admins = [m for m in repo.team.all() if m.role == Role.ADMIN]
        if target.role == Role.ADMIN and len(admins) <= 1:
            raise Conflict(
                f"{target.name} is the last admin: make someone else admin first, "
                "so the workspace always has one."
            )
        if target.id == actor_id:
            raise Conflict(f"You cannot {what} yourself; ask another admin to do it.")

    def change_role(
        self, workspace_id: int, actor_id: int, member_id: int, role: str
    ) -> TeamMember:
        new_role = _role(role)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            self._lock(repo)  # before any read, so the reads below see the latest team
            target = repo.team.get(member_id)  # NotFound for another workspace's member
            changed = target.role != new_role
            if changed:
                what = "demote" if new_role == Role.STAFF else "promote"
                self._guard(repo, actor_id, target, what)
                target.role = new_role
            uow.commit()
        if changed:  # their sockets reconnect with the new role's rooms
            self._access_changed(workspace_id, member_id)
        return target

    def remove(self, workspace_id: int, actor_id: int, member_id: int) -> TeamMember:
        """Delete the member: their requests are refused and their sockets cut at once."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            self._lock(repo)
            target = repo.team.get(member_id)
            self._guard(repo, actor_id, target, "remove")
            repo.delete(target)
            uow.commit()
        self._access_changed(workspace_id, member_id)
        return target

    def sign_out(self, workspace_id: int, member_id: int) -> None:
        """End every session of the member, on every device (a new session version)."""
        with self._uow() as uow:
            member = uow.workspace(workspace_id).team.get(member_id)
            member.session_version += 1
            uow.commit()
        self._access_changed(workspace_id, member_id)

    def update_account(
        self, workspace_id: int, member_id: int, *, name: str, avatar: str, notify: str
    ) -> TeamMember:
        """A member's own display name, avatar and email notification preference."""
        values = (
            validation.name(name, "name", 120, required=True),
            avatar_url(avatar),
            notify_choice(notify),
        )
        with self._uow() as uow:
            member = uow.workspace(workspace_id).team.get(member_id)
            member.name, member.avatar_url, member.notify = values
            uow.commit()
        return member

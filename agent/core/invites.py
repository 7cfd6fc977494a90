"""Inviting a person to the team by email: a signed link that expires and works once.

The token (itsdangerous, salt "invite") carries the workspace, email, role and the id
of the invite's entry in the notification log (kind "invite"). That entry is what makes
a link single-use and revocable without a table of its own: accepting turns it into
"invite_accepted", withdrawing or re-inviting the same address into "invite_withdrawn".
The token itself is never stored, since it is a credential.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from agent.core import validation
from agent.core.errors import Conflict, FrontdeskError, NotFound, ValidationError
from agent.core.models import Notification, NotificationStatus, Role, TeamMember
from agent.core.notifications import EmailSender
from agent.core.ports import Clock, UnitOfWorkFactory, WorkspaceScope
from agent.core.workspaces import NewMember, WorkspaceService

log = logging.getLogger(__name__)

INVITE_DAYS = 7
PENDING, ACCEPTED, WITHDRAWN = "invite", "invite_accepted", "invite_withdrawn"


class InviteError(FrontdeskError):
    """The link cannot be used; ``reason`` is invalid, expired, accepted or withdrawn."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _invalid() -> InviteError:
    return InviteError(
        "invalid",
        "This invite link is not valid. Check that you copied the whole link, "
        "or ask an admin of the workspace for a new one.",
    )


@dataclass(frozen=True)
class Invite:
    workspace_id: int
    workspace_name: str
    email: str
    role: str
    invite_id: int


@dataclass(frozen=True)
class SentInvite:
    log: Notification
    link: str
    emailed: bool  # False: email is not set up or failed, so the admin passes the link on


def _signer(clock: Clock) -> type[TimestampSigner]:
    """Timestamps from our clock, so expiry follows the same time as everything else."""

    class ClockTimestampSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return ClockTimestampSigner


def _log_entry(repo: WorkspaceScope, invite_id: int) -> Notification | None:
    return next((n for n in repo.notifications.all() if n.id == invite_id), None)


class InviteService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        workspaces: WorkspaceService,
        secret_key: str,
        sender: EmailSender | None,
        *,
        valid_for: timedelta = timedelta(days=INVITE_DAYS),
    ) -> None:
        if not secret_key:
            raise ValueError("invites need the application's secret key")
        self._uow = uow
        self._clock = clock
        self._workspaces = workspaces
        self._sender = sender
        self._max_age = int(valid_for.total_seconds())
        self._tokens = URLSafeTimedSerializer(secret_key, salt="invite", signer=_signer(clock))

    # -- the admin's side ----------------------------------------------------------

    def invite(
        self,
        workspace_id: int,
        inviter_id: int,
        email: str,
        role: str,
        link_for: Callable[[str], str],
    ) -> SentInvite:
        """Log the invite, sign a link for it (``link_for`` makes the URL) and email it."""
        email = validation.email(email)
        try:
            role = Role(role).value
        except ValueError:
            raise ValidationError("role", f"{role!r} is not a role (admin or staff)") from None
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            workspace, inviter = repo.workspace(), repo.team.get(inviter_id)
            if inviter.role != Role.ADMIN:
                raise Conflict("Only admins can invite people.")
            if repo.team.by_email(email) is not None:
                raise Conflict(f"{email} is already a member of {workspace.name}.")
            for older in repo.notifications.all():
                if older.kind == PENDING and older.recipient == email:
                    older.kind = WITHDRAWN  # only the newest link for an address works
            entry = Notification(
                workspace_id=workspace_id,
                kind=PENDING,
                recipient=email,
                subject=f"{inviter.name} invited you to {workspace.name} on frontdesk",
                body=f"{inviter.name} invited {email} to join as {role}.",
                error="" if self._sender else "email is not configured",
                created_at=now,
            )
            repo.add(entry)
            uow.commit()
        token = self._tokens.dumps({"w": workspace_id, "e": email, "r": role, "i": entry.id})
        link = link_for(token)
        emailed = self._send(entry, workspace.name, inviter.name, role, link)
        return SentInvite(entry, link, emailed)

    def _send(
        self, entry: Notification, workspace: str, inviter: str, role: str, link: str
    ) -> bool:
        if self._sender is None:
            return False
        body = (
            f"{inviter} invited you to join the {workspace} team on frontdesk as {role}.\n\n"
            f"Choose your name and password here (the link works once, for {INVITE_DAYS} days):"
            f"\n{link}\n\nIf you were not expecting this, you can ignore this email."
        )
        try:
            self._sender.send([entry.recipient], entry.subject, body)
            status, error = NotificationStatus.SENT, ""
        except Exception as exc:  # the admin still gets the link to pass on
            log.warning("could not email invite %s: %s", entry.id, exc)
            status, error = NotificationStatus.FAILED, f"{type(exc).__name__}: {exc}"
        with self._uow() as uow:
            stored = _log_entry(uow.workspace(entry.workspace_id), entry.id or 0)
            if stored is not None:
                stored.status, stored.error = status, error
                stored.sent_at = self._clock() if status == NotificationStatus.SENT else None
                uow.commit()
        entry.status, entry.error = status, error
        return status == NotificationStatus.SENT

    def pending(self, workspace_id: int) -> Sequence[Notification]:
        """Invites not yet accepted, withdrawn or expired, newest first."""
        oldest = self._clock() - timedelta(seconds=self._max_age)
        with self._uow() as uow:
            entries = uow.workspace(workspace_id).notifications.all()
        return sorted(
            (n for n in entries if n.kind == PENDING and n.created_at and n.created_at > oldest),
            key=lambda n: n.id or 0,
            reverse=True,
        )

    def withdraw(self, workspace_id: int, invite_id: int) -> Notification:
        with self._uow() as uow:
            entry = _log_entry(uow.workspace(workspace_id), invite_id)
            if entry is None or entry.kind != PENDING:
                raise NotFound("invite", invite_id)
            entry.kind = WITHDRAWN
            uow.commit()
        return entry

    # -- the invitee's side --------------------------------------------------------

    def read(self, token: str) -> Invite:
        """The invite a link stands for; InviteError says plainly why it cannot be used."""
        try:
            payload: Any = self._tokens.loads(token, max_age=self._max_age)
        except SignatureExpired:
            raise InviteError(
                "expired",
                f"This invite link has expired (links work for {INVITE_DAYS} days). "
                "Ask an admin of the workspace to invite you again.",
            ) from None
        except BadSignature:
            raise _invalid() from None
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("w"), int)
            and isinstance(payload.get("i"), int)
            and isinstance(payload.get("e"), str)
            and payload.get("r") in (Role.ADMIN.value, Role.STAFF.value)
        ):
            raise _invalid()
        with self._uow() as uow:
            repo = uow.workspace(payload["w"])
            try:
                workspace = repo.workspace()
            except NotFound:
                raise _invalid() from None
            entry = _log_entry(repo, payload["i"])
            if entry is None or entry.recipient != payload["e"]:
                raise _invalid()
            if entry.kind == ACCEPTED or repo.team.by_email(payload["e"]) is not None:
                raise InviteError(
                    "accepted",
                    "This invite was already accepted. Sign in with your email and password.",
                )
            if entry.kind == WITHDRAWN:
                raise InviteError(
                    "withdrawn",
                    "This invite was withdrawn or replaced by a newer one. "
                    "Use the latest invite email, or ask an admin for a new link.",
                )
            if entry.kind != PENDING:
                raise _invalid()
        return Invite(payload["w"], workspace.name, payload["e"], payload["r"], payload["i"])

    def accept(self, token: str, name: str, password: str) -> TeamMember:
        """Create the member (password rules apply); the link cannot be used again."""
        invite = self.read(token)
        name = validation.name(name, "name", 120, required=True)
        try:
            member = self._workspaces.add_member(
                invite.workspace_id, NewMember(name, invite.email, password, invite.role)
            )
        except Conflict:  # accepted a moment ago in another tab: the unique email decides
            raise InviteError("accepted", "This invite was already accepted.") from None
        with self._uow() as uow:
            entry = _log_entry(uow.workspace(invite.workspace_id), invite.invite_id)
            if entry is not None:
                entry.kind = ACCEPTED
                uow.commit()
        return member

"""Team notifications (new lead, handoff): always logged, emailed when email is set up.

Each member chooses how they hear about them (``TeamMember.notify``): ``instant`` gets
an email at once, ``digest`` one email each morning summing up the previous day (new
leads, handoffs and new conversations, in the workspace's time zone), ``off`` no email.
Live notifications in the inbox do not depend on this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from agent.core.events import Event, LeadCaptured
from agent.core.models import Conversation, Notification, NotificationStatus, Workspace
from agent.core.ports import Clock, UnitOfWorkFactory, WorkspaceScope

log = logging.getLogger(__name__)
DIGEST_HOUR = 7  # local time from which the digest of the day before goes out
DIGEST_KINDS = {"new_lead": ("New leads", "new lead"), "handoff": ("Handoffs", "handoff")}
DIGEST_LIST_LIMIT = 50  # items per section; the rest are counted


class EmailSender(Protocol):
    def send(self, to: Sequence[str], subject: str, body: str) -> None: ...


class NotificationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, sender: EmailSender | None) -> None:
        self._uow = uow
        self._clock = clock
        self._sender = sender

    def lead_captured(self, event: Event) -> Notification:
        assert isinstance(event, LeadCaptured)
        with self._uow() as uow:
            repo = uow.workspace(event.workspace_id)
            contact = repo.contacts.get(event.contact_id)
            workspace = repo.workspace()
        reach = ", ".join(x for x in (contact.phone, contact.email) if x)
        return self.notify(
            event.workspace_id,
            "new_lead",
            f"New lead: {contact.display_name}",
            f"{contact.display_name} ({reach}) left their details with the {workspace.name} "
            f"receptionist. Open conversation #{event.conversation_id} in the inbox to follow up.",
            conversation_id=event.conversation_id,
            contact_id=contact.id,
        )

    def handoff(self, workspace_id: int, conversation_id: int, reason: str) -> Notification:
        return self.notify(
            workspace_id,
            "handoff",
            "A visitor is waiting for a person",
            f"The AI receptionist handed conversation #{conversation_id} to the team"
            + (f": {reason}" if reason else "."),
            conversation_id=conversation_id,
        )

    def notify(
        self,
        workspace_id: int,
        kind: str,
        subject: str,
        body: str,
        *,
        conversation_id: int | None = None,
        contact_id: int | None = None,
    ) -> Notification:
        """Log one notification to the team, then email the members who want it."""
        return self.email(
            workspace_id,
            kind,
            subject,
            body,
            None,
            conversation_id=conversation_id,
            contact_id=contact_id,
        )

    def email(
        self,
        workspace_id: int,
        kind: str,
        subject: str,
        body: str,
        to: list[str] | None,
        *,
        conversation_id: int | None = None,
        contact_id: int | None = None,
    ) -> Notification:
        """Log one email and send it: to ``to``, or (None) to the members who want instant
        notifications. Its status says whether it went."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            recipients = (
                list(to)
                if to is not None
                else [m.email for m in repo.team.all() if m.notify == "instant"]  # not digest
            )
            notification = Notification(
                workspace_id=workspace_id,
                kind=kind,
                recipient=", ".join(recipients),
                subject=subject,
                body=body,
                conversation_id=conversation_id,
                contact_id=contact_id,
                created_at=self._clock(),
            )
            if self._sender is None or not recipients:
                notification.error = (
                    "email is not configured" if self._sender is None else "no recipients"
                )
            repo.add(notification)
            uow.commit()
        if self._sender is not None and recipients:
            self._deliver(notification, recipients)
        return notification

    def _deliver(self, notification: Notification, recipients: list[str]) -> None:
        try:
            self._sender.send(recipients, notification.subject, notification.body)
            status, error = NotificationStatus.SENT, ""
        except Exception as exc:  # a mail server being down must not break the conversation
            log.warning("could not email notification %s: %s", notification.id, exc)
            status, error = NotificationStatus.FAILED, f"{type(exc).__name__}: {exc}"
        with self._uow() as uow:
            stored = next(
                n
                for n in uow.workspace(notification.workspace_id).notifications.all()
                if n.id == notification.id
            )
            stored.status, stored.error = status, error
            stored.sent_at = self._clock() if status == NotificationStatus.SENT else None
            uow.commit()
        notification.status, notification.error = status, error

    # -- the daily digest ------------------------------------------------------------

    def send_digests(self, now: datetime | None = None) -> int:
        """Email each ``digest`` member yesterday's summary, once per day; returns how many.

        Called every few minutes by the scheduler: nothing goes out before DIGEST_HOUR in
        the workspace's time zone, a member already sent today's digest is skipped, and a
        failed one is retried on the next call. A day with nothing to report sends nothing.
        """
        if self._sender is None:
            return 0
        now = now or self._clock()
        with self._uow() as uow:
            workspace_ids = [w.id for w in uow.workspaces()]
        sent = 0
        for workspace_id in workspace_ids:
            try:
                sent += self._send_digest(workspace_id, now)
            except Exception:  # one workspace's bad data must not stop the others' digests
                log.exception("could not send the digests of workspace %s", workspace_id)
        return sent

    def _send_digest(self, workspace_id: int, now: datetime) -> int:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            workspace = repo.workspace()
            tz = ZoneInfo(workspace.timezone)
            today = now.astimezone(tz).date()
            members = [m for m in repo.team.all() if m.notify == "digest"]
            if now.astimezone(tz).hour < DIGEST_HOUR or not members:
                return 0
            log_entries = repo.notifications.all()
            todays = {
                n.recipient: n
                for n in log_entries
                if n.kind == "digest"
                and n.created_at
                and n.created_at.astimezone(tz).date() == today
            }
            sent = NotificationStatus.SENT
            due = [m for m in members if getattr(todays.get(m.email), "status", "") != sent]
            if not due:
                return 0
            subject, body = _digest(repo, workspace, log_entries, today - timedelta(days=1), tz)
            if not body:
                return 0
            entries = []
            for member in due:
                entry = todays.get(member.email)
                if entry is None:
                    entry = Notification(
                        workspace_id=workspace_id,
                        kind="digest",
                        recipient=member.email,
                        created_at=now,
                    )
                    repo.add(entry)
                entry.subject, entry.body = subject, body
                entries.append(entry)
            uow.commit()
        for entry in entries:
            self._deliver(entry, [entry.recipient])
        return sum(entry.status == NotificationStatus.SENT for entry in entries)


def _digest(
    repo: WorkspaceScope,
    workspace: Workspace,
    log_entries: Sequence[Notification],
    day: date,
    tz: ZoneInfo,
) -> tuple[str, str]:
    """The subject and text of one day's digest; an empty text when nothing happened."""
    start = datetime.combine(day, time(), tz)
    end = start + timedelta(days=1)

    def during(moment: datetime | None) -> bool:
        return moment is not None and start <= moment < end

    def at(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%H:%M") if moment else "--:--"

    sections: list[tuple[str, str, int, list[str]]] = []  # title, noun, count, lines shown
    for kind, (title, noun) in DIGEST_KINDS.items():
        found = [n for n in log_entries if n.kind == kind and during(n.created_at)]
        lines = [f"{at(n.created_at)}  {n.subject}\n  {n.body}" for n in found]
        sections.append((title, noun, len(found), lines[:DIGEST_LIST_LIMIT]))
    # Latest activity first, so the day's new ones are among the first; admins' try-it
    # chats are left out, as in the inbox.
    started = sorted(
        (c for c in repo.conversations.search(limit=1000) if during(c.created_at)),
        key=lambda c: c.id or 0,
    )
    lines = [_started(repo, c, at) for c in started[:DIGEST_LIST_LIMIT]]
    sections.append(("New conversations", "new conversation", len(started), lines))
    if not any(count for _, _, count, _ in sections):
        return "", ""
    label = f"{day:%A} {day.day} {day:%B %Y}"
    counts = ", ".join(
        f"{count} {noun}{'' if count == 1 else 's'}" for _, noun, count, _ in sections if count
    )
    parts = [f"What happened at {workspace.name} on {label} ({workspace.timezone} time):"]
    for title, _, count, lines in sections:
        if count:
            more = [f"...and {count - len(lines)} more"] if count > len(lines) else []
            parts.append(f"{title} ({count})\n" + "\n".join([*(f"- {x}" for x in lines), *more]))
    parts.append("You get this summary because your email notifications are set to daily digest.")
    return f"{workspace.name} daily digest for {label}: {counts}", "\n\n".join(parts)


def _started(
    repo: WorkspaceScope, conversation: Conversation, at: Callable[[datetime | None], str]
) -> str:
    contact = repo.contacts.get(conversation.contact_id)
    return f"{at(conversation.created_at)}  #{conversation.id} {contact.display_name} " + (
        f"({conversation.channel})"
    )

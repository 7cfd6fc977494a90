"""Team notifications (new lead, handoff): always logged, emailed when email is set up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from agent.core.events import Event, LeadCaptured
from agent.core.models import Notification, NotificationStatus
from agent.core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


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
            contact = repo.contact(event.contact_id)
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
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            recipients = [m.email for m in repo.members() if m.notify == "instant"]
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
                for n in uow.workspace(notification.workspace_id).notifications()
                if n.id == notification.id
            )
            stored.status, stored.error = status, error
            stored.sent_at = self._clock() if status == NotificationStatus.SENT else None
            uow.commit()
        notification.status, notification.error = status, error

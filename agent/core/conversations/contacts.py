"""Who a conversation is with: finding or creating its contact, and recording what a
visitor tells us without ever creating a duplicate."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agent.core.contacts import ContactDetails, merge
from agent.core.conversations.base import ServiceBase
from agent.core.events import Event, LeadCaptured
from agent.core.models import Contact, ConversationStatus
from agent.core.ports import WorkspaceScope


class ContactsMixin(ServiceBase):
    @staticmethod
    def _find_or_create_contact(
        repo: WorkspaceScope, details: ContactDetails, channel: str, now: Any
    ) -> Contact:
        contact = None
        if details.email or details.phone:
            contact = repo.contacts.find(email=details.email, phone=details.phone)
        if contact is None:
            contact = Contact(
                workspace_id=repo.workspace_id, source_channel=channel, created_at=now
            )
            repo.add(contact)
        merge(contact, details)
        contact.updated_at = now
        repo.flush()
        return contact

    def record_contact(
        self, workspace_id: int, conversation_id: int, details: ContactDetails
    ) -> tuple[Contact, bool]:
        """Merge what a visitor told us into their contact; never create a duplicate.

        Returns the contact and whether this made the conversation a new lead (the first
        time it has both a name and a way to reach the person).
        """
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            details = details.normalised(repo.workspace().country)
            contact = repo.contacts.get(conversation.contact_id)
            known = repo.contacts.find(email=details.email, phone=details.phone)
            if known is not None and known.id != contact.id:
                # The visitor is someone we already know: attach the conversation to them.
                for name in ("first_name", "last_name", "email", "phone", "address"):
                    if not getattr(details, name) and getattr(contact, name):
                        details = replace(details, **{name: getattr(contact, name)})
                conversation.contact_id = known.id
                contact = known
            merge(contact, details)
            now = self._clock()
            contact.updated_at = now
            new_lead = (
                contact.is_lead
                and conversation.lead_notified_at is None
                and conversation.status != ConversationStatus.SPAM  # spam never notifies
            )
            if new_lead:
                conversation.lead_notified_at = now
            uow.commit()
        events: list[Event] = [self._updated(conversation, contact_id=contact.id)]
        if new_lead:
            events.append(LeadCaptured(workspace_id, conversation_id, contact.id))
        self._publish(events)
        return contact, new_lead

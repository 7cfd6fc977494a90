"""Phone calls in the inbox: the call itself, the AI's spoken words, and the text back.

A call is a message of the caller's phone conversation (its provider id the call's id,
its details under ``meta["call"]``: status, duration, recording, transcript, summary,
updated as the provider reports them). The AI's spoken answers are stored as sent (they
were said, not delivered). A text after a call starts or continues the caller's SMS
conversation, answered by the AI from there when SMS auto-reply is on.
"""

from __future__ import annotations

from typing import Any

from agent.core import validation
from agent.core.contacts import ContactDetails
from agent.core.conversations.base import ServiceBase
from agent.core.conversations.contacts import ContactsMixin
from agent.core.models import (
    AuthorKind,
    Channel,
    Conversation,
    DeliveryStatus,
    Message,
    Mode,
)
from agent.core.send_rules import sms_refusal, window_for

CALL = "call"  # meta key of a call message


class CallsMixin(ContactsMixin, ServiceBase):
    def record_spoken(
        self,
        workspace_id: int,
        conversation_id: int,
        body: str,
        *,
        in_reply_to: int | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        """What the AI said on a call: stored as sent, never handed to a sender."""
        body = validation.as_text(body, "body").strip() or "…"
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            message = self._outbound(repo, conversation, body, AuthorKind.AI, meta=meta)
            message.reply_to_id = in_reply_to
            message.delivery_status = DeliveryStatus.SENT
            uow.commit()
        self._publish([self._created(message)])
        return message

    def update_call(
        self, workspace_id: int, call_id: str, values: dict[str, Any]
    ) -> Message | None:
        """Merge what the provider reported into the call's details (shown live)."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            found = repo.messages.by_provider_id(Channel.PHONE, call_id)
            if found is None:
                return None
            message = repo.messages.get(found.id, for_update=True)
            meta = dict(message.meta or {})
            meta[CALL] = {**dict(meta.get(CALL) or {}), **validation.clean_data(values)}
            message.meta = meta
            uow.commit()
        self._redrawn(message)
        return message

    def call_note(self, workspace_id: int, conversation_id: int, text: str) -> None:
        """An activity line in the caller's conversation (a summary, a missed call)."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id)
            event = self._activity(repo, conversation, text)
            uow.commit()
        self._publish([event])

    def text_back(self, workspace_id: int, phone: str, body: str) -> tuple[Message | None, str]:
        """A text to a caller, in their SMS conversation (started if need be, in AI mode so
        the receptionist carries on): the message, or None and why it cannot go."""
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.by_thread(Channel.SMS, phone)
            if conversation is None:
                country = repo.workspace().country
                details = ContactDetails(phone=phone).normalised(country)
                contact = self._find_or_create_contact(repo, details, Channel.SMS, now)
                conversation = Conversation(
                    workspace_id=workspace_id,
                    contact_id=contact.id,
                    channel=Channel.SMS,
                    provider_thread_id=phone,
                    mode=Mode.AI,
                    created_at=now,
                    updated_at=now,
                )
                repo.add(conversation)
                repo.flush()
                created = True
            else:
                created = False
            window = window_for(repo, conversation, now)
            refusal = window.reason if not window.staff else sms_refusal(repo, phone, body, now)
            if refusal:
                return None, refusal
            message = self._outbound(repo, conversation, body, AuthorKind.AI)
            uow.commit()
        events = [self._updated(conversation, created=True)] if created else []
        self._publish([*events, self._created(message)])
        self._send(message)
        return message, ""

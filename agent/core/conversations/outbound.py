"""Sending: a staff reply (which takes the conversation over), a conversation staff start
themselves, and the AI's answer (dropped if a human took over while it was thinking)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from agent.core import validation
from agent.core.channel_accounts import DEFAULT_TIER, TIER
from agent.core.channel_policy import TEMPLATE, ReplyWindow, check_length, rules
from agent.core.contacts import ContactDetails
from agent.core.conversations.base import _channel
from agent.core.conversations.contacts import ContactsMixin
from agent.core.conversations.handover import HandoverMixin
from agent.core.errors import Conflict, ValidationError
from agent.core.events import Event
from agent.core.models import (
    AuthorKind,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Message,
    Mode,
    WhatsAppTemplate,
)
from agent.core.ports import WorkspaceScope
from agent.core.sms import brief
from agent.core.whatsapp_templates import check_values, render, require_approved


def _thread(channel: str, contact: Contact) -> str | None:
    """The thread id the provider will give the customer's answer (how inbound finds it):
    their number on SMS, the number without its + on WhatsApp."""
    if channel == Channel.SMS:
        return contact.phone or None
    if channel == Channel.WHATSAPP:
        return contact.phone.lstrip("+") or None
    return None


# Which contact detail addresses a person on a channel we start from the inbox.
_OUTBOUND_ADDRESS = {
    Channel.EMAIL: "email",
    Channel.SMS: "phone",
    Channel.WHATSAPP: "phone",
}


class OutboundMixin(HandoverMixin, ContactsMixin):
    # -- staff actions ---------------------------------------------------------

    def reply(self, workspace_id: int, conversation_id: int, member_id: int, body: str) -> Message:
        """A staff message; replying takes the conversation over from the AI."""
        body = validation.message_body(body, self._limits.max_message_chars)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            check_length(conversation.channel, body)
            window = self._window(repo, conversation)
            if not window.staff:
                raise Conflict(window.reason)
            self._sms_check(repo, conversation, body)
            events = []
            if conversation.status == ConversationStatus.CLOSED:
                events += self._set_status(repo, conversation, ConversationStatus.OPEN, member.name)
            if conversation.mode == Mode.AI or conversation.assignee_id is None:
                events += self._take_over(repo, conversation, member.id, member.name)
            message = self._outbound(
                repo, conversation, body, AuthorKind.STAFF, member_id=member.id
            )
            uow.commit()
        self._publish([*events, self._created(message)])
        self._send(message)
        return message

    def send_template(
        self,
        workspace_id: int,
        conversation_id: int,
        member_id: int,
        template_id: int,
        values: Sequence[str],
    ) -> Message:
        """A WhatsApp template, filled in: what staff may send outside the 24-hour window.
        Outside it, it opens a business-initiated conversation, counted against the
        account's cap (refused at the cap, before anything is sent)."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            if conversation.channel != Channel.WHATSAPP:
                raise ValidationError("channel", "templates are for WhatsApp conversations")
            template = repo.whatsapp_templates.get(template_id)
            business_initiated = not self._window(repo, conversation).staff
            meta = self._template_meta(repo, conversation, template, values, business_initiated)
            events = []
            if conversation.status == ConversationStatus.CLOSED:
                events += self._set_status(repo, conversation, ConversationStatus.OPEN, member.name)
            if conversation.mode == Mode.AI or conversation.assignee_id is None:
                events += self._take_over(repo, conversation, member.id, member.name)
            body = render(template, values)
            message = self._outbound(
                repo, conversation, body, AuthorKind.STAFF, member_id=member.id, meta=meta
            )
            uow.commit()
        self._publish([*events, self._created(message)])
        self._send(message)
        return message

    def _template_meta(
        self,
        repo: WorkspaceScope,
        conversation: Conversation,
        template: WhatsAppTemplate,
        values: Sequence[str],
        business_initiated: bool,
    ) -> dict[str, Any]:
        require_approved(template)
        filled = check_values(template, values)
        if business_initiated:
            self._check_cap(repo, conversation.id)
        found = {"id": template.id, "name": template.name, "language": template.language}
        found |= {"params": filled, "business_initiated": business_initiated}
        return {TEMPLATE: found}

    def _check_cap(self, repo: WorkspaceScope, conversation_id: int | None) -> None:
        """WhatsApp's limit on business-initiated conversations per moving 24 hours."""
        account = repo.channel_accounts.for_channel(Channel.WHATSAPP)
        tier = int((account.settings if account else {}).get(TIER) or DEFAULT_TIER)
        now = self._clock()
        started: dict[int, datetime] = {}
        for sent in repo.messages.outbound_since(Channel.WHATSAPP, now - timedelta(hours=24)):
            template = (sent.meta or {}).get(TEMPLATE)
            if isinstance(template, dict) and template.get("business_initiated"):
                started.setdefault(sent.conversation_id, sent.created_at or now)
        if conversation_id in started or len(started) < tier:
            return
        frees = min(started.values()) + timedelta(hours=24)
        raise Conflict(
            f"WhatsApp's limit of {tier:,} business-initiated conversations in 24 hours is "
            f"reached; the next one frees up at {frees:%H:%M} UTC on {frees:%b %d}."
        )

    def start_conversation(
        self,
        workspace_id: int,
        member_id: int,
        channel: str,
        body: str,
        *,
        contact_id: int | None = None,
        new_contact: ContactDetails | None = None,
        template_id: int | None = None,
        values: Sequence[str] = (),
    ) -> Conversation:
        """Staff reach out first, to an existing contact or a new one (on WhatsApp, with
        an approved template: ``template_id`` and its ``values``; ``body`` is ignored)."""
        channel = _channel(channel)
        if channel == Channel.WHATSAPP:
            if template_id is None:
                raise ValidationError(
                    "template", "a WhatsApp conversation can only start with an approved template"
                )
            body = "(template)"
        body = validation.message_body(body, self._limits.max_message_chars)
        check_length(channel, body)
        address_field = _OUTBOUND_ADDRESS.get(Channel(channel))
        if address_field is None:
            raise ValidationError(
                "channel", f"{channel} conversations can only be started by the customer"
            )
        if (contact_id is None) == (new_contact is None):
            raise ValidationError("contact", "choose an existing contact or enter a new one")
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            if contact_id is not None:
                contact = repo.contacts.get(contact_id)
            else:
                details = new_contact.normalised(repo.workspace().country)
                contact = self._find_or_create_contact(repo, details, channel, now)
            address = getattr(contact, address_field)
            if not address:
                raise ValidationError(
                    address_field, f"{contact.display_name} has no {address_field} for {channel}"
                )
            # The customer's answer must find this conversation: SMS and WhatsApp threads
            # are their number (WhatsApp's without the +); an open thread is reused.
            thread = _thread(channel, contact)
            conversation = repo.conversations.by_thread(channel, thread) if thread else None
            events: list[Event] = []
            if conversation is None:
                conversation = Conversation(
                    workspace_id=workspace_id,
                    contact_id=contact.id,
                    channel=channel,
                    provider_thread_id=thread,
                    mode=Mode.HUMAN,
                    assignee_id=member.id,
                    created_at=now,
                    updated_at=now,
                )
                repo.add(conversation)
                repo.flush()
                events.append(self._updated(conversation, created=True))
            else:
                if conversation.status == ConversationStatus.CLOSED:
                    events += self._set_status(
                        repo, conversation, ConversationStatus.OPEN, member.name
                    )
                if conversation.mode == Mode.AI or conversation.assignee_id is None:
                    events += self._take_over(repo, conversation, member.id, member.name)
            window = self._window(repo, conversation)
            meta: dict[str, Any] = {}
            if template_id is not None:
                template = repo.whatsapp_templates.get(template_id)
                meta = self._template_meta(
                    repo, conversation, template, values, business_initiated=not window.staff
                )
                body = render(template, values)
            elif not window.staff:
                raise Conflict(window.reason)
            self._sms_check(repo, conversation, body)
            message = self._outbound(
                repo, conversation, body, AuthorKind.STAFF, member_id=member.id, meta=meta
            )
            uow.commit()
        self._publish([*events, self._created(message)])
        self._send(message)
        return conversation

    # -- the AI's side ---------------------------------------------------------

    def post_ai_reply(
        self,
        workspace_id: int,
        conversation_id: int,
        body: str,
        *,
        in_reply_to: int | None = None,
        meta: dict[str, Any] | None = None,
        after_handoff: bool = False,
    ) -> Message | None:
        """Store the AI's answer, unless a human took over while it was thinking, or the
        channel's AI auto-reply is off.

        ``after_handoff``: the AI itself just handed over, and this reply tells the visitor
        so; it is the one message allowed once the conversation is in human mode.
        """
        body = validation.as_text(body, "body").strip()
        if not body:
            raise ValidationError("body", "the AI produced an empty reply")
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            human = conversation.mode != Mode.AI and not after_handoff
            if human or conversation.status != ConversationStatus.OPEN:
                return None
            if not self._auto_reply(repo, conversation.channel):
                return None  # the channel waits for staff
            if in_reply_to is not None and repo.messages.reply_to(in_reply_to) is not None:
                # Another turn answered it meanwhile (its lock lost to a Redis restart or an
                # expiry): checked under the conversation's row lock, so one reply is stored.
                return None
            window = self._window(repo, conversation)
            if window.ai:
                if conversation.channel == Channel.SMS:  # a segment or two when it can
                    body = brief(body)
                message = self._outbound(repo, conversation, body, AuthorKind.AI, meta=meta)
                message.reply_to_id = in_reply_to
                uow.commit()
        if not window.ai:  # too late for the AI by the provider's rules: a person answers
            self.hand_off(workspace_id, conversation_id, f"too late for the AI. {window.reason}")
            return None
        self._publish([self._created(message)])
        self._send(message)
        return message

    def reply_window(self, workspace_id: int, conversation_id: int) -> ReplyWindow:
        """Who may reply on the conversation now (the composer shows it)."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            return self._window(repo, repo.conversations.get(conversation_id))

    def record_external(
        self,
        workspace_id: int,
        conversation_id: int,
        body: str,
        provider_message_id: str,
        meta: dict[str, Any] | None = None,
    ) -> Message | None:
        """A message the business sent from the provider's own app (Meta's echoes): stored
        as a staff message already sent (never delivered again), and since a person is
        answering there, the AI stops. Idempotent on the provider id; None when known."""
        body = validation.message_body(body, self._limits.max_message_chars)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            if repo.messages.by_provider_id(conversation.channel, provider_message_id):
                return None
            events: list[Event] = []
            if conversation.mode == Mode.AI:
                conversation.mode = Mode.HUMAN
                label = rules(conversation.channel).label
                events += [
                    self._updated(conversation, mode="human"),
                    self._activity(
                        repo,
                        conversation,
                        f"A person replied from the {label} app; the AI stops answering",
                    ),
                ]
            message = self._outbound(repo, conversation, body, AuthorKind.STAFF, meta=meta)
            message.provider_message_id = provider_message_id
            message.delivery_status = DeliveryStatus.SENT
            uow.commit()
        self._publish([*events, self._created(message)])
        return message

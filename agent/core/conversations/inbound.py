"""Receiving: a visitor's message is stored first, idempotently, then routed to the AI.

Inbound messages are idempotent on the provider's message id, so a retried webhook never
duplicates; a message reaches the AI only while its conversation is open and in AI mode,
and a new inbound message reopens a closed conversation (and gives it back to the AI).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from agent.core import validation
from agent.core.channel_policy import message_blocks_ai
from agent.core.contacts import ContactDetails
from agent.core.conversations.away import AwayMixin, away_message_of
from agent.core.conversations.base import _channel
from agent.core.conversations.contacts import ContactsMixin
from agent.core.conversations.screening import SPAM_META, screen
from agent.core.errors import Conflict, ValidationError
from agent.core.events import Event, MessageCreated
from agent.core.models import (
    AuthorKind,
    Channel,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
    Mode,
    SmsOptOut,
)
from agent.core.ports import WorkspaceScope
from agent.core.spam import is_bulk_sms_sender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """One message from a visitor or customer, in the shape every channel produces."""

    channel: str
    body: str
    thread_id: str | None = None  # the provider's handle for the thread (visitor id, sender...)
    provider_message_id: str | None = None
    conversation_id: int | None = None  # when the channel already knows it
    sender: ContactDetails = field(default_factory=ContactDetails)
    meta: dict[str, Any] = field(default_factory=dict)


REACTIONS = "reactions"  # meta: {who: emoji}, the customers' reactions to a message
_PROVIDER_ID_CHARS = 255  # what the thread and message id columns hold


def _provider_id(value: object, field: str) -> str | None:
    text = validation.as_text(value, field)
    if len(text) > _PROVIDER_ID_CHARS:
        raise ValidationError(field, f"is longer than {_PROVIDER_ID_CHARS} characters")
    return text or None


def _valid(inbound: Inbound) -> Inbound:
    """A copy whose ids and meta hold only valid text (the body and sender are checked
    by their own rules); refuses what cannot be stored, naming the field."""
    conversation_id = inbound.conversation_id
    if conversation_id is not None and (
        not isinstance(conversation_id, int) or isinstance(conversation_id, bool)
    ):
        raise ValidationError("conversation_id", "must be a number")
    if not isinstance(inbound.sender, ContactDetails):
        raise ValidationError("sender", "must be contact details")
    if not isinstance(inbound.meta, Mapping):
        raise ValidationError("meta", "must be a mapping")
    return replace(
        inbound,
        thread_id=_provider_id(inbound.thread_id, "thread_id"),
        provider_message_id=_provider_id(inbound.provider_message_id, "provider_message_id"),
        meta=validation.clean_data(dict(inbound.meta)),
    )


def _address_or_nothing(value: object) -> str:
    """The sender's email as the block rules store it; "" for anything that is no valid
    address, so hostile input (NUL bytes, lone surrogates) never reaches a query."""
    try:
        return validation.email(value) if value else ""  # type: ignore[arg-type]
    except ValidationError:
        return ""


@dataclass(frozen=True)
class Received:
    message: Message
    conversation: Conversation
    duplicate: bool
    routed_to_ai: bool
    away_message_set: bool = False  # the channel has an away message (maybe due now)
    awaiting_ai: bool = False  # queued for the AI: its reply is still to come


class InboundMixin(ContactsMixin, AwayMixin):
    # -- inbound ---------------------------------------------------------------

    def receive(self, workspace_id: int, inbound: Inbound, *, expect_new: bool = False) -> Received:
        """Stores the message once, whatever the deliveries. ``expect_new``: the caller's
        ids are fresh (the widget's client ids), so the first try inserts without looking
        for the provider id first; the database's unique key catches a resend, and the
        second try finds it."""
        channel = _channel(inbound.channel)
        body = validation.message_body(inbound.body, self._limits.max_message_chars)
        inbound = _valid(inbound)  # whatever the adapter: only valid text is stored
        try:
            received, events = self._store_inbound(
                workspace_id, channel, body, inbound, look_first=not expect_new
            )
        except Conflict:
            # A concurrent delivery of the same provider message won the race (or, with
            # ``expect_new``, the message was stored before).
            received, events = self._store_inbound(workspace_id, channel, body, inbound)
        self._publish(events)
        # Before the AI's turn, so it reads first; never to spam (held messages say False).
        if received.away_message_set:
            try:
                self.send_away_message(workspace_id, received.message.id)
            except Exception:  # the message is stored and the AI still answers
                log.exception("could not send the away message after %s", received.message.id)
        if received.routed_to_ai and self._dispatch(received):
            received = replace(received, awaiting_ai=True)
        return received

    def _store_inbound(
        self,
        workspace_id: int,
        channel: str,
        body: str,
        inbound: Inbound,
        *,
        look_first: bool = True,
    ) -> tuple[Received, list[Event]]:
        now = self._clock()
        rules = self._sender_rules.get(workspace_id)  # before the writer's transaction
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            if inbound.provider_message_id and look_first:
                existing = repo.messages.by_provider_id(channel, inbound.provider_message_id)
                if existing is not None:
                    conversation = repo.conversations.get(existing.conversation_id)
                    routed = self._awaits_ai(repo, conversation, existing)
                    return Received(existing, conversation, True, routed), []

            sender_phone = inbound.sender.phone if isinstance(inbound.sender.phone, str) else ""
            if channel == Channel.SMS and is_bulk_sms_sender(sender_phone):
                # A short code is no phone number: the thread id keeps it.
                inbound = replace(inbound, sender=replace(inbound.sender, phone=""))
            conversation, events = self._conversation_for(repo, channel, inbound, now)
            verdict = screen(
                repo,
                rules,
                conversation,
                repo.contacts.get(conversation.contact_id),
                body,
                sender_email=_address_or_nothing(inbound.sender.email),
                sender_phone=sender_phone,
            )
            held = verdict is not None or conversation.status == ConversationStatus.SPAM
            if verdict is not None and conversation.status != ConversationStatus.SPAM:
                conversation.status = ConversationStatus.SPAM
                conversation.spam_reason = verdict.reason
            elif conversation.status == ConversationStatus.CLOSED:
                conversation.status = ConversationStatus.OPEN
                conversation.closed_at = None
                conversation.mode = Mode.AI
                events.append(self._updated(conversation, status="open", mode="ai"))
            message = Message(
                workspace_id=workspace_id,
                conversation_id=conversation.id,
                direction=Direction.INBOUND,
                author_kind=AuthorKind.CONTACT,
                body=body,
                channel=channel,
                provider_message_id=inbound.provider_message_id,
                delivery_status=DeliveryStatus.RECEIVED,
                meta={**inbound.meta, **({SPAM_META: verdict.reason} if verdict else {})},
                created_at=now,
            )
            repo.messages.insert(message)
            repo.conversations.touch(conversation, now)
            auto_reply = self._auto_reply(repo, channel) and not message_blocks_ai(message.meta)
            away_message_set = bool(away_message_of(repo, channel))
            uow.commit()
        if held:  # stored, and nobody is told: the Spam view shows it
            return Received(message, conversation, False, False), []
        events.append(
            MessageCreated(workspace_id, conversation.id, message.id, AuthorKind.CONTACT.value)
        )
        routed = (
            conversation.status == ConversationStatus.OPEN
            and conversation.mode == Mode.AI
            and auto_reply
        )
        return Received(message, conversation, False, routed, away_message_set), events

    def _conversation_for(
        self, repo: WorkspaceScope, channel: str, inbound: Inbound, now: Any
    ) -> tuple[Conversation, list[Event]]:
        if inbound.conversation_id is not None:
            return repo.conversations.get(inbound.conversation_id, for_update=True), []
        if inbound.thread_id:
            found = repo.conversations.by_thread(channel, inbound.thread_id, preload=True)
            if found is not None:
                return found, []
        country = repo.workspace().country
        details = inbound.sender.normalised(country)
        contact = self._find_or_create_contact(repo, details, channel, now)
        conversation = Conversation(
            workspace_id=repo.workspace_id,
            contact_id=contact.id,
            channel=channel,
            provider_thread_id=inbound.thread_id,
            created_at=now,
            updated_at=now,
        )
        repo.add(conversation)
        repo.flush()
        events: list[Event] = [self._updated(conversation, created=True)]
        welcome = str(repo.workspace().widget.get("initial_message") or "").strip()
        if channel == Channel.WEBCHAT and welcome:
            # The welcome the widget showed is the first message of the transcript.
            message = self._outbound(
                repo, conversation, welcome, AuthorKind.AI, meta={"welcome": True}
            )
            message.delivery_status = DeliveryStatus.SENT
            events.append(self._created(message))
        return conversation, events

    def _awaits_ai(
        self, repo: WorkspaceScope, conversation: Conversation, message: Message
    ) -> bool:
        """A redelivered message is routed again only if the AI never answered it."""
        return (
            conversation.status == ConversationStatus.OPEN
            and conversation.mode == Mode.AI
            and self._auto_reply(repo, conversation.channel)
            and not message_blocks_ai(message.meta)
            and repo.messages.reply_to(message.id) is None
        )

    def react(
        self, workspace_id: int, channel: str, provider_message_id: str, who: str, emoji: str
    ) -> Message | None:
        """A customer reacted to a message (WhatsApp): shown on it, one reaction per person
        (an empty emoji takes theirs away). None when the message is not known here."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            found = repo.messages.by_provider_id(channel, provider_message_id)
            if found is None:
                return None
            message = repo.messages.get(found.id, for_update=True)
            reactions = dict((message.meta or {}).get(REACTIONS) or {})
            if emoji:
                reactions[who[:64]] = emoji[:16]
            else:
                reactions.pop(who[:64], None)
            message.meta = {**(message.meta or {}), REACTIONS: reactions}
            uow.commit()
        self._redrawn(message)
        return message

    def sms_opt_out(self, workspace_id: int, phone: str, word: str) -> None:
        """STOP records that the number may not be texted; START lifts it (idempotent)."""
        if word not in ("stop", "start") or not phone:
            return
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            found = repo.sms_opt_outs.get(phone)
            if word == "stop" and found is None:
                repo.add(
                    SmsOptOut(workspace_id=workspace_id, phone=phone, created_at=self._clock())
                )
            elif word == "start" and found is not None:
                repo.delete(found)
            uow.commit()

    def _dispatch(self, received: Received) -> bool:
        """Whether the AI's reply is still to come (queued, not answered inline)."""
        if self._dispatcher is None:
            log.debug("no AI receptionist configured; message %s waits", received.message.id)
            return False
        self._dispatcher.dispatch(
            received.conversation.workspace_id, received.conversation.id, received.message.id
        )
        return not self._dispatcher.replies_inline

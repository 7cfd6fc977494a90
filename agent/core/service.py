"""The conversation service: the one entry point channels, the inbox and the agent call.

Rules it owns:
- inbound messages are persisted before anything else and are idempotent on the
  provider's message id, so a retried webhook never duplicates;
- a visitor message reaches the AI only while the conversation is open and in AI mode;
  a new inbound message reopens a closed conversation (and gives it back to the AI);
- staff take over, reply (which implies taking over), hand back, close and reopen;
- domain events are published after the transaction commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from agent.core import validation
from agent.core.contacts import ContactDetails, merge
from agent.core.errors import Conflict, ValidationError
from agent.core.events import ConversationUpdated, Event, EventBus, LeadCaptured, MessageCreated
from agent.core.models import (
    AuthorKind,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
    Mode,
)
from agent.core.ports import Clock, TurnDispatcher, UnitOfWorkFactory, WorkspaceRepository

log = logging.getLogger(__name__)

# Which contact detail addresses a person on a channel we start from the inbox.
_OUTBOUND_ADDRESS = {
    Channel.EMAIL: "email",
    Channel.SMS: "phone",
    Channel.WHATSAPP: "phone",
    Channel.PHONE: "phone",
}


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 10_000


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


@dataclass(frozen=True)
class Received:
    message: Message
    conversation: Conversation
    duplicate: bool
    routed_to_ai: bool


def _channel(value: str) -> str:
    try:
        return Channel(value).value
    except ValueError:
        choices = ", ".join(c.value for c in Channel)
        raise ValidationError("channel", f"{value!r} is not a channel ({choices})") from None


class ConversationService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        events: EventBus,
        dispatcher: TurnDispatcher | None,
        clock: Clock,
        limits: Limits | None = None,
    ) -> None:
        self._uow = uow
        self._events = events
        self._dispatcher = dispatcher
        self._clock = clock
        self._limits = limits or Limits()

    # -- inbound ---------------------------------------------------------------

    def receive(self, workspace_id: int, inbound: Inbound) -> Received:
        channel = _channel(inbound.channel)
        body = validation.message_body(inbound.body, self._limits.max_message_chars)
        try:
            received, events = self._store_inbound(workspace_id, channel, body, inbound)
        except Conflict:
            # A concurrent delivery of the same provider message won the race.
            received, events = self._store_inbound(workspace_id, channel, body, inbound)
        self._publish(events)
        if received.routed_to_ai:
            self._dispatch(received)
        return received

    def _store_inbound(
        self, workspace_id: int, channel: str, body: str, inbound: Inbound
    ) -> tuple[Received, list[Event]]:
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            if inbound.provider_message_id:
                existing = repo.message_by_provider_id(channel, inbound.provider_message_id)
                if existing is not None:
                    conversation = repo.conversation(existing.conversation_id)
                    routed = self._awaits_ai(repo, conversation, existing)
                    return Received(existing, conversation, True, routed), []

            conversation, events = self._conversation_for(repo, channel, inbound, now)
            if conversation.status == ConversationStatus.CLOSED:
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
                meta=dict(inbound.meta),
                created_at=now,
            )
            repo.add(message)
            conversation.last_message_at = now
            conversation.updated_at = now
            uow.commit()
        events.append(
            MessageCreated(workspace_id, conversation.id, message.id, AuthorKind.CONTACT.value)
        )
        routed = conversation.status == ConversationStatus.OPEN and conversation.mode == Mode.AI
        return Received(message, conversation, False, routed), events

    def _conversation_for(
        self, repo: WorkspaceRepository, channel: str, inbound: Inbound, now: Any
    ) -> tuple[Conversation, list[Event]]:
        if inbound.conversation_id is not None:
            return repo.conversation(inbound.conversation_id, for_update=True), []
        if inbound.thread_id:
            found = repo.conversation_by_thread(channel, inbound.thread_id)
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

    @staticmethod
    def _find_or_create_contact(
        repo: WorkspaceRepository, details: ContactDetails, channel: str, now: Any
    ) -> Contact:
        contact = None
        if details.email or details.phone:
            contact = repo.find_contact(email=details.email, phone=details.phone)
        if contact is None:
            contact = Contact(
                workspace_id=repo.workspace_id, source_channel=channel, created_at=now
            )
            repo.add(contact)
        merge(contact, details)
        contact.updated_at = now
        repo.flush()
        return contact

    @staticmethod
    def _awaits_ai(repo: WorkspaceRepository, conversation: Conversation, message: Message) -> bool:
        """A redelivered message is routed again only if the AI never answered it."""
        return (
            conversation.status == ConversationStatus.OPEN
            and conversation.mode == Mode.AI
            and repo.reply_to(message.id) is None
        )

    def _dispatch(self, received: Received) -> None:
        if self._dispatcher is None:
            log.debug("no AI receptionist configured; message %s waits", received.message.id)
            return
        self._dispatcher.dispatch(
            received.conversation.workspace_id, received.conversation.id, received.message.id
        )

    # -- staff actions ---------------------------------------------------------

    def take_over(self, workspace_id: int, conversation_id: int, member_id: int) -> Conversation:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.member(member_id)
            conversation = repo.conversation(conversation_id, for_update=True)
            events = self._take_over(repo, conversation, member.id, member.name)
            uow.commit()
        self._publish(events)
        return conversation

    def _take_over(
        self, repo: WorkspaceRepository, conversation: Conversation, member_id: int, name: str
    ) -> list[Event]:
        if conversation.mode == Mode.HUMAN and conversation.assignee_id == member_id:
            return []
        conversation.mode = Mode.HUMAN
        conversation.assignee_id = member_id
        conversation.updated_at = self._clock()
        note = self._activity(repo, conversation, f"{name} took over the conversation", member_id)
        return [self._updated(conversation, mode="human", assignee_id=member_id), note]

    def release(self, workspace_id: int, conversation_id: int, member_id: int) -> Conversation:
        """Hand the conversation back to the AI receptionist."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.member(member_id)
            conversation = repo.conversation(conversation_id, for_update=True)
            events: list[Event] = []
            if conversation.mode != Mode.AI:
                conversation.mode = Mode.AI
                conversation.assignee_id = None
                conversation.updated_at = self._clock()
                events = [
                    self._updated(conversation, mode="ai", assignee_id=None),
                    self._activity(
                        repo,
                        conversation,
                        f"{member.name} handed the conversation back to the AI",
                        member.id,
                    ),
                ]
            uow.commit()
        self._publish(events)
        return conversation

    def reply(self, workspace_id: int, conversation_id: int, member_id: int, body: str) -> Message:
        """A staff message; replying takes the conversation over from the AI."""
        body = validation.message_body(body, self._limits.max_message_chars)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.member(member_id)
            conversation = repo.conversation(conversation_id, for_update=True)
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
        return message

    def close(
        self, workspace_id: int, conversation_id: int, member_id: int | None = None
    ) -> Conversation:
        return self._change_status(
            workspace_id, conversation_id, ConversationStatus.CLOSED, member_id
        )

    def reopen(
        self, workspace_id: int, conversation_id: int, member_id: int | None = None
    ) -> Conversation:
        return self._change_status(
            workspace_id, conversation_id, ConversationStatus.OPEN, member_id
        )

    def _change_status(
        self,
        workspace_id: int,
        conversation_id: int,
        status: ConversationStatus,
        member_id: int | None,
    ) -> Conversation:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            who = repo.member(member_id).name if member_id is not None else "The AI receptionist"
            conversation = repo.conversation(conversation_id, for_update=True)
            events = self._set_status(repo, conversation, status, who)
            uow.commit()
        self._publish(events)
        return conversation

    def _set_status(
        self,
        repo: WorkspaceRepository,
        conversation: Conversation,
        status: ConversationStatus,
        who: str,
    ) -> list[Event]:
        if conversation.status == status:
            return []
        now = self._clock()
        conversation.status = status
        conversation.closed_at = now if status == ConversationStatus.CLOSED else None
        conversation.updated_at = now
        verb = "closed" if status == ConversationStatus.CLOSED else "reopened"
        note = self._activity(repo, conversation, f"{who} {verb} the conversation")
        return [self._updated(conversation, status=status.value), note]

    def start_conversation(
        self,
        workspace_id: int,
        member_id: int,
        channel: str,
        body: str,
        *,
        contact_id: int | None = None,
        new_contact: ContactDetails | None = None,
    ) -> Conversation:
        """Staff reach out first, to an existing contact or a new one."""
        channel = _channel(channel)
        body = validation.message_body(body, self._limits.max_message_chars)
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
            member = repo.member(member_id)
            if contact_id is not None:
                contact = repo.contact(contact_id)
            else:
                details = new_contact.normalised(repo.workspace().country)
                contact = self._find_or_create_contact(repo, details, channel, now)
            address = getattr(contact, address_field)
            if not address:
                raise ValidationError(
                    address_field, f"{contact.display_name} has no {address_field} for {channel}"
                )
            conversation = Conversation(
                workspace_id=workspace_id,
                contact_id=contact.id,
                channel=channel,
                mode=Mode.HUMAN,
                assignee_id=member.id,
                created_at=now,
                updated_at=now,
            )
            repo.add(conversation)
            repo.flush()
            message = self._outbound(
                repo, conversation, body, AuthorKind.STAFF, member_id=member.id
            )
            uow.commit()
        self._publish([self._updated(conversation, created=True), self._created(message)])
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
        """Store the AI's answer, unless a human took over while it was thinking.

        ``after_handoff``: the AI itself just handed over, and this reply tells the visitor
        so; it is the one message allowed once the conversation is in human mode.
        """
        body = (body or "").strip()
        if not body:
            raise ValidationError("body", "the AI produced an empty reply")
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversation(conversation_id, for_update=True)
            human = conversation.mode != Mode.AI and not after_handoff
            if human or conversation.status != ConversationStatus.OPEN:
                return None
            message = self._outbound(repo, conversation, body, AuthorKind.AI, meta=meta)
            message.reply_to_id = in_reply_to
            uow.commit()
        self._publish([self._created(message)])
        return message

    def hand_off(self, workspace_id: int, conversation_id: int, reason: str) -> bool:
        """The AI passes the conversation to the team; it stays silent until released.

        False when a person already has it (they took over while the AI was thinking)."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversation(conversation_id, for_update=True)
            events: list[Event] = []
            handed = conversation.mode != Mode.HUMAN
            if handed:
                conversation.mode = Mode.HUMAN
                conversation.updated_at = self._clock()
                text = "The AI receptionist handed the conversation to the team"
                reason = validation.name(reason, "reason", 500)
                events = [
                    self._updated(conversation, mode="human", handoff=reason),
                    self._activity(repo, conversation, f"{text}: {reason}" if reason else text),
                ]
            uow.commit()
        self._publish(events)
        return handed

    def record_contact(
        self, workspace_id: int, conversation_id: int, details: ContactDetails
    ) -> tuple[Contact, bool]:
        """Merge what a visitor told us into their contact; never create a duplicate.

        Returns the contact and whether this made the conversation a new lead (the first
        time it has both a name and a way to reach the person).
        """
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversation(conversation_id, for_update=True)
            details = details.normalised(repo.workspace().country)
            contact = repo.contact(conversation.contact_id)
            known = repo.find_contact(email=details.email, phone=details.phone)
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
            new_lead = contact.is_lead and conversation.lead_notified_at is None
            if new_lead:
                conversation.lead_notified_at = now
            uow.commit()
        events: list[Event] = [self._updated(conversation, contact_id=contact.id)]
        if new_lead:
            events.append(LeadCaptured(workspace_id, conversation_id, contact.id))
        self._publish(events)
        return contact, new_lead

    # -- helpers ---------------------------------------------------------------

    def _outbound(
        self,
        repo: WorkspaceRepository,
        conversation: Conversation,
        body: str,
        author: AuthorKind,
        *,
        member_id: int | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        now = self._clock()
        message = Message(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND,
            author_kind=author,
            author_member_id=member_id,
            body=body,
            channel=conversation.channel,
            delivery_status=DeliveryStatus.QUEUED,
            meta=meta or {},
            created_at=now,
        )
        repo.add(message)
        repo.flush()
        conversation.last_message_at = now
        conversation.updated_at = now
        return message

    def _activity(
        self,
        repo: WorkspaceRepository,
        conversation: Conversation,
        text: str,
        member_id: int | None = None,
    ) -> MessageCreated:
        """An internal note in the thread ("Dana took over"); never sent to the customer."""
        message = Message(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            direction=Direction.INTERNAL,
            author_kind=AuthorKind.SYSTEM,
            author_member_id=member_id,
            body=text,
            channel=conversation.channel,
            delivery_status=DeliveryStatus.SENT,
            created_at=self._clock(),
        )
        repo.add(message)
        repo.flush()
        return self._created(message)

    @staticmethod
    def _created(message: Message) -> MessageCreated:
        return MessageCreated(
            message.workspace_id, message.conversation_id, message.id, str(message.author_kind)
        )

    @staticmethod
    def _updated(conversation: Conversation, **changes: Any) -> ConversationUpdated:
        return ConversationUpdated(conversation.workspace_id, conversation.id, changes)

    def _publish(self, events: list[Event]) -> None:
        for event in events:
            self._events.publish(event)

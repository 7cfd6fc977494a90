"""What every part of the conversation service shares: its collaborators and limits, and
the helpers that write a message into a thread and publish domain events."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agent.core.channel_accounts import ai_may_answer
from agent.core.channel_policy import ReplyWindow
from agent.core.errors import Conflict, ValidationError
from agent.core.events import (
    ConversationUpdated,
    Event,
    EventBus,
    MessageCreated,
    MessageStatusChanged,
)
from agent.core.models import (
    AuthorKind,
    Channel,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    SenderRule,
)
from agent.core.ports import (
    Clock,
    DeliveryQueue,
    TurnDispatcher,
    UnitOfWorkFactory,
    WorkspaceScope,
)
from agent.core.recent import PerWorkspace
from agent.core.send_rules import sms_refusal, window_for

log = logging.getLogger(__name__)
SENDER_RULES_TTL = 5.0  # seconds a process trusts its copy of a workspace's sender rules


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 10_000


def _channel(value: str) -> str:
    try:
        return Channel(value).value
    except ValueError:
        choices = ", ".join(c.value for c in Channel)
        raise ValidationError("channel", f"{value!r} is not a channel ({choices})") from None


class ServiceBase:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        events: EventBus,
        dispatcher: TurnDispatcher | None,
        clock: Clock,
        limits: Limits | None = None,
        *,
        outbox: DeliveryQueue | None = None,
    ) -> None:
        self._uow = uow
        self._events = events
        self._dispatcher = dispatcher
        self._clock = clock
        self._limits = limits or Limits()
        self._outbox = outbox  # where provider-channel messages go once stored
        # Read for every inbound message's spam screen, changed by staff now and then:
        # this process forgets its copy when it changes them, others within the TTL.
        self._sender_rules = PerWorkspace(self._load_sender_rules, SENDER_RULES_TTL)

    def _load_sender_rules(self, workspace_id: int) -> tuple[SenderRule, ...]:
        with self._uow(read_only=True) as uow:
            return tuple(uow.workspace(workspace_id).sender_rules.all())

    # -- helpers ---------------------------------------------------------------

    def _outbound(
        self,
        repo: WorkspaceScope,
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
        repo: WorkspaceScope,
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

    def _window(self, repo: WorkspaceScope, conversation: Conversation) -> ReplyWindow:
        """Who may send on this conversation now, by the provider's rules (send_rules)."""
        return window_for(repo, conversation, self._clock())

    def _sms_check(self, repo: WorkspaceScope, conversation: Conversation, body: str) -> None:
        """Refuse a text the carriers' rules or the daily cap would stop (SMS only)."""
        if conversation.channel != Channel.SMS:
            return
        contact = repo.contacts.get(conversation.contact_id)
        refusal = sms_refusal(repo, contact.phone, body, self._clock())
        if refusal:
            raise Conflict(refusal)

    @staticmethod
    def _auto_reply(repo: WorkspaceScope, channel: str) -> bool:
        """Whether the AI may answer on this channel by itself (the account's toggle)."""
        return ai_may_answer(repo, channel)

    def _send(self, message: Message) -> None:
        """After commit: a stored message on a provider channel goes to its sender."""
        if message.channel == Channel.WEBCHAT or message.direction != Direction.OUTBOUND:
            return  # web chat messages reach the visitor through the widget's socket
        if self._outbox is None:
            log.warning("no delivery queue: message %s stays queued", message.id)
            return
        try:
            self._outbox.enqueue(message.workspace_id, message.id)
        except Exception:  # stored and shown as queued; staff see it never moved
            log.exception("could not queue message %s for delivery", message.id)

    def _redrawn(self, message: Message) -> None:
        """A message changed beside its status (a reaction, a call's details): the inbox
        draws it again, as on a status change."""
        self._publish(
            [
                MessageStatusChanged(
                    message.workspace_id,
                    message.conversation_id,
                    message.id,
                    str(message.delivery_status),
                )
            ]
        )

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

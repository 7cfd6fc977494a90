"""The admin's "try it" chat: the real receptionist, with no effect outside the test chat.

Replies come from the same graph, chat model, knowledge index, business profile and saved
instructions that answer visitors, run inline in the request (no worker needed). Only the
side effects are fenced in, so testing never disturbs the team or real customers:
- the conversation is a web chat whose thread id starts with ``TRY_IT_THREAD_PREFIX`` and
  ends with an HMAC of the member, so the inbox list hides it and nobody can write into it;
- its events go to a private bus: nothing is broadcast to the inbox, no lead alert is sent;
- a handoff notifies nobody, a booking is checked against the calendar but not stored, and
  the details the AI captures stay on the test chat's own contact (never merged into a
  real customer's record).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from agent.core.booking import BookingResult, BookingService
from agent.core.contacts import ContactDetails, merge
from agent.core.conversations import ConversationService, Inbound, Limits
from agent.core.events import EventBus
from agent.core.models import (
    TRY_IT_THREAD_PREFIX,
    Channel,
    Contact,
    Conversation,
    Message,
    Notification,
)
from agent.core.notifications import NotificationService
from agent.core.turns import TurnOutcome, TurnRunner
from agent.graph.context import AgentContext
from agent.graph.runner import AgentResponder
from agent.services import Services

log = logging.getLogger(__name__)


class SandboxConversations(ConversationService):
    """Captured details update only the test chat's contact; no lead is ever announced."""

    def record_contact(
        self, workspace_id: int, conversation_id: int, details: ContactDetails
    ) -> tuple[Contact, bool]:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            details = details.normalised(repo.workspace().country)
            contact = repo.contacts.get(conversation.contact_id)
            merge(contact, details)
            now = self._clock()
            contact.updated_at = now
            new_lead = contact.is_lead and conversation.lead_notified_at is None
            if new_lead:
                conversation.lead_notified_at = now
            uow.commit()
        return contact, new_lead


class SilentNotifications(NotificationService):
    """Builds the notification a real chat would send, but stores and sends nothing."""

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
        log.debug("try-it chat %s: %s notification not sent", conversation_id, kind)
        return Notification(
            workspace_id=workspace_id,
            kind=kind,
            recipient="",
            subject=subject,
            body=body,
            conversation_id=conversation_id,
            contact_id=contact_id,
            error="test chat: not sent",
            created_at=self._clock(),
        )


class DryRunBooking(BookingService):
    """Answers exactly as a booking would, without taking a real slot in the calendar."""

    def book(
        self, workspace_id: int, conversation_id: int, start: datetime, notes: str = ""
    ) -> BookingResult:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            contact = repo.contacts.get(repo.conversations.get(conversation_id).contact_id)
        if not contact.is_lead:
            return BookingResult(False, start, reason="missing_contact")
        verdict = self.check(workspace_id, start)
        if not verdict.ok:
            return BookingResult(
                False, start, reason=verdict.reason, alternatives=verdict.alternatives
            )
        return BookingResult(True, start, None)


@dataclass(frozen=True)
class TryItTurn:
    outcome: TurnOutcome
    conversation: Conversation
    reply: Message | None


class TryIt:
    """One private test conversation per admin, answered by the real agent inline."""

    def __init__(self, container: Services, secret: str) -> None:
        self._container = container
        self._secret = secret.encode()
        self._events = EventBus()  # private: nobody outside the test chat listens

    def thread_id(self, workspace_id: int, member_id: int) -> str:
        digest = hmac.new(
            self._secret, f"try-it:{workspace_id}:{member_id}".encode(), hashlib.sha256
        ).hexdigest()[:24]
        return f"{TRY_IT_THREAD_PREFIX}member-{member_id}-{digest}"

    @cached_property
    def _conversations(self) -> SandboxConversations:
        c = self._container
        limits = Limits(max_message_chars=c.settings.max_message_chars)
        # No dispatcher: the turn runs below, in this request, not on the queue.
        return SandboxConversations(c.uow, self._events, None, c.clock, limits)

    @cached_property
    def _runner(self) -> TurnRunner:
        c = self._container
        booking = DryRunBooking(c.uow, c.clock, self._events)
        notifications = SilentNotifications(c.uow, c.clock, sender=None)

        def context(workspace_id: int, conversation_id: int) -> AgentContext:
            return AgentContext(
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                uow=c.uow,
                conversations=self._conversations,
                knowledge=c.index,
                booking=booking,
                notifications=notifications,
                clock=c.clock,
            )

        return TurnRunner(c.uow, c.turn_locks, AgentResponder(c.graph, context))

    def conversation(self, workspace_id: int, member_id: int) -> Conversation | None:
        thread = self.thread_id(workspace_id, member_id)
        with self._container.uow() as uow:
            return uow.workspace(workspace_id).conversations.by_thread(Channel.WEBCHAT, thread)

    def transcript(
        self, workspace_id: int, member_id: int
    ) -> tuple[Conversation | None, list[Message]]:
        conversation = self.conversation(workspace_id, member_id)
        if conversation is None:
            return None, []
        with self._container.uow() as uow:
            return conversation, list(
                uow.workspace(workspace_id).messages.for_conversation(conversation.id)
            )

    def send(self, workspace_id: int, member_id: int, body: str) -> TryItTurn:
        """Store the admin's message as a visitor's, then run the AI turn for it now."""
        inbound = Inbound(
            channel=Channel.WEBCHAT, body=body, thread_id=self.thread_id(workspace_id, member_id)
        )
        received = self._conversations.receive(workspace_id, inbound)
        outcome = TurnOutcome.NOT_AI
        if received.routed_to_ai:
            outcome = self._runner.run(workspace_id, received.conversation.id, received.message.id)
        with self._container.uow() as uow:
            repo = uow.workspace(workspace_id)
            reply = repo.messages.reply_to(received.message.id)
            conversation = repo.conversations.get(received.conversation.id)
        return TryItTurn(outcome, conversation, reply)

    def reset(self, workspace_id: int, member_id: int) -> bool:
        """Forget the test chat: its messages, its contact and the agent's memory of it."""
        found = self.conversation(workspace_id, member_id)
        if found is None:
            return False
        with (
            self._container.turn_locks.hold(f"conversation:{found.id}"),
            self._container.uow() as uow,
        ):
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(found.id)
            contact = repo.contacts.get(conversation.contact_id)
            repo.delete(conversation)  # messages and read markers go with it (FK cascade)
            repo.flush()
            repo.delete(contact)  # only ever this chat's own contact (see SandboxConversations)
            uow.commit()
        # The thread id AgentResponder keeps the graph's memory under.
        thread = f"workspace-{workspace_id}-conversation-{found.id}"
        self._container.graph.checkpointer.delete_thread(thread)
        return True


def tool_json(call: dict[str, Any]) -> dict[str, str]:
    """A tool the AI used, worded for the admin (with what the test chat held back)."""
    labels = {
        "search_knowledge": "Searched knowledge",
        "capture_contact": "Captured contact details (kept in this test chat only)",
        "check_availability": "Checked availability",
        "book_appointment": "Booking checked (test chat: nothing was booked)",
        "share_link": "Shared a link",
        "handoff_to_human": "Handed over to a person (test chat: the team was not notified)",
    }
    name = str(call.get("name", ""))
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    detail = ", ".join(f"{k}: {v}" for k, v in args.items() if v not in ("", None))
    result = call.get("result")
    if isinstance(result, dict) and result.get("error"):
        detail = f"{detail} ({result['error']})" if detail else str(result["error"])
    return {"name": name, "label": labels.get(name, name), "detail": detail[:300]}


def message_json(message: Message) -> dict[str, Any]:
    meta = message.meta or {}
    role = {"contact": "you", "ai": "ai"}.get(str(message.author_kind), "note")
    return {
        "id": message.id,
        "role": role,
        "body": message.body,
        "welcome": bool(meta.get("welcome")),
        "citations": [
            {"source": str(c.get("source", "")), "uri": str(c.get("uri", ""))}
            for c in meta.get("citations", [])
            if isinstance(c, dict)
        ],
        "tools": [tool_json(c) for c in meta.get("tool_calls", []) if isinstance(c, dict)],
    }

"""Outbound delivery: every stored message on a provider channel goes out through its sender.

The conversation service stores a message first (``queued``) and enqueues it; a job then
calls ``DeliveryService.deliver``, which hands it to the channel's ``Sender``. Transient
errors are tried again with exponential backoff; permanent ones mark the message
``failed`` with the provider's reason, and staff can ``retry`` it. Provider callbacks move
the status forward only, through ``update_status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from agent.core import validation
from agent.core.channel_accounts import ChannelAccountService
from agent.core.channel_policy import (
    MESSAGE_TAG,
    REPLY_TO_PROVIDER_ID,
    TEMPLATE,
    fit,
    may_send,
    rules,
)
from agent.core.errors import (
    Conflict,
    NotFound,
    PermanentSendError,
    SendError,
    TransientSendError,
    ValidationError,
)
from agent.core.events import EventBus, MessageStatusChanged
from agent.core.models import (
    AuthorKind,
    Channel,
    DeliveryStatus,
    Direction,
    Message,
    SendResult,
)
from agent.core.ports import Clock, DeliveryQueue, Locks, UnitOfWorkFactory
from agent.core.send_rules import sms_refusal, window_for
from agent.core.senders import SenderRegistry, detached, scrub, sending_account, test_message

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
LOST_AFTER = timedelta(minutes=5)  # a queued message this late lost its job
SWEEP_HORIZON = timedelta(days=1)  # older ones are left alone (staff see them queued)
_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}
_CALLBACK_STATUSES = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ, DeliveryStatus.FAILED}
)


def _due(message: Message) -> datetime | None:
    """When the message's delivery should have run: its retry's time, else its storing."""
    due = ((message.meta or {}).get("delivery") or {}).get("next_at")
    try:
        return datetime.fromisoformat(due) if due else message.created_at
    except (TypeError, ValueError):
        return message.created_at


def backoff(attempt: int, *, base: float = 30, cap: float = 3600) -> float:
    """Seconds to wait before try number ``attempt + 1``: 30 s, 1, 2, 4, 8 min... (≤ 1 h)."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0)))


def advances(current: str, new: str) -> bool:
    """Whether ``new`` moves a message forward: queued → sent → delivered → read, and
    failed only before it was delivered. Nothing moves a failed message but a retry."""
    current, new = DeliveryStatus(current), DeliveryStatus(new)
    if current in (DeliveryStatus.FAILED, DeliveryStatus.RECEIVED):
        return False
    if new == DeliveryStatus.FAILED:
        return current in (DeliveryStatus.QUEUED, DeliveryStatus.SENT)
    return _RANK.get(new, -1) > _RANK[current]


class DeliveryOutcome(StrEnum):
    SENT = "sent"
    RETRYING = "retrying"  # a transient error; enqueued again after a backoff
    FAILED = "failed"
    SKIPPED = "skipped"  # not a queued outbound provider message (already sent, web chat...)


class DeliveryService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        events: EventBus,
        clock: Clock,
        senders: SenderRegistry,
        accounts: ChannelAccountService,
        queue: DeliveryQueue | None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        wait: Callable[[int], float] = backoff,
        locks: Locks | None = None,
    ) -> None:
        self._uow = uow
        self._events = events
        self._clock = clock
        self._senders = senders
        self._accounts = accounts
        self._queue = queue
        self._max_attempts = max_attempts
        self._wait = wait
        self._locks = locks  # one delivery of a message at a time, across workers

    def can_send(self, channel: str) -> bool:
        """Whether this server has a sender for the channel (a "send a test" makes sense)."""
        return self._senders.get(channel) is not None

    # -- the job ------------------------------------------------------------------------

    def deliver(self, workspace_id: int, message_id: int) -> DeliveryOutcome:
        """Hand one queued message to its channel's sender (what the ``deliver`` job does).

        Safe to run twice: a message that is no longer queued is skipped, and two jobs for
        the same message (a retry clicked twice) take turns."""
        if self._locks is None:
            return self._deliver(workspace_id, message_id)
        with self._locks.hold(f"delivery:{message_id}"):
            return self._deliver(workspace_id, message_id)

    def _deliver(self, workspace_id: int, message_id: int) -> DeliveryOutcome:
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            message = repo.messages.get(message_id)
            if (
                message.direction != Direction.OUTBOUND
                or message.delivery_status != DeliveryStatus.QUEUED
                or message.channel == Channel.WEBCHAT
            ):
                return DeliveryOutcome.SKIPPED
            conversation = repo.conversations.get(message.conversation_id)
            contact = repo.contacts.get(conversation.contact_id)
            account = repo.channel_accounts.for_channel(message.channel)
            business = repo.workspace().name
            # The provider's rules are checked again at sending time: a retry may be late.
            now = self._clock()
            window = window_for(repo, conversation, now)
            refusal = (
                sms_refusal(repo, contact.phone, message.body, now, stored=message.id)
                if message.channel == Channel.SMS
                else ""
            )
            # The customer's message this one answers, by the provider's id (WhatsApp
            # quotes it: ``context.message_id``).
            answered = repo.messages.get(message.reply_to_id) if message.reply_to_id else None
            author = None
            if message.author_kind == AuthorKind.STAFF and message.author_member_id:
                author = repo.team.by_ids([message.author_member_id]).get(message.author_member_id)
        label = rules(message.channel).label
        sender = self._senders.get(message.channel)
        if account is None:
            reason = f"{label} is not connected: connect it under Settings > Channels"
            return self._failed(workspace_id, message_id, reason)
        if sender is None:
            reason = f"this server has no {label} sender configured"
            return self._failed(workspace_id, message_id, reason)
        is_ai, template = message.author_kind == AuthorKind.AI, TEMPLATE in (message.meta or {})
        if not may_send(window, ai=is_ai, template=template):
            return self._failed(workspace_id, message_id, f"not sent: {window.reason}")
        if refusal:
            return self._failed(workspace_id, message_id, f"not sent: {refusal}")
        credentials = self._accounts.credentials(account)
        sender_name = author.name if author is not None else business
        sending = sending_account(account, business, sender_name, credentials)
        outgoing = detached(message, fit(message.channel, message.body))
        if window.tag:
            outgoing.meta[MESSAGE_TAG] = window.tag
        if answered is not None and answered.provider_message_id:
            outgoing.meta[REPLY_TO_PROVIDER_ID] = answered.provider_message_id
        try:
            result = sender.send(sending, conversation, outgoing, contact)
        except TransientSendError as exc:
            return self._transient(workspace_id, message_id, scrub(exc.reason, credentials))
        except PermanentSendError as exc:
            reason = scrub(exc.reason, credentials)
            if exc.account_problem:
                self._accounts.mark(workspace_id, account.channel, reason)
            elif exc.notice:
                self._accounts.notice(workspace_id, account.channel, reason)
            return self._failed(workspace_id, message_id, reason)
        except Exception as exc:  # an adapter's bug or an unforeseen error: retried, then failed
            log.exception("the %s sender raised for message %s", label, message_id)
            reason = scrub(f"unexpected error: {type(exc).__name__}: {exc}", credentials)
            return self._transient(workspace_id, message_id, reason)
        return self._sent(workspace_id, message_id, result)

    def _sent(self, workspace_id: int, message_id: int, result: SendResult) -> DeliveryOutcome:
        provider_id = validation.clean_text(str(result.provider_message_id or ""))[:255] or None
        with self._uow() as uow:
            message = uow.workspace(workspace_id).messages.get(message_id, for_update=True)
            if message.delivery_status == DeliveryStatus.QUEUED:
                message.delivery_status = DeliveryStatus.SENT
            message.provider_message_id = provider_id
            parts = [validation.clean_text(str(i))[:255] for i in result.part_ids[:20]]
            extra = {"part_ids": parts} if len(parts) > 1 else {}
            self._note(message, error="", sent_at=self._clock().isoformat(), **extra)
            uow.commit()
        self._changed(message)
        return DeliveryOutcome.SENT

    def _transient(self, workspace_id: int, message_id: int, reason: str) -> DeliveryOutcome:
        with self._uow() as uow:
            message = uow.workspace(workspace_id).messages.get(message_id, for_update=True)
            attempts = int((message.meta or {}).get("delivery", {}).get("attempts", 0)) + 1
            delay = self._wait(attempts)
            if attempts >= self._max_attempts:
                reason = f"gave up after {attempts} attempts: {reason}"
            else:
                due = self._clock() + timedelta(seconds=delay)
                self._note(message, error=reason, attempts=attempts, next_at=due.isoformat())
                uow.commit()
        if attempts >= self._max_attempts:
            return self._failed(workspace_id, message_id, reason, attempts=attempts)
        log.warning(
            "message %s not sent (attempt %s of %s), trying again: %s",
            message_id,
            attempts,
            self._max_attempts,
            reason,
        )
        self._enqueue(workspace_id, message_id, delay=delay)
        return DeliveryOutcome.RETRYING

    def _failed(
        self, workspace_id: int, message_id: int, reason: str, **extra: Any
    ) -> DeliveryOutcome:
        with self._uow() as uow:
            message = uow.workspace(workspace_id).messages.get(message_id, for_update=True)
            if not advances(message.delivery_status, DeliveryStatus.FAILED):
                return DeliveryOutcome.SKIPPED
            message.delivery_status = DeliveryStatus.FAILED
            self._note(message, error=reason, failed_at=self._clock().isoformat(), **extra)
            uow.commit()
        log.warning("message %s failed: %s", message_id, reason)
        self._changed(message)
        return DeliveryOutcome.FAILED

    # -- lost jobs ----------------------------------------------------------------------

    def sweep(
        self, *, grace: timedelta = LOST_AFTER, horizon: timedelta = SWEEP_HORIZON
    ) -> list[int]:
        """Enqueue again the messages whose delivery job was lost with its worker: still
        queued ``grace`` after they were stored (or after their retry was due), and no
        older than ``horizon``. Safe when the job was only slow: a message that is no
        longer queued is skipped, and two deliveries of one message take turns."""
        now = self._clock()
        found: list[tuple[int, int]] = []
        with self._uow(read_only=True) as uow:
            for workspace in uow.workspaces():
                repo = uow.workspace(workspace.id)
                for message in repo.messages.queued_outbound(since=now - horizon):
                    due = _due(message)
                    if due is not None and due <= now - grace:
                        found.append((workspace.id, message.id))
        for workspace_id, message_id in found:
            log.warning(
                "message %s was never delivered (its job was lost): queued again", message_id
            )
            self._enqueue(workspace_id, message_id)
        return [message_id for _, message_id in found]

    # -- provider callbacks -------------------------------------------------------------

    def update_status(
        self,
        channel: str,
        provider_message_id: str,
        status: str,
        *,
        error: str = "",
        workspace_id: int | None = None,
    ) -> Message | None:
        """A provider says where a message is now. Idempotent, and never moves a message
        backwards (a late "delivered" after "read" changes nothing). None when unknown."""
        try:
            new = DeliveryStatus(status)
        except ValueError:
            raise ValidationError("status", f"{status!r} is not a delivery status") from None
        if new not in _CALLBACK_STATUSES:
            raise ValidationError("status", f"a provider cannot report {status!r}")
        with self._uow() as uow:
            if workspace_id is not None:
                repo = uow.workspace(workspace_id)
                found = repo.messages.by_provider_id(channel, provider_message_id)
            else:
                found = uow.outbound_message(channel, provider_message_id)
                repo = uow.workspace(found.workspace_id) if found is not None else None
            if found is None or repo is None or found.direction != Direction.OUTBOUND:
                return None
            message = repo.messages.get(found.id, for_update=True)
            if not advances(message.delivery_status, new):
                return message
            message.delivery_status = new
            if new == DeliveryStatus.FAILED:
                reason = validation.clean_text(error)[:2000] or "the provider reported a failure"
                self._note(message, error=reason, failed_at=self._clock().isoformat())
            uow.commit()
        self._changed(message)
        return message

    def update_thread(
        self, workspace_id: int, channel: str, thread_id: str, status: str, until: datetime
    ) -> int:
        """A provider says every message it got in a thread up to ``until`` is delivered
        or read (Meta's watermarks): each moves forward alone; how many did."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.by_thread(channel, thread_id)
            if conversation is None:
                return 0
            found = [
                m.provider_message_id
                for m in repo.messages.for_conversation(conversation.id, limit=200)
                if m.direction == Direction.OUTBOUND
                and m.provider_message_id
                and m.created_at is not None
                and m.created_at <= until
                and advances(m.delivery_status, status)
            ]
        changed = 0
        for provider_id in found:
            message = self.update_status(channel, provider_id, status, workspace_id=workspace_id)
            changed += message is not None and message.delivery_status == status
        return changed

    # -- staff actions ------------------------------------------------------------------

    def retry(self, workspace_id: int, message_id: int, member_id: int) -> Message:
        """Queue a failed message again (after fixing the channel, or when the provider is
        back); its attempts start over."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            message = repo.messages.get(message_id, for_update=True)
            if message.direction != Direction.OUTBOUND or message.channel == Channel.WEBCHAT:
                raise NotFound("message", message_id)
            if message.delivery_status != DeliveryStatus.FAILED:
                raise Conflict("only a message that failed can be sent again")
            message.delivery_status = DeliveryStatus.QUEUED
            self._note(message, error="", attempts=0, retried_by=member.id)
            uow.commit()
        self._changed(message)
        self._enqueue(workspace_id, message_id)
        return message

    def send_test(self, workspace_id: int, channel: str, to: str) -> SendResult:
        """Send a short test message to ``to`` right now (nothing is stored in the inbox);
        the channel's card shows the outcome."""
        return self.send_now(workspace_id, channel, to)

    def send_now(self, workspace_id: int, channel: str, to: str, body: str = "") -> SendResult:
        """Send ``body`` (a test message without it) to ``to`` on the channel's account
        right now, outside any conversation: an automation texting the team."""
        label = rules(channel).label
        account = self._accounts.account(workspace_id, channel)
        if account is None:
            raise ValidationError("channel", f"{label} is not connected")
        sender = self._senders.get(channel)
        if sender is None:
            raise ValidationError(
                "channel", f"this server has no {label} sender yet, so no test can be sent"
            )
        with self._uow(read_only=True) as uow:
            workspace = uow.workspace(workspace_id).workspace()
        conversation, message, contact = test_message(workspace, channel, to, self._clock(), body)
        credentials = self._accounts.credentials(account)
        sending = sending_account(account, workspace.name, workspace.name, credentials)
        try:
            result = sender.send(sending, conversation, message, contact)
        except SendError as exc:
            reason = scrub(exc.reason, credentials)
            if isinstance(exc, PermanentSendError):
                self._accounts.mark(workspace_id, channel, reason)
            what = "the message" if body else "the test message"
            raise Conflict(f"{what} was not sent: {reason}") from None
        self._accounts.mark(workspace_id, channel)  # it works (again)
        return result

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _note(message: Message, **values: Any) -> None:
        """Delivery details kept on the message (attempts, the last error), shown in the
        thread; a new dict so the change is saved."""
        meta = dict(message.meta or {})
        meta["delivery"] = {**dict(meta.get("delivery") or {}), **values}
        message.meta = meta

    def _enqueue(self, workspace_id: int, message_id: int, *, delay: float = 0) -> None:
        if self._queue is None:
            log.warning("no delivery queue: message %s stays queued", message_id)
            return
        self._queue.enqueue(workspace_id, message_id, delay=delay)

    def _changed(self, message: Message) -> None:
        self._events.publish(
            MessageStatusChanged(
                message.workspace_id,
                message.conversation_id,
                message.id,
                str(message.delivery_status),
            )
        )

"""Inbound mail, from raw bytes to the inbox: routed, recognised, threaded, stored.

The SMTP server only checks recipients (``is_known``) and enqueues; the mail job calls
``EmailInbound.receive``, which
- routes the workspace by the recipient's base address (its ``+tag`` aside);
- marks our own message failed when the mail is a bounce (DSN) naming its Message-ID;
- keeps a Gmail/Outlook forwarding confirmation on the email account (shown on the
  channel card), never answered and never a conversation;
- otherwise stores the mail through ``ConversationService.receive``, in the conversation
  its Reply-To token or In-Reply-To/References name, else in the sender's thread, with
  what the AI reads (quoted history and signature stripped) as the body, the whole text
  and the attachments kept beside it, and the RFC 3834 loop rules deciding whether the AI
  may answer (when not, the message waits for staff with the reason shown).
Receiving the same mail twice stores it once (its Message-ID is the provider id).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from agent.attachments import AttachmentStore
from agent.core import validation
from agent.core.channel_accounts import (
    FORWARDING_CONFIRMATION,
    PUBLIC_ADDRESS,
    ChannelAccountService,
)
from agent.core.channel_policy import NO_AUTO_REPLY
from agent.core.channel_policy import may_auto_reply as may_answer
from agent.core.contacts import ContactDetails
from agent.core.conversations import ConversationService, Inbound
from agent.core.delivery import DeliveryService
from agent.core.errors import FrontdeskError, NotFound
from agent.core.models import AuthorKind, Channel, ChannelAccount
from agent.core.ports import UnitOfWorkFactory
from channels.email.addresses import (
    base_address,
    conversation_from_message_ids,
    parse_recipient,
)
from channels.email.bounces import read_bounce
from channels.email.confirmations import find_confirmation
from channels.email.history import EMAIL, headers_meta
from channels.email.loops import DEFAULT_REPLIES_PER_HOUR, may_auto_reply
from channels.email.parse import MAX_ATTACHMENT_BYTES, MalformedEmail, ParsedEmail, parse_email

log = logging.getLogger(__name__)
ORIGINAL = "original"  # meta: the whole text of the mail, when the AI read less of it
ATTACHMENTS = "attachments"  # meta: [{"name", "content_type", "size", "stored" | "note"}]
MAX_ORIGINAL_CHARS = 200_000
KNOWN_SECONDS = 5.0


class MailOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same Message-ID was stored before
    BOUNCE = "bounce"  # a DSN: our message marked failed
    REPORT = "report"  # another report (a delay warning, a read receipt): nothing to do
    CONFIRMATION = "confirmation"  # a forwarding confirmation, kept for the admin
    UNKNOWN = "unknown_recipient"  # nobody's address (disconnected since RCPT)
    MALFORMED = "malformed"


@dataclass(frozen=True)
class MailResult:
    outcome: MailOutcome
    workspace_id: int | None = None
    conversation_id: int | None = None
    message_id: int | None = None
    ai_blocked: str | None = None  # why the AI does not answer it, when it does not


class EmailInbound:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        accounts: ChannelAccountService,
        conversations: ConversationService,
        delivery: DeliveryService,
        attachments: AttachmentStore,
        clock: Callable[[], datetime],
        key: bytes,
        email_domain: str = "",
        max_chars: int = 10_000,
        replies_per_hour: int = DEFAULT_REPLIES_PER_HOUR,
        max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._conversations = conversations
        self._delivery = delivery
        self._attachments = attachments
        self._clock = clock
        self._key = key
        self._domain = email_domain.strip().lower().lstrip("@")
        self._max_chars = max_chars
        self._replies_per_hour = replies_per_hour
        self._max_attachment_bytes = max_attachment_bytes
        self._known: dict[str, float] = {}  # base address -> remembered until (monotonic)

    # -- the SMTP server's question --------------------------------------------------

    def is_known(self, address: str) -> bool:
        """Whether mail to ``address`` (with or without its +tag) has a workspace here.

        Asked at every RCPT, so a known address is remembered for a few seconds (the job
        routes again, so a mail for an address disconnected meanwhile is still dropped)."""
        try:
            base = base_address(address)
        except ValueError:
            return False
        now = time.monotonic()
        if self._known.get(base, 0.0) > now:
            return True
        known = self._account(base) is not None
        if known:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[base] = now + KNOWN_SECONDS
        return known

    def _account(self, address: str) -> ChannelAccount | None:
        try:
            base = base_address(address)
        except ValueError:
            return None
        return self._accounts.route(Channel.EMAIL, base)

    # -- the mail job ----------------------------------------------------------------

    def receive(self, recipient: str, raw: bytes) -> MailResult:
        account = self._account(recipient)
        if account is None:
            log.warning("mail for %r has no workspace (disconnected?): dropped", recipient)
            return MailResult(MailOutcome.UNKNOWN)
        workspace_id = account.workspace_id
        try:
            email = parse_email(raw, max_attachment_bytes=self._max_attachment_bytes)
        except MalformedEmail as error:
            log.warning("unreadable mail for %s dropped: %s", recipient, error)
            return MailResult(MailOutcome.MALFORMED, workspace_id)
        if email.content_type == "multipart/report":  # a delivery or read report
            bounce = read_bounce(raw)
            for mid in bounce.message_ids if bounce is not None else ():
                self._delivery.update_status(
                    Channel.EMAIL, mid, "failed", error=bounce.reason, workspace_id=workspace_id
                )
            # A delay warning or a read receipt changes nothing, and is never a conversation.
            outcome = MailOutcome.BOUNCE if bounce is not None else MailOutcome.REPORT
            return MailResult(outcome, workspace_id)
        confirmation = find_confirmation(email)
        if confirmation is not None:
            found = {
                "provider": confirmation.provider,
                "code": confirmation.code or "",
                "link": confirmation.link or "",
                "requested_by": confirmation.requested_by or "",
                "received_at": self._clock().isoformat(),
            }
            self._accounts.update_settings(
                workspace_id, Channel.EMAIL, {FORWARDING_CONFIRMATION: found}
            )
            return MailResult(MailOutcome.CONFIRMATION, workspace_id)
        return self._store(account, recipient, email, raw)

    def _store(
        self, account: ChannelAccount, recipient: str, email: ParsedEmail, raw: bytes
    ) -> MailResult:
        workspace_id = account.workspace_id
        provider_id = email.message_id or f"<sha256.{hashlib.sha256(raw).hexdigest()}@frontdesk>"
        provider_id = provider_id[:255]
        if email.attachments:  # (the service is idempotent itself; this spares the files)
            with self._uow(read_only=True) as uow:
                existing = uow.workspace(workspace_id).messages.by_provider_id(
                    Channel.EMAIL, provider_id
                )
            if existing is not None:  # a retried delivery: nothing to store or save again
                return MailResult(
                    MailOutcome.DUPLICATE, workspace_id, existing.conversation_id, existing.id
                )
        if not email.from_address:
            log.warning("mail for %s has no sender address: dropped", recipient)
            return MailResult(MailOutcome.MALFORMED, workspace_id)
        conversation_id = self._conversation(account, recipient, email)
        blocked = self._loop_block(account, email)
        meta: dict[str, Any] = {
            EMAIL: headers_meta(
                message_id=email.message_id,
                references=email.thread_ids,
                subject=email.subject,
                sender=email.from_address,
                to=recipient,
            )
        }
        body = _body(email, self._max_chars)
        if email.text.strip() and email.text.strip() != body:
            meta[ORIGINAL] = email.text[:MAX_ORIGINAL_CHARS]
        if email.attachments:
            meta[ATTACHMENTS] = self._save_attachments(workspace_id, email)
        if blocked:
            meta[NO_AUTO_REPLY] = blocked
        inbound = Inbound(
            channel=Channel.EMAIL,
            body=body,
            thread_id=email.from_address,
            provider_message_id=provider_id,
            conversation_id=conversation_id,
            sender=_contact(email),
            meta=meta,
        )
        try:
            received = self._conversations.receive(workspace_id, inbound)
        except FrontdeskError as error:  # e.g. a sender address the contact rules refuse
            log.warning("mail from %s not stored: %s", email.from_address, error)
            inbound = replace(inbound, sender=ContactDetails())
            received = self._conversations.receive(workspace_id, inbound)
        outcome = MailOutcome.DUPLICATE if received.duplicate else MailOutcome.STORED
        return MailResult(
            outcome, workspace_id, received.conversation.id, received.message.id, blocked
        )

    def _conversation(
        self, account: ChannelAccount, recipient: str, email: ParsedEmail
    ) -> int | None:
        """The conversation the mail answers: its Reply-To token, else our Message-IDs in
        In-Reply-To/References; None for a new thread. Only an email conversation of this
        workspace counts (a signed token cannot be moved between workspaces anyway)."""
        try:
            found = parse_recipient(recipient, self._key).conversation_id
        except ValueError:
            found = None
        if found is None:
            found = conversation_from_message_ids(
                list(email.thread_ids), account.external_id, self._key
            )
        if found is None:
            return None
        with self._uow(read_only=True) as uow:
            try:
                conversation = uow.workspace(account.workspace_id).conversations.get(found)
            except NotFound:
                return None
        return found if conversation.channel == Channel.EMAIL else None

    def _loop_block(self, account: ChannelAccount, email: ParsedEmail) -> str | None:
        """Why the AI must not answer this mail (RFC 3834, and a few replies an hour).

        The rate is only counted when the AI could answer at all (the channel's toggle
        is on and the headers allow it): it is the one rule that reads the database."""
        own = [account.external_id, str(account.settings.get(PUBLIC_ADDRESS) or "")]
        rules = {
            "own_addresses": [a for a in own if a],
            "own_domains": [self._domain] if self._domain else [],
        }
        verdict = may_auto_reply(email, **rules)
        if not verdict.allowed or not may_answer(Channel.EMAIL, account.settings):
            return verdict.reason
        now = self._clock()
        verdict = may_auto_reply(
            email,
            **rules,
            previous_replies=self._recent_ai_replies(account.workspace_id, email, now),
            now=now,
            limit=self._replies_per_hour,
        )
        return None if verdict.allowed else verdict.reason

    def _recent_ai_replies(
        self, workspace_id: int, email: ParsedEmail, now: datetime
    ) -> list[datetime]:
        """When the AI answered this sender in the last hour, over all their conversations."""
        try:
            address = validation.email(email.from_address)
        except FrontdeskError:
            return []
        since = now - timedelta(hours=1)
        found: list[datetime] = []
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            contact = repo.contacts.find(email=address)
            if contact is None:
                return []
            for conversation in repo.conversations.for_contact(contact.id):
                if conversation.last_message_at and conversation.last_message_at < since:
                    continue
                for message in repo.messages.for_conversation(conversation.id, limit=100):
                    if (
                        message.author_kind == AuthorKind.AI
                        and message.created_at is not None
                        and message.created_at > since
                    ):
                        found.append(message.created_at)
        return found

    def _save_attachments(self, workspace_id: int, email: ParsedEmail) -> list[dict[str, Any]]:
        listed = []
        for attachment in email.attachments:
            entry: dict[str, Any] = {
                "name": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
            }
            if attachment.data is None:
                entry["note"] = attachment.note or "over the size limit; not stored"
            else:
                entry["stored"] = self._attachments.save(
                    workspace_id, attachment.filename, attachment.data
                )
            listed.append(entry)
        return listed


def _body(email: ParsedEmail, limit: int) -> str:
    """What the AI reads (and the thread shows first): the new text, within the limit."""
    text = email.new_text.strip() or email.text.strip()
    if not text:
        names = ", ".join(a.filename for a in email.attachments)
        text = f"(no text; attached: {names})" if names else f"(no text) {email.subject}".strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _contact(email: ParsedEmail) -> ContactDetails:
    first, _, last = " ".join(email.from_name.split()).partition(" ")
    if "@" in first:  # a display name that is just the address again
        first, last = "", ""
    return ContactDetails(first_name=first[:100], last_name=last[:100], email=email.from_address)

"""Meta webhook events into the inbox: messages stored, echoes recorded, statuses moved.

A verified POST's body reaches ``MetaInbound.handle`` through the webhook job. Each event
is routed by its account id (``entry[].id``) to the workspace that connected the Page or
Instagram account; events for nobody's account are dropped. Then:
- a customer's message is stored through ``ConversationService.receive`` in the thread
  of their PSID / IGSID (idempotent on ``mid``: Meta retries), with its attachments as
  links, the quick-reply payload and what it replies to kept beside it; the customer's
  profile name is fetched once, with their first message, when the token allows it; a
  message with only attachments is left to staff (the AI cannot see them);
- an echo (``is_echo``) of a message a person sent from Meta's own apps is recorded as a
  staff message already sent, and never answered; echoes of our own sends are skipped;
- delivery and read events move earlier messages forward (never backwards).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from agent.core.channel_accounts import ChannelAccountService
from agent.core.channel_policy import NO_AUTO_REPLY, fit
from agent.core.contacts import ContactDetails
from agent.core.conversations import ConversationService, Inbound
from agent.core.delivery import DeliveryService
from agent.core.errors import FrontdeskError
from agent.core.models import Channel, ChannelAccount, DeliveryStatus, Direction
from agent.core.ports import UnitOfWorkFactory
from channels.meta.events import MessageEvent, StatusEvent, parse
from channels.meta.graph import GraphClient, GraphError
from channels.meta.sender import ACCESS_TOKEN

log = logging.getLogger(__name__)
ATTACHMENTS = "attachments"  # meta: [{"name", "content_type", "link"}], links to Meta's CDN
QUICK_REPLY = "quick_reply"  # meta: the payload of the button they tapped
REPLY_TO = "reply_to"  # meta: {"mid", "message_id", "excerpt"} of the message they answer
ECHO = "echo"  # meta: True on a message a person sent from Meta's apps
_PROFILE_FIELDS = {
    Channel.MESSENGER.value: "first_name,last_name",
    Channel.INSTAGRAM.value: "name,username",
}
_ECHO_MATCH_MESSAGES = 30  # how far back an echo is compared with what we sent


@dataclass
class HandleResult:
    stored: int = 0
    duplicates: int = 0
    echoes: int = 0
    statuses: int = 0
    dropped: int = 0  # for no connected account, or malformed


class MetaInbound:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        accounts: ChannelAccountService,
        conversations: ConversationService,
        delivery: DeliveryService,
        graph: GraphClient,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._conversations = conversations
        self._delivery = delivery
        self._graph = graph

    def handle(self, body: bytes) -> HandleResult:
        """Apply one (already verified) webhook POST."""
        result = HandleResult()
        try:
            payload = json.loads(body)
        except ValueError:
            log.warning("a Meta webhook body that is not JSON was dropped")
            result.dropped += 1
            return result
        events = parse(payload)
        accounts: dict[str, ChannelAccount | None] = {}
        for account_id in events.account_ids:
            accounts[account_id] = self._accounts.route(events.channel, account_id)
        for message in events.messages:
            account = accounts.get(message.account_id)
            try:
                if account is None:
                    result.dropped += 1
                elif message.echo:
                    result.echoes += self._echo(account, message)
                elif self._receive(account, message):
                    result.stored += 1
                else:
                    result.duplicates += 1
            except FrontdeskError as error:  # one bad event never costs the batch's others
                log.warning("Meta message %s dropped: %s", message.mid, error)
                result.dropped += 1
        for status in events.statuses:
            account = accounts.get(status.account_id)
            if account is None:
                result.dropped += 1
            else:
                result.statuses += self._status(account, status)
        return result

    # -- customers' messages ------------------------------------------------------------

    def _receive(self, account: ChannelAccount, event: MessageEvent) -> bool:
        """Store the message; False when it was stored before (a retried webhook)."""
        workspace_id = account.workspace_id
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            known = repo.conversations.by_thread(account.channel, event.user_id)
            replied = (
                repo.messages.by_provider_id(account.channel, event.reply_to)
                if event.reply_to
                else None
            )
        reply_to: dict[str, Any] = {"mid": event.reply_to}
        if replied is not None:
            reply_to |= {"message_id": replied.id, "excerpt": replied.body[:200]}
        meta: dict[str, Any] = {}
        if event.attachments:
            meta[ATTACHMENTS] = _links(event)
            if not event.text.strip():
                kinds = ", ".join(sorted({a.kind for a in event.attachments}))
                meta[NO_AUTO_REPLY] = f"only an attachment ({kinds}), which the AI cannot see"
        if event.quick_reply:
            meta[QUICK_REPLY] = event.quick_reply
        if event.reply_to:
            meta[REPLY_TO] = reply_to
        # The profile once, with the first message (a retried one finds the thread, and the
        # service keeps the message once by its mid).
        sender = ContactDetails() if known is not None else self._profile(account, event.user_id)
        received = self._conversations.receive(workspace_id, _inbound(event, meta, sender))
        return not received.duplicate

    def _profile(self, account: ChannelAccount, user_id: str) -> ContactDetails:
        """The customer's name from Meta, once (their first message); nothing when the
        token is not allowed to read profiles."""
        token = str(self._accounts.credentials(account).get(ACCESS_TOKEN) or "")
        try:
            found = self._graph.get(user_id, token, {"fields": _PROFILE_FIELDS[account.channel]})
        except GraphError as exc:
            log.info("no profile for %s %s: %s", account.channel, user_id, exc)
            return ContactDetails()
        first = str(found.get("first_name") or "").strip()
        last = str(found.get("last_name") or "").strip()
        if not first and not last:  # Instagram: a display name, else the username
            name = str(found.get("name") or found.get("username") or "").strip()
            first, _, last = name.partition(" ")
        return ContactDetails(first_name=first[:100], last_name=last.strip()[:100])

    # -- echoes -------------------------------------------------------------------------

    def _echo(self, account: ChannelAccount, event: MessageEvent) -> int:
        """Record a message the business sent from Meta's apps; 0 when it is one of ours
        (sent through the Send API) or already recorded."""
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(account.workspace_id)
            conversation = repo.conversations.by_thread(account.channel, event.user_id)
            if conversation is None:
                return 0  # a thread that started before the account was connected here
            recent = repo.messages.for_conversation(conversation.id, limit=_ECHO_MATCH_MESSAGES)
        text = event.text.strip()
        for message in recent:
            if message.direction != Direction.OUTBOUND:
                continue
            parts = (message.meta or {}).get("delivery", {}).get("part_ids") or []
            if event.mid in (message.provider_message_id, *parts):
                return 0
            # Our own send whose answer has not been stored yet (the echo can be faster).
            if (
                text
                and message.delivery_status == DeliveryStatus.QUEUED
                and text in fit(account.channel, message.body)
            ):
                return 0
        meta: dict[str, Any] = {ECHO: True}
        if event.attachments:
            meta[ATTACHMENTS] = _links(event)
        body = text or "(an attachment)"
        recorded = self._conversations.record_external(
            account.workspace_id, conversation.id, body, event.mid, meta
        )
        return 1 if recorded is not None else 0

    # -- statuses -----------------------------------------------------------------------

    def _status(self, account: ChannelAccount, event: StatusEvent) -> int:
        changed = 0
        for mid in event.mids:
            found = self._delivery.update_status(
                account.channel, mid, event.status, workspace_id=account.workspace_id
            )
            changed += found is not None
        if event.watermark is not None:
            changed += self._delivery.update_thread(
                account.workspace_id, account.channel, event.user_id, event.status, event.watermark
            )
        return changed


def _links(event: MessageEvent) -> list[dict[str, str]]:
    """The attachments as the thread lists them: links to Meta's copies, never stored here."""
    return [
        {"name": a.title or a.kind, "content_type": a.kind, "link": a.url}
        for a in event.attachments
    ]


def _inbound(
    event: MessageEvent, meta: dict[str, Any], sender: ContactDetails | None = None
) -> Inbound:
    text = event.text.strip()
    if not text:
        text = f"(sent {', '.join(a.kind for a in event.attachments)})"
    return Inbound(
        channel=event.channel,
        body=text,
        thread_id=event.user_id,
        provider_message_id=event.mid,
        sender=sender or ContactDetails(),
        meta=meta,
    )

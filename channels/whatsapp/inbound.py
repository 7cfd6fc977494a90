"""WhatsApp webhook events into the inbox: messages stored, statuses moved, templates
reviewed.

A verified POST's body reaches ``WhatsAppInbound.handle`` through the webhook job. Each
message is routed by the ``phone_number_id`` it came to, and stored through
``ConversationService.receive`` in the thread of the customer's ``wa_id`` (idempotent on
the wamid: Meta retries), the contact named from their WhatsApp profile and numbered
``+<wa_id>``. Media are downloaded through the Graph media endpoint (size-limited) and
kept as attachments; a location, a shared contact, a caption-less file or an unsupported
message waits for staff. Reactions show on the message they react to. Statuses move our
messages forward only, a failure with WhatsApp's reason; template reviews update the
template.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from dataclasses import dataclass, replace
from typing import Any

from agent.attachments import AttachmentStore
from agent.core.channel_accounts import ChannelAccountService
from agent.core.channel_policy import NO_AUTO_REPLY
from agent.core.contacts import ContactDetails
from agent.core.conversations import ConversationService, Inbound
from agent.core.delivery import DeliveryService
from agent.core.errors import FrontdeskError, ValidationError
from agent.core.models import Channel, ChannelAccount
from agent.core.ports import UnitOfWorkFactory
from agent.core.whatsapp_templates import WhatsAppTemplateService
from channels.meta.graph import GraphClient, GraphError
from channels.meta.sender import ACCESS_TOKEN
from channels.whatsapp.events import WaMessage, WaStatus, parse

log = logging.getLogger(__name__)
WHATSAPP = Channel.WHATSAPP.value
MAX_MEDIA_BYTES = 16 * 1024 * 1024
ATTACHMENTS = "attachments"  # meta: [{"name", "content_type", "size", "stored" | "note"}]
REPLY_TO = "reply_to"
# What WhatsApp's error codes mean, in words staff can act on.
ERRORS = {
    131047: "more than 24 hours since the customer's last message: send a template instead",
    131026: "the number cannot receive it (not on WhatsApp, or an old WhatsApp version)",
    131056: "too many messages to this customer in a short time: wait a moment and retry",
    131049: "Meta held back this marketing message to keep engagement healthy",
    131051: "WhatsApp does not support this kind of message",
    131053: "the media could not be uploaded",
    132000: "the template's parameters do not match",
    132001: "the template does not exist in this language or is not approved",
    132015: "the template is paused",
    132016: "the template is disabled",
    130429: "WhatsApp's rate limit was reached: try again later",
    131000: "something went wrong at WhatsApp",
}
_LEFT_TO_STAFF = {
    "location": "a location, which the AI leaves to your team",
    "contacts": "a shared contact, which the AI leaves to your team",
    "unsupported": "a kind of message WhatsApp does not pass on",
}


def failure_reason(errors: tuple[dict[str, Any], ...]) -> str:
    """A failed status's errors as one readable reason (pure: tested on its own)."""
    reasons = []
    for error in errors:
        code = error.get("code")
        title = str(error.get("title") or error.get("message") or "failed")
        details = str((error.get("error_data") or {}).get("details") or "")
        meaning = ERRORS.get(code) if isinstance(code, int) else None
        text = f"{title} ({code})" if code else title
        reasons.append(" - ".join(x for x in (text, meaning, details) if x))
    return "; ".join(reasons) or "WhatsApp reported a failure"


@dataclass
class HandleResult:
    stored: int = 0
    duplicates: int = 0
    reactions: int = 0
    statuses: int = 0
    templates: int = 0
    dropped: int = 0


class WhatsAppInbound:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        accounts: ChannelAccountService,
        conversations: ConversationService,
        delivery: DeliveryService,
        templates: WhatsAppTemplateService,
        graph: GraphClient,
        attachments: AttachmentStore,
        max_media_bytes: int = MAX_MEDIA_BYTES,
    ) -> None:
        self._uow = uow
        self._accounts = accounts
        self._conversations = conversations
        self._delivery = delivery
        self._templates = templates
        self._graph = graph
        self._attachments = attachments
        self._max_media_bytes = max_media_bytes

    def handle(self, body: bytes) -> HandleResult:
        result = HandleResult()
        try:
            events = parse(json.loads(body))
        except ValueError:
            result.dropped += 1
            return result
        accounts = {n: self._accounts.route(WHATSAPP, n) for n in events.phone_number_ids}
        for message in events.messages:
            account = accounts.get(message.phone_number_id)
            try:
                if account is None:
                    result.dropped += 1
                elif message.kind == "reaction":
                    result.reactions += self._react(account, message)
                elif self._receive(account, message):
                    result.stored += 1
                else:
                    result.duplicates += 1
            except FrontdeskError as error:  # one bad event never costs the others
                log.warning("WhatsApp message %s dropped: %s", message.message_id, error)
                result.dropped += 1
        for status in events.statuses:
            account = accounts.get(status.phone_number_id)
            if account is None:
                result.dropped += 1
            else:
                result.statuses += self._status(account, status)
        for update in events.templates:
            found = self._templates.status_changed(
                update.waba_id, update.name, update.language, update.event, update.reason
            )
            result.templates += found is not None
        return result

    def _receive(self, account: ChannelAccount, event: WaMessage) -> bool:
        workspace_id = account.workspace_id
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(workspace_id)
            seen = repo.messages.by_provider_id(WHATSAPP, event.message_id) is not None
            quoted = (
                repo.messages.by_provider_id(WHATSAPP, event.context_id)
                if event.context_id and not seen
                else None
            )
        if seen:  # a retried webhook: nothing downloaded again
            received = self._conversations.receive(workspace_id, _inbound(event, "(again)", {}))
            return not received.duplicate
        meta: dict[str, Any] = dict(event.details)
        text = event.text.strip()
        if event.media is not None:
            meta[ATTACHMENTS] = [self._media(account, event)]
            if not text:
                text = f"(sent {'a' if event.media.kind != 'image' else 'an'} {event.media.kind})"
                meta[NO_AUTO_REPLY] = f"only {event.media.kind}, which the AI cannot see"
        if event.kind in _LEFT_TO_STAFF:
            meta[NO_AUTO_REPLY] = _LEFT_TO_STAFF[event.kind]
            if event.kind == "unsupported":
                text = "(a message WhatsApp does not support here)"
        if event.payload:
            meta["quick_reply"] = event.payload
        if event.context_id:
            meta[REPLY_TO] = {"mid": event.context_id}
            if quoted is not None:
                meta[REPLY_TO] |= {"message_id": quoted.id, "excerpt": quoted.body[:200]}
        inbound = _inbound(event, text, meta)
        try:
            received = self._conversations.receive(workspace_id, inbound)
        except ValidationError as error:  # a number the contact rules refuse: keep the name
            log.info("WhatsApp sender %s kept without the number: %s", event.wa_id, error)
            sender = ContactDetails(inbound.sender.first_name, inbound.sender.last_name)
            received = self._conversations.receive(workspace_id, replace(inbound, sender=sender))
        return not received.duplicate

    def _media(self, account: ChannelAccount, event: WaMessage) -> dict[str, Any]:
        """Download a media file by its id (two calls: its URL, then the bytes) and store
        it; on failure the entry says why, and the message is kept anyway."""
        media = event.media
        assert media is not None
        extension = mimetypes.guess_extension(media.mime_type.split(";")[0].strip()) or ""
        name = media.filename or f"{media.kind}-{media.media_id}{extension}"
        entry: dict[str, Any] = {"name": name, "content_type": media.mime_type, "size": 0}
        token = str(self._accounts.credentials(account).get(ACCESS_TOKEN) or "")
        try:
            found = self._graph.get(media.media_id, token)
            if int(found.get("file_size") or 0) > self._max_media_bytes:
                raise GraphError(413, message=f"the file is over {self._max_media_bytes:,} bytes")
            data = self._graph.download(str(found.get("url") or ""), token, self._max_media_bytes)
        except GraphError as exc:
            entry["note"] = f"{name}: not stored ({exc})"
            return entry
        entry["size"] = len(data)
        entry["stored"] = self._attachments.save(account.workspace_id, name, data)
        return entry

    def _react(self, account: ChannelAccount, event: WaMessage) -> int:
        found = self._conversations.react(
            account.workspace_id, WHATSAPP, event.reaction_to, event.wa_id, event.text
        )
        return found is not None

    def _status(self, account: ChannelAccount, event: WaStatus) -> int:
        error = failure_reason(event.errors) if event.status == "failed" else ""
        found = self._delivery.update_status(
            WHATSAPP, event.message_id, event.status, error=error, workspace_id=account.workspace_id
        )
        return found is not None


def _inbound(event: WaMessage, text: str, meta: dict[str, Any]) -> Inbound:
    first, _, last = " ".join(event.name.split()).partition(" ")
    return Inbound(
        channel=WHATSAPP,
        body=text,
        thread_id=event.wa_id,
        provider_message_id=event.message_id,
        sender=ContactDetails(
            first_name=first[:100], last_name=last[:100], phone=f"+{event.wa_id}"
        ),
        meta=meta,
    )

"""Twilio's SMS and status webhooks into the inbox (applied by a worker).

A text (``MessageSid``, ``From``, ``To``, ``Body``, ``NumMedia``, ``MediaUrlN``) is routed
by the number it was sent to and stored once per ``MessageSid`` in the sender's SMS
thread; MMS media are downloaded with the account's credentials (size-limited) and kept
as attachments. STOP (and its synonyms) records the opt-out, START lifts it, HELP is
left to Twilio's own answer: none of them reaches the AI. A status callback moves our
message forward (``sent``, ``delivered``) or fails it with what the error code means; an
opt-out reported by the carrier (21610) is recorded too.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from dataclasses import dataclass
from typing import Any

import httpx

from agent.attachments import AttachmentStore
from agent.core.channel_accounts import ChannelAccountService
from agent.core.channel_policy import NO_AUTO_REPLY
from agent.core.contacts import ContactDetails
from agent.core.conversations import ConversationService, Inbound
from agent.core.delivery import DeliveryService
from agent.core.models import Channel, ChannelAccount
from agent.core.sms import keyword
from channels.twilio.sender import meaning

log = logging.getLogger(__name__)
SMS = Channel.SMS.value
MAX_MEDIA_BYTES = 5 * 1024 * 1024  # Twilio's own limit for an MMS
_STATUSES = {"sent": "sent", "delivered": "delivered", "undelivered": "failed", "failed": "failed"}
_KEYWORD_NOTES = {
    "stop": "the customer texted STOP: they get no more texts until they text START",
    "start": "the customer texted START: texts to them are allowed again",
    "help": "the customer asked for HELP (Twilio answers it with your opt-out message)",
}


@dataclass
class HandleResult:
    stored: bool = False
    duplicate: bool = False
    status: str = ""
    dropped: str = ""


class TwilioInbound:
    def __init__(
        self,
        *,
        accounts: ChannelAccountService,
        conversations: ConversationService,
        delivery: DeliveryService,
        attachments: AttachmentStore,
        max_media_bytes: int = MAX_MEDIA_BYTES,
    ) -> None:
        self._accounts = accounts
        self._conversations = conversations
        self._delivery = delivery
        self._attachments = attachments
        self._max_media_bytes = max_media_bytes

    def handle(self, body: bytes) -> HandleResult:
        """One webhook, as the web stored it: ``{"kind": "sms" | "status", "form": {...}}``."""
        found = json.loads(body)
        form = {str(k): str(v) for k, v in dict(found.get("form") or {}).items()}
        if found.get("kind") == "status":
            return self._status(form)
        return self._sms(form)

    def _sms(self, form: dict[str, str]) -> HandleResult:
        account = self._accounts.route(SMS, form.get("To", ""))
        sid, sender = form.get("MessageSid", ""), form.get("From", "")
        if account is None or not sid or not sender:
            return HandleResult(dropped="no connected number, or no MessageSid / From")
        text = form.get("Body", "").strip()
        meta: dict[str, Any] = {}
        said = keyword(text)
        if said:
            self._conversations.sms_opt_out(account.workspace_id, sender, said)
            meta[NO_AUTO_REPLY] = _KEYWORD_NOTES[said]
        count = int(form.get("NumMedia", "0") or 0) if form.get("NumMedia", "0").isdigit() else 0
        if count:
            meta["attachments"] = [self._media(account, form, n) for n in range(min(count, 10))]
            if not text:
                text = f"(sent {count} file{'s' if count > 1 else ''})"
                meta.setdefault(NO_AUTO_REPLY, "only media, which the AI cannot see")
        if not text:
            return HandleResult(dropped="an empty text")
        received = self._conversations.receive(
            account.workspace_id,
            Inbound(
                channel=SMS,
                body=text,
                thread_id=sender,
                provider_message_id=sid,
                sender=ContactDetails(phone=sender),
                meta=meta,
            ),
        )
        return HandleResult(stored=not received.duplicate, duplicate=received.duplicate)

    def _media(self, account: ChannelAccount, form: dict[str, str], n: int) -> dict[str, Any]:
        url, kind = form.get(f"MediaUrl{n}", ""), form.get(f"MediaContentType{n}", "")
        extension = mimetypes.guess_extension(kind.split(";")[0].strip()) or ""
        name = f"{form.get('MessageSid', 'mms')}-{n + 1}{extension}"
        entry: dict[str, Any] = {"name": name, "content_type": kind, "size": 0}
        credentials = self._accounts.credentials(account)
        auth = (str(credentials.get("account_sid")), str(credentials.get("auth_token")))
        try:
            data = _download(url, auth, self._max_media_bytes)
        except (httpx.HTTPError, ValueError) as exc:
            entry["note"] = f"{name}: not stored ({exc})"
            return entry
        entry["size"] = len(data)
        entry["stored"] = self._attachments.save(account.workspace_id, name, data)
        return entry

    def _status(self, form: dict[str, str]) -> HandleResult:
        account = self._accounts.route(SMS, form.get("From", ""))
        sid = form.get("MessageSid", "")
        status = _STATUSES.get(form.get("MessageStatus", ""))
        if account is None or not sid or status is None:
            return HandleResult(dropped="not ours, or a status that changes nothing")
        error = ""
        code = int(form["ErrorCode"]) if form.get("ErrorCode", "").isdigit() else None
        if status == "failed":
            error = f"Twilio error {code}" if code else "the carrier did not deliver it"
            if meaning(code):
                error += f": {meaning(code)}"
            if code == 21610:  # the carrier says they opted out: remember it
                self._conversations.sms_opt_out(account.workspace_id, form.get("To", ""), "stop")
        self._delivery.update_status(
            SMS, sid, status, error=error, workspace_id=account.workspace_id
        )
        return HandleResult(status=status)


def _download(url: str, auth: tuple[str, str], limit: int) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise ValueError("no media URL")
    with httpx.stream("GET", url, auth=auth, timeout=15, follow_redirects=True) as response:
        response.raise_for_status()
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > limit:
                raise ValueError(f"over {limit:,} bytes")
        return bytes(data)

"""The sending side's helpers: the registry of outbound adapters, and what a sender is
handed (a detached copy of the message, a test message), with secrets kept out of errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from agent.core import validation
from agent.core.channel_accounts import mask
from agent.core.errors import ValidationError
from agent.core.models import (
    AuthorKind,
    Channel,
    ChannelAccount,
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    SendingAccount,
    Workspace,
)
from agent.core.ports import Sender


class SenderRegistry:
    """The outbound adapters, one per channel, registered by the composition root."""

    def __init__(self, senders: Mapping[str, Sender] | None = None) -> None:
        self._senders: dict[str, Sender] = {}
        for channel, sender in (senders or {}).items():
            self.register(channel, sender)

    def register(self, channel: str, sender: Sender) -> None:
        self._senders[Channel(channel).value] = sender

    def get(self, channel: str) -> Sender | None:
        return self._senders.get(channel)

    def channels(self) -> frozenset[str]:
        return frozenset(self._senders)


def scrub(reason: str, credentials: Mapping[str, Any]) -> str:
    """A provider's reason without any of the account's secrets in it."""
    for secret in credentials.values():
        secret = str(secret)
        if len(secret) >= 6:
            reason = reason.replace(secret, mask(secret))
    return validation.clean_text(reason)[:2000]


def detached(message: Message, body: str) -> Message:
    """A detached copy with the body as the channel shows it; the stored one is untouched."""
    values = {f.name: getattr(message, f.name) for f in fields(Message)}
    return Message(**{**values, "body": body, "meta": dict(message.meta or {})})


def sending_account(
    account: ChannelAccount, business: str, sender_name: str, credentials: dict[str, Any]
) -> SendingAccount:
    return SendingAccount(
        workspace_id=account.workspace_id,
        channel=account.channel,
        external_id=account.external_id,
        business_name=business,
        sender_name=sender_name,
        settings=dict(account.settings),
        credentials=credentials,
    )


def test_message(
    workspace: Workspace, channel: str, to: str, now: datetime, body: str = ""
) -> tuple[Conversation, Message, Contact]:
    """A short message to ``to`` (an address, a number, or on Messenger and Instagram the id
    Meta gave a person who wrote to the account), checked; never stored. Without ``body``,
    a test message."""
    to = validation.as_text(to, "to").strip()
    thread = None
    if channel == Channel.EMAIL:
        contact = Contact(workspace_id=workspace.id, email=validation.email(to, "to"))
    elif channel in (Channel.MESSENGER, Channel.INSTAGRAM):
        if not re.fullmatch(r"[0-9]{1,30}", to):
            raise ValidationError("to", "the id Meta gave the person (PSID / IGSID), digits")
        contact, thread = Contact(workspace_id=workspace.id), to
    else:
        phone = validation.phone(to, workspace.country, "to")
        contact = Contact(workspace_id=workspace.id, phone=phone)
    contact.source_channel = channel
    conversation = Conversation(
        workspace_id=workspace.id, contact_id=0, channel=channel, provider_thread_id=thread
    )
    message = Message(
        workspace_id=workspace.id,
        conversation_id=0,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.SYSTEM,
        body=body or f"This is a test message from {workspace.name}, sent by frontdesk.",
        channel=channel,
        delivery_status=DeliveryStatus.QUEUED,
        meta={} if body else {"test": True},
        created_at=now,
    )
    return conversation, message, contact

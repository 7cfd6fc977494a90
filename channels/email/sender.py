"""The email channel's outbound adapter: the core's ``Sender`` port over SMTP.

One stored message becomes one mail: From is the business (or "Sam at Bayview" on a
staff reply) at its public address, or at the inbound address when none is set; Reply-To
carries the conversation's signed token and the Message-ID names the conversation too,
so the customer's answer finds its way back even when their client drops one of them.
The Message-ID is the provider id we return, so a bounce can mark the message failed.
The envelope sender is the inbound address: bounces come back to our own SMTP server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from agent.core.channel_accounts import PUBLIC_ADDRESS
from agent.core.errors import PermanentSendError
from agent.core.models import AuthorKind, Contact, Conversation, Message, SendingAccount, SendResult
from channels.email.addresses import message_id, reply_address
from channels.email.compose import build_email, reply_subject, sender_name
from channels.email.history import MailThread

_GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening))\b", re.I)


class MailTransport(Protocol):
    """What sends a built mail (``SmtpMailSender``), raising the core's send errors."""

    def send(
        self,
        message: EmailMessage,
        *,
        envelope_from: str | None = None,
        recipients: list[str] | None = None,
    ) -> None: ...


ThreadLookup = Callable[[int, int], MailThread]  # (workspace id, conversation id)


class EmailSender:
    def __init__(
        self,
        transport: MailTransport,
        key: bytes,
        thread: ThreadLookup,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._transport = transport
        self._key = key
        self._thread = thread
        self._clock = clock

    def send(
        self,
        account: SendingAccount,
        conversation: Conversation,
        message: Message,
        contact: Contact,
    ) -> SendResult:
        if not contact.email:
            raise PermanentSendError(f"{contact.display_name} has no email address")
        inbound = account.external_id
        public = str(account.settings.get(PUBLIC_ADDRESS) or "") or inbound
        staff = message.author_kind == AuthorKind.STAFF
        person = (
            account.sender_name if staff and account.sender_name != account.business_name else None
        )
        from_name = sender_name(account.business_name, person)
        mail_id = message_id(inbound, conversation.id or 0, self._key)
        if conversation.id:  # a real conversation (a test message has none)
            thread = self._thread(account.workspace_id, conversation.id)
            replies_to = reply_address(inbound, conversation.id, self._key)
            subject = f"A message from {account.business_name}"
            if thread.subject or thread.in_reply_to:  # an answer: "Re: <their subject>"
                subject = reply_subject(thread.subject, fallback=subject)
        else:
            thread, replies_to = MailThread(), None
            subject = f"Test message from {account.business_name}"
        body = message.body
        if message.author_kind == AuthorKind.AI:
            body = _greeted(body, contact.first_name, account.business_name)
        mail = build_email(
            from_name=from_name,
            from_address=public,
            to=contact.email,
            subject=subject,
            body=body,
            message_id=mail_id,
            reply_to=replies_to,
            in_reply_to=thread.in_reply_to,
            references=thread.references,
            auto_reply=message.author_kind == AuthorKind.AI,
            date=self._clock() if self._clock else None,
        )
        self._transport.send(mail, envelope_from=inbound, recipients=[contact.email])
        return SendResult(mail_id)


def _greeted(body: str, first_name: str, business: str) -> str:
    """An AI answer as a mail: a greeting (unless it has one) and the business's sign-off."""
    body = body.strip()
    if not _GREETING.match(body):
        body = f"Hi {first_name.strip()},\n\n{body}" if first_name.strip() else f"Hello,\n\n{body}"
    return f"{body}\n\n{business}".strip()

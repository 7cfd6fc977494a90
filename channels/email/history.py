"""What an outbound mail needs to know about its conversation's earlier mails.

The inbound side keeps each customer mail's headers on its message's meta (``EMAIL``);
the sender reads them back here so its answer threads under the customer's last mail
(In-Reply-To, References, "Re: <their subject>") in every mail client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.core.models import Direction
from agent.core.ports import UnitOfWorkFactory

EMAIL = "email"  # the message meta key holding a mail's headers
HISTORY = 50  # how many of the newest messages are looked through


@dataclass(frozen=True)
class MailThread:
    """The customer's last mail in a conversation (or our own last one)."""

    subject: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


def headers_meta(
    *, message_id: str | None, references: tuple[str, ...], subject: str, sender: str, to: str
) -> dict[str, Any]:
    """The headers of an inbound mail, as kept on its message's meta."""
    return {
        "message_id": message_id,
        "references": list(references),
        "subject": subject,
        "from": sender,
        "to": to,
    }


def mail_thread(uow: UnitOfWorkFactory, workspace_id: int, conversation_id: int) -> MailThread:
    """Threading headers for the next mail in the conversation: under the customer's last
    mail when there is one, else under our own last sent mail (a thread staff started)."""
    with uow(read_only=True) as unit:
        messages = unit.workspace(workspace_id).messages.for_conversation(
            conversation_id, limit=HISTORY
        )
    ours: str | None = None
    for message in reversed(messages):
        headers = (message.meta or {}).get(EMAIL)
        if message.direction == Direction.INBOUND and isinstance(headers, dict):
            mid = headers.get("message_id") or None
            refs = tuple(str(r) for r in headers.get("references") or () if r)
            return MailThread(str(headers.get("subject") or ""), mid, refs)
        if message.direction == Direction.OUTBOUND and message.provider_message_id and not ours:
            ours = message.provider_message_id
    return MailThread(in_reply_to=ours)

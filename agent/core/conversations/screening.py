"""Screening an inbound message for spam: the facts ``agent.core.spam`` judges, gathered
from the thread and the workspace's sender rules."""

from __future__ import annotations

from collections.abc import Sequence

from agent.core import spam
from agent.core.models import Contact, Conversation, Direction, SenderRule
from agent.core.ports import WorkspaceScope
from agent.core.spam import Candidate, Verdict

SPAM_META = "spam"  # message meta: why this message was held
EARLIER = 20  # the customer's earlier messages read for the "repeated" signal


def screen(
    repo: WorkspaceScope,
    rules: Sequence[SenderRule],
    conversation: Conversation,
    contact: Contact,
    body: str,
    *,
    sender_email: str = "",
    sender_phone: str = "",
) -> Verdict | None:
    """The verdict on one inbound message (before it is added to the thread), given the
    workspace's sender ``rules``."""
    emails = {e for e in (contact.email, sender_email.strip().lower()) if e}
    keys = spam.sender_keys(contact.id, "", contact.phone)
    for email in sorted(emails):
        keys += spam.sender_keys(None, email, "")
    earlier: list[str] = []
    if conversation.id is not None and len(" ".join(body.split())) >= spam.REPEAT_MIN_CHARS:
        earlier = repo.messages.recent_bodies(conversation.id, Direction.INBOUND, EARLIER)
    candidate = Candidate(
        body=body,
        channel=conversation.channel,
        sender_email=sender_email or contact.email,
        sender_phone=sender_phone,
        earlier=earlier,
    )
    wanted = set(keys)
    return spam.judge([r for r in rules if (r.kind, r.value) in wanted], candidate)

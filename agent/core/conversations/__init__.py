"""The conversation service: the one entry point channels, the inbox and the agent call.

Rules it owns:
- inbound messages are persisted before anything else and are idempotent on the
  provider's message id, so a retried webhook never duplicates;
- a visitor message reaches the AI only while the conversation is open and in AI mode;
  a new inbound message reopens a closed conversation (and gives it back to the AI);
- staff take over, reply (which implies taking over), hand back, close and reopen;
- domain events are published after the transaction commits;
- outbound messages on provider channels are stored ``queued``, then handed to the outbox
  (``agent.core.delivery`` sends them); the AI never answers on a channel whose
  auto-reply is off (``agent.core.channel_policy``).

``ConversationService`` is composed from one mixin per seam, each in its own module:
``inbound`` (receiving), ``outbound`` (staff and AI replies, starting a conversation),
``handover`` (who has the conversation, and whether it is open), ``spam`` (blocking
senders, releasing what was wrongly held), ``automated`` (what automation rules do),
``calls`` (phone calls,
spoken answers, texts after a call) and ``contacts`` (who it is with), all on the
constructor and event helpers of ``base``.
"""

from __future__ import annotations

from agent.core.conversations.automated import AutomatedMixin
from agent.core.conversations.base import Limits
from agent.core.conversations.calls import CallsMixin
from agent.core.conversations.contacts import ContactsMixin
from agent.core.conversations.handover import HandoverMixin
from agent.core.conversations.inbound import Inbound, InboundMixin, Received
from agent.core.conversations.outbound import OutboundMixin
from agent.core.conversations.spam import SpamMixin

__all__ = ["ConversationService", "Inbound", "Limits", "Received"]


class ConversationService(
    SpamMixin,
    InboundMixin,
    OutboundMixin,
    CallsMixin,
    AutomatedMixin,
    HandoverMixin,
    ContactsMixin,
):
    """Receive, reply, hand over, close and reopen conversations; record who they are with.

    Built as ``ConversationService(uow, events, dispatcher, clock, limits=None,
    outbox=None)``; ``outbox`` (a ``DeliveryQueue``) receives every stored outbound message
    on a provider channel, for ``agent.core.delivery``.
    """

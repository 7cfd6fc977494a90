"""Domain events and the in-process bus the realtime layer and notifications subscribe to.

Events carry ids, not objects, so a subscriber in another process (via Redis) sees the
same shape. The service publishes them only after its transaction commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    workspace_id: int


@dataclass(frozen=True)
class ConversationEvent(Event):
    conversation_id: int


@dataclass(frozen=True)
class MessageCreated(ConversationEvent):
    message_id: int
    author_kind: str


@dataclass(frozen=True)
class MessageStatusChanged(ConversationEvent):
    """An outbound message moved on (sent, delivered, read) or failed, or is retried."""

    message_id: int
    status: str


@dataclass(frozen=True)
class ConversationUpdated(ConversationEvent):
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LeadCaptured(ConversationEvent):
    contact_id: int


@dataclass(frozen=True)
class AppointmentBooked(Event):
    appointment_id: int


@dataclass(frozen=True)
class AppointmentCancelled(Event):
    appointment_id: int


@dataclass(frozen=True)
class ProfileChanged(Event):
    """The business profile changed: its knowledge document must be regenerated."""


@dataclass(frozen=True)
class KnowledgeSourceUpdated(Event):
    """A knowledge source's status or progress changed, or it was removed (admins watch it)."""

    source_id: int
    status: str = ""  # "" when the source is gone
    progress_done: int = 0
    progress_total: int = 0


@dataclass(frozen=True)
class MemberAccessChanged(Event):
    """A member was removed, changed role or signed out: their live connections must end
    (they reconnect, if still allowed, with what they may see now)."""

    member_id: int


Handler = Callable[[Event], None]


class EventBus:
    """Synchronous publish/subscribe; a failing subscriber is logged and never undoes a commit."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, event: Event) -> None:
        for event_type, handlers in self._handlers.items():
            if isinstance(event, event_type):
                for handler in handlers:
                    try:
                        handler(event)
                    except Exception:
                        log.exception("event handler %r failed for %r", handler, event)

"""A new message to every live view of it, read once: staff's inbox and the visitor's chat.

Each view ``prepare``s what it will send from one shared read session (the conversation
and the message are loaded once), and sends after the session has ended, so no emit
waits inside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from agent.core.events import Event, EventBus, MessageCreated
from agent.core.ports import UnitOfWorkFactory, WorkspaceScope


class MessageView(Protocol):
    def prepare(self, repo: WorkspaceScope, event: Event) -> Callable[[], None]: ...


class MessageFanout:
    def __init__(self, uow: UnitOfWorkFactory, views: Sequence[MessageView]) -> None:
        self._uow = uow
        self._views = list(views)

    def attach(self, events: EventBus) -> None:
        events.subscribe(MessageCreated, self.on_message)

    def on_message(self, event: Event) -> None:
        assert isinstance(event, MessageCreated)
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            # Held here, so each view's read of them comes from the session's identity map
            # (which keeps only what something still references).
            held = (
                repo.conversations.get(event.conversation_id),
                repo.messages.get(event.message_id),
            )
            sends = [view.prepare(repo, event) for view in self._views]
            del held
        for send in sends:
            send()

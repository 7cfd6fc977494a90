"""A new message to every live view of it, read once: staff's inbox and the visitor's chat.

Each view ``prepare``s what it will send from one shared read session (the message, its
conversation, contact, workspace and named team members are loaded in one query), and
sends after the session has ended, so no emit waits inside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from agent.core.events import Event, EventBus, MessageCreated
from agent.core.ports import UnitOfWorkFactory, WorkspaceScope


class MessageView(Protocol):
    def prepare(self, repo: WorkspaceScope, event: Event) -> Callable[[], None]: ...


class MessageFanout:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        views: Sequence[MessageView],
        batch: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        """``batch``: the views' emits made inside it are published together (one Redis
        message to the other processes; ``web.rooms.batch_of``)."""
        self._uow = uow
        self._views = list(views)
        self._batch = batch

    def attach(self, events: EventBus) -> None:
        events.subscribe(MessageCreated, self.on_message)

    def on_message(self, event: Event) -> None:
        assert isinstance(event, MessageCreated)
        with self._uow(read_only=True) as uow:
            repo = uow.workspace(event.workspace_id)
            repo.messages.preload(event.message_id)  # at most one query for what views read
            sends = [view.prepare(repo, event) for view in self._views]
        with self._batch():
            for send in sends:
                send()

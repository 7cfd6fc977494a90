"""At-least-once AI turns: visitor messages that nobody answered are dispatched again.

A turn job can be lost (a worker killed after taking it from the queue and before
registering it) or abandoned (a worker killed mid-turn). So every 15 s one process
sweeps: the newest message of an open, AI-mode conversation that is the
visitor's (and the AI may answer: not one its channel leaves to staff), older than
``min_age`` and younger than ``max_age``, with no turn running for
its conversation (turn locks are short-lived and renewed by a live holder), gets its
turn dispatched again. The turn runner's "already answered" check keeps the effect
exactly-once when the original turn was only slow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from agent.core.channel_accounts import ai_may_answer
from agent.core.channel_policy import message_blocks_ai
from agent.core.ports import Clock, Locks, TurnDispatcher, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Redelivered:
    workspace_id: int
    conversation_id: int
    message_id: int


class TurnSweeper:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        dispatcher: TurnDispatcher,
        locks: Locks,
        clock: Clock,
        *,
        min_age: timedelta = timedelta(seconds=45),
        max_age: timedelta = timedelta(minutes=15),
    ) -> None:
        self._uow = uow
        self._dispatcher = dispatcher
        self._locks = locks
        self._clock = clock
        self._min_age, self._max_age = min_age, max_age

    def sweep(self) -> list[Redelivered]:
        """Dispatch the turns that should have run by now; returns what it dispatched."""
        now = self._clock()
        waiting: list[Redelivered] = []
        with self._uow(read_only=True) as uow:
            for workspace in uow.workspaces():
                repo = uow.workspace(workspace.id)
                for conversation_id, message_id in repo.conversations.awaiting_reply(
                    since=now - self._max_age, until=now - self._min_age
                ):
                    # Waiting for staff on purpose: the channel's AI auto-reply is off, or
                    # the channel kept this message from the AI (a loop, an attachment).
                    message = repo.messages.get(message_id)
                    if not ai_may_answer(repo, message.channel) or message_blocks_ai(message.meta):
                        continue
                    waiting.append(Redelivered(workspace.id, conversation_id, message_id))
        dispatched = []
        for item in waiting:
            if self._locks.held(f"conversation:{item.conversation_id}"):
                continue  # a turn is running for it right now
            log.warning(
                "message %s in conversation %s got no answer: dispatching its turn again",
                item.message_id,
                item.conversation_id,
            )
            self._dispatcher.dispatch(item.workspace_id, item.conversation_id, item.message_id)
            dispatched.append(item)
        return dispatched

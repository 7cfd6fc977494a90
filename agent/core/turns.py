"""Running one AI turn safely: one at a time per conversation, idempotent, mode-aware."""

from __future__ import annotations

import logging
from enum import StrEnum

from agent.core.channel_accounts import ai_may_answer
from agent.core.channel_policy import message_blocks_ai
from agent.core.models import ConversationStatus, Mode
from agent.core.ports import Locks, Responder, UnitOfWorkFactory

log = logging.getLogger(__name__)


class TurnOutcome(StrEnum):
    ANSWERED = "answered"
    ALREADY_ANSWERED = "already_answered"
    NOT_AI = "not_ai"  # a human owns it, it is closed, or its channel's AI auto-reply is off


class TurnRunner:
    """What a queued turn job does; kept free of rq so it can be tested and reused inline."""

    def __init__(self, uow: UnitOfWorkFactory, locks: Locks, responder: Responder) -> None:
        self._uow = uow
        self._locks = locks
        self._responder = responder

    def run(self, workspace_id: int, conversation_id: int, message_id: int) -> TurnOutcome:
        with self._locks.hold(f"conversation:{conversation_id}"):
            with self._uow() as uow:
                repo = uow.workspace(workspace_id)
                conversation = repo.conversations.get(conversation_id)
                message = repo.messages.get(message_id)  # must exist in this workspace
                if conversation.mode != Mode.AI or conversation.status != ConversationStatus.OPEN:
                    return TurnOutcome.NOT_AI
                if not ai_may_answer(repo, conversation.channel):
                    return TurnOutcome.NOT_AI  # the channel's auto-reply is off
                if message_blocks_ai(message.meta):
                    return TurnOutcome.NOT_AI  # e.g. an auto-reply or list mail: staff only
                if repo.messages.reply_to(message_id) is not None:
                    return TurnOutcome.ALREADY_ANSWERED
            self._responder.respond(workspace_id, conversation_id, message_id)
            return TurnOutcome.ANSWERED

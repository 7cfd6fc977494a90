"""Who has a conversation, and whether it is open: staff take over and hand back to the AI,
the AI hands off to the team, and anyone closes or reopens it. Each change leaves an
internal note in the thread."""

from __future__ import annotations

from agent.core import validation
from agent.core.conversations.base import ServiceBase
from agent.core.errors import Conflict
from agent.core.events import Event
from agent.core.models import Conversation, ConversationStatus, Mode
from agent.core.ports import WorkspaceScope


class HandoverMixin(ServiceBase):
    # -- staff actions ---------------------------------------------------------

    def take_over(self, workspace_id: int, conversation_id: int, member_id: int) -> Conversation:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            events = self._take_over(repo, conversation, member.id, member.name)
            uow.commit()
        self._publish(events)
        return conversation

    def _take_over(
        self, repo: WorkspaceScope, conversation: Conversation, member_id: int, name: str
    ) -> list[Event]:
        if conversation.mode == Mode.HUMAN and conversation.assignee_id == member_id:
            return []
        conversation.mode = Mode.HUMAN
        conversation.assignee_id = member_id
        conversation.updated_at = self._clock()
        note = self._activity(repo, conversation, f"{name} took over the conversation", member_id)
        return [self._updated(conversation, mode="human", assignee_id=member_id), note]

    def release(self, workspace_id: int, conversation_id: int, member_id: int) -> Conversation:
        """Hand the conversation back to the AI receptionist."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            events: list[Event] = []
            if conversation.mode != Mode.AI:
                conversation.mode = Mode.AI
                conversation.assignee_id = None
                conversation.updated_at = self._clock()
                events = [
                    self._updated(conversation, mode="ai", assignee_id=None),
                    self._activity(
                        repo,
                        conversation,
                        f"{member.name} handed the conversation back to the AI",
                        member.id,
                    ),
                ]
            uow.commit()
        self._publish(events)
        return conversation

    def close(
        self, workspace_id: int, conversation_id: int, member_id: int | None = None
    ) -> Conversation:
        return self._change_status(
            workspace_id, conversation_id, ConversationStatus.CLOSED, member_id
        )

    def reopen(
        self, workspace_id: int, conversation_id: int, member_id: int | None = None
    ) -> Conversation:
        return self._change_status(
            workspace_id, conversation_id, ConversationStatus.OPEN, member_id
        )

    def _change_status(
        self,
        workspace_id: int,
        conversation_id: int,
        status: ConversationStatus,
        member_id: int | None,
    ) -> Conversation:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            who = repo.team.get(member_id).name if member_id is not None else "The AI receptionist"
            conversation = repo.conversations.get(conversation_id, for_update=True)
            events = self._set_status(repo, conversation, status, who)
            uow.commit()
        self._publish(events)
        return conversation

    def _set_status(
        self,
        repo: WorkspaceScope,
        conversation: Conversation,
        status: ConversationStatus,
        who: str,
    ) -> list[Event]:
        if conversation.status == status:
            return []
        if conversation.status == ConversationStatus.SPAM:
            raise Conflict("This conversation is in Spam: mark it as not spam first.")
        now = self._clock()
        conversation.status = status
        conversation.closed_at = now if status == ConversationStatus.CLOSED else None
        conversation.updated_at = now
        verb = "closed" if status == ConversationStatus.CLOSED else "reopened"
        note = self._activity(repo, conversation, f"{who} {verb} the conversation")
        return [self._updated(conversation, status=status.value), note]

    # -- the AI's side ---------------------------------------------------------

    def hand_off(self, workspace_id: int, conversation_id: int, reason: str) -> bool:
        """The AI passes the conversation to the team; it stays silent until released.

        False when a person already has it (they took over while the AI was thinking)."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            events: list[Event] = []
            handed = conversation.mode != Mode.HUMAN
            if handed:
                conversation.mode = Mode.HUMAN
                conversation.updated_at = self._clock()
                text = "The AI receptionist handed the conversation to the team"
                reason = validation.name(reason, "reason", 500)
                events = [
                    self._updated(conversation, mode="human", handoff=reason),
                    self._activity(repo, conversation, f"{text}: {reason}" if reason else text),
                ]
            uow.commit()
        self._publish(events)
        return handed

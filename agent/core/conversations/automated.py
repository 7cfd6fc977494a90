"""What an automation rule does to a conversation: assign it, tag its contact, close it,
or send a saved reply on its channel. Each leaves an internal note naming the rule, so
staff can tell what happened and why."""

from __future__ import annotations

from agent.core import validation
from agent.core.channel_policy import check_length
from agent.core.conversations.handover import HandoverMixin
from agent.core.errors import Conflict
from agent.core.models import AuthorKind, Contact, Conversation, ConversationStatus, Message


class AutomatedMixin(HandoverMixin):
    def assign(self, workspace_id: int, conversation_id: int, member_id: int, by: str) -> bool:
        """Give the conversation to a member (whoever answers: the AI carries on in AI mode);
        False when it was theirs already."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            if conversation.assignee_id == member.id:
                return False
            conversation.assignee_id = member.id
            conversation.updated_at = self._clock()
            note = self._activity(
                repo, conversation, f"{by} assigned the conversation to {member.name}"
            )
            uow.commit()
        self._publish([self._updated(conversation, assignee_id=member.id), note])
        return True

    def tag_contact(
        self, workspace_id: int, contact_id: int, tag: str, by: str, conversation_id: int | None
    ) -> bool:
        """Add a tag to a contact (noted in the conversation); False when it had it."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            contact: Contact = repo.contacts.get(contact_id)
            if tag in (contact.tags or []):
                return False
            contact.tags = [*(contact.tags or []), tag]  # a new list, so the change is saved
            contact.updated_at = self._clock()
            events = []
            if conversation_id is not None:
                conversation = repo.conversations.get(conversation_id)
                events = [
                    self._updated(conversation, tags=list(contact.tags)),
                    self._activity(repo, conversation, f"{by} tagged the contact “{tag}”"),
                ]
            uow.commit()
        self._publish(events)
        return True

    def close_as(self, workspace_id: int, conversation_id: int, by: str) -> bool:
        """Close the conversation on a rule's behalf; False when it was closed already."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            events = self._set_status(repo, conversation, ConversationStatus.CLOSED, by)
            uow.commit()
        self._publish(events)
        return bool(events)

    def automated_message(
        self, workspace_id: int, conversation_id: int, body: str, by: str
    ) -> Message:
        """Send ``body`` on the conversation's channel as the business, within the channel's
        rules (Messenger's and WhatsApp's 24-hour window, SMS opt-outs): refused outside."""
        body = validation.message_body(body, self._limits.max_message_chars)
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            conversation: Conversation = repo.conversations.get(conversation_id, for_update=True)
            if conversation.status == ConversationStatus.SPAM:
                raise Conflict("the conversation is in Spam")
            check_length(conversation.channel, body)
            window = self._window(repo, conversation)
            if not window.ai:  # a rule is not a person: Meta's human-agent grace is not its
                raise Conflict(window.reason)
            self._sms_check(repo, conversation, body)
            message = self._outbound(
                repo, conversation, body, AuthorKind.AI, meta={"automation": by}
            )
            uow.commit()
        self._publish([self._created(message)])
        self._send(message)
        return message

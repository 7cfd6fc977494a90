"""Spam in the conversation service: screening inbound messages, blocking senders, and
releasing a conversation that was wrongly held.

A spam message is stored like any other (nothing is lost) but its conversation moves to
the Spam view (``ConversationStatus.SPAM`` with a reason): no events are published for it,
so no notification, lead email, webhook or live inbox row, and the AI never answers it.
The rules themselves are in ``agent.core.spam``.
"""

from __future__ import annotations

from agent.core import spam, validation
from agent.core.conversations.inbound import InboundMixin, Received
from agent.core.conversations.screening import SPAM_META
from agent.core.errors import Conflict, ValidationError
from agent.core.events import Event
from agent.core.models import (
    Conversation,
    ConversationStatus,
    Direction,
    SenderRule,
    SenderRuleKind,
    SenderVerdict,
)
from agent.core.ports import WorkspaceScope


class SpamMixin(InboundMixin):
    def release_spam(self, workspace_id: int, conversation_id: int, member_id: int) -> Conversation:
        """Not spam: back to the inbox, the sender remembered as good (never flagged
        automatically again, and unblocked), then handled like any new message: staff are
        told, and the AI answers if the conversation is in AI mode."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            if conversation.status != ConversationStatus.SPAM:
                raise Conflict("This conversation is not in the Spam view.")
            contact = repo.contacts.get(conversation.contact_id)
            for kind, value in spam.sender_keys(contact.id, contact.email, contact.phone):
                if kind != SenderRuleKind.DOMAIN:
                    self._set_rule(repo, kind, value, SenderVerdict.GOOD, member.email)
            now = self._clock()
            conversation.status = ConversationStatus.OPEN
            conversation.spam_reason = ""
            conversation.closed_at = None
            conversation.updated_at = now
            inbound = [
                m
                for m in repo.messages.for_conversation(conversation_id)
                if m.direction == Direction.INBOUND
            ]
            # Held from its first message: nobody has heard of the conversation yet.
            unseen = bool(inbound) and SPAM_META in (inbound[0].meta or {})
            changes = {"status": "open", **({"created": True} if unseen else {})}
            events: list[Event] = [self._updated(conversation, **changes)]
            events.append(
                self._activity(repo, conversation, f"{member.name} marked this as not spam")
            )
            newest = inbound[-1] if inbound else None
            routed = newest is not None and self._awaits_ai(repo, conversation, newest)
            uow.commit()
        self._sender_rules.forget(workspace_id)
        if newest is not None:
            events.append(self._created(newest))  # held until now: staff hear of it now
        self._publish(events)
        if newest is not None and routed:
            self._dispatch(Received(newest, conversation, False, True))
        return conversation

    def block_sender(
        self,
        workspace_id: int,
        member_id: int,
        kind: str,
        value: str,
        *,
        conversation_id: int | None = None,
    ) -> SenderRule:
        """Block a contact, email address, email domain or phone number: their next
        messages go to the Spam view. Given a conversation, it moves there now too."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            member = repo.team.get(member_id)
            kind, value = _rule_value(repo, kind, value)
            rule = self._set_rule(repo, kind, value, SenderVerdict.BLOCKED, member.email)
            events: list[Event] = []
            if conversation_id is not None:
                conversation = repo.conversations.get(conversation_id, for_update=True)
                if conversation.status != ConversationStatus.SPAM:
                    note = self._activity(
                        repo, conversation, f"{member.name} blocked {spam.rule_label(rule)}"
                    )
                    conversation.status = ConversationStatus.SPAM
                    conversation.spam_reason = f"blocked sender ({spam.rule_label(rule)})"
                    conversation.updated_at = self._clock()
                    events += [self._updated(conversation, status="spam"), note]
            uow.commit()
        self._sender_rules.forget(workspace_id)
        self._publish(events)
        return rule

    def unblock_sender(self, workspace_id: int, kind: str, value: str) -> bool:
        """Lift a block (conversations already in the Spam view stay there until released).
        False when it was not blocked."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            kind, value = _rule_value(repo, kind, value)
            rule = repo.sender_rules.get(kind, value)
            if rule is None or rule.verdict != SenderVerdict.BLOCKED:
                return False
            repo.delete(rule)
            uow.commit()
        self._sender_rules.forget(workspace_id)
        return True

    def forget_sender(self, workspace_id: int, kind: str, value: str) -> bool:
        """Drop a rule whatever it says: a block is lifted, a sender known as good may be
        flagged automatically again. False when there was no rule."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            kind, value = _rule_value(repo, kind, value)
            rule = repo.sender_rules.get(kind, value)
            if rule is None:
                return False
            repo.delete(rule)
            uow.commit()
        self._sender_rules.forget(workspace_id)
        return True

    def _set_rule(
        self, repo: WorkspaceScope, kind: str, value: str, verdict: str, who: str
    ) -> SenderRule:
        rule = repo.sender_rules.get(kind, value)
        if rule is None:
            rule = SenderRule(workspace_id=repo.workspace_id, kind=kind, value=value, verdict="")
            repo.add(rule)
        rule.verdict = verdict
        rule.created_by = who
        rule.created_at = self._clock()
        repo.flush()
        return rule


def _rule_value(repo: WorkspaceScope, kind: str, value: str) -> tuple[str, str]:
    """The rule's kind and its value in the form senders are matched by (E.164 phones,
    lowercase addresses); a clear error for anything else."""
    value = validation.as_text(value, "value").strip()
    try:
        kind = SenderRuleKind(kind).value
    except ValueError:
        raise ValidationError("kind", "must be contact, email, domain or phone") from None
    if not value:
        raise ValidationError(kind, "is empty")
    if kind == SenderRuleKind.CONTACT:
        if not value.isdigit():
            raise ValidationError("contact", "must be a contact id")
        repo.contacts.get(int(value))  # NotFound for another workspace's contact
    elif kind == SenderRuleKind.EMAIL:
        value = validation.email(value).lower()
    elif kind == SenderRuleKind.PHONE:
        value = validation.phone(value, repo.workspace().country)
    else:
        value = value.lower().lstrip("@").rstrip(".")
        if "." not in value or "@" in value or " " in value or len(value) > 253:
            raise ValidationError("domain", f"{value!r} is not an email domain")
    return kind, value

"""Privacy requests: everything we hold about one person, handed over or erased.

A person may ask for their data (``export``: one JSON document) or to be forgotten
(``delete``: the contact, their conversations and messages, their appointments, the team
notifications about them, their files and the AI's memory of their conversations).
Both leave a line in the audit log naming who did it and the contact's id, with counts:
never the personal data itself, or the log would keep what was erased.

The SMS opt-out of their number is exported but kept on deletion: it is what stops
anyone texting them again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

from agent.core.conversations.calls import CALL
from agent.core.models import (
    Appointment,
    AuditEntry,
    Contact,
    Conversation,
    Message,
    Notification,
    SenderRuleKind,
)
from agent.core.ports import (
    AttachmentFiles,
    Clock,
    ConversationMemory,
    UnitOfWorkFactory,
    WorkspaceScope,
)

log = logging.getLogger(__name__)

EXPORT_FORMAT = "frontdesk contact export"
EXPORT_VERSION = 1
EXPORTED = "contact.exported"
DELETED = "contact.deleted"


@dataclass(frozen=True)
class Deletion:
    """What a deletion removed, in counts (the audit line's detail)."""

    contact_id: int
    conversations: int = 0
    messages: int = 0
    appointments: int = 0
    notifications: int = 0
    files: int = 0
    # Files the messages named that were already gone (or could not be removed).
    files_missing: int = 0
    # Call recordings stay with the phone provider (Twilio): their ids, to delete there.
    recordings: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, int]:
        values = asdict(self)
        values["recordings"] = len(self.recordings)
        return values


class PrivacyService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        files: AttachmentFiles,
        memory: ConversationMemory | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._files = files
        self._memory = memory

    def preview(self, workspace_id: int, contact_id: int) -> Deletion:
        """What ``delete`` would remove, counted, to show before asking to confirm."""
        with self._uow(read_only=True) as uow:
            return _gather(uow.workspace(workspace_id), contact_id).counts()

    def export(self, workspace_id: int, contact_id: int, *, actor: str) -> dict[str, Any]:
        """Everything about the contact as plain JSON values; NotFound if not theirs."""
        with self._uow() as uow:
            scope = uow.workspace(workspace_id)
            document = _document(scope, contact_id, self._clock())
            counts = {
                "conversations": len(document["conversations"]),
                "messages": sum(len(c["messages"]) for c in document["conversations"]),
            }
            scope.add(self._entry(workspace_id, actor, EXPORTED, contact_id, counts))
            uow.commit()
        return document

    def delete(self, workspace_id: int, contact_id: int, *, actor: str) -> Deletion:
        """Erase the contact and everything keyed to them; NotFound if not theirs.

        The rows go in one transaction with the audit line; files and the AI's memory
        only after it committed, so a failure never leaves rows pointing at lost files.
        """
        with self._uow() as uow:
            scope = uow.workspace(workspace_id)
            found = _gather(scope, contact_id)
            # Children first: SQLite and PostgreSQL both check the foreign keys per flush.
            for group in found.in_deletion_order():
                for record in group:
                    scope.delete(record)
                scope.flush()
            # A block or "known good" on the contact's id must not pass to a later contact.
            rule = scope.sender_rules.get(SenderRuleKind.CONTACT, str(contact_id))
            if rule is not None:
                scope.delete(rule)
            removed = found.counts()
            scope.add(self._entry(workspace_id, actor, DELETED, contact_id, removed.summary()))
            uow.commit()
        stored = found.stored_files()
        ids = [c.id for c in found.conversations]
        missing = sum(not self._remove_file(workspace_id, name) for name in stored)
        if self._memory is not None:
            for conversation_id in ids:
                self._memory.forget(workspace_id, conversation_id)
        return replace(removed, files_missing=missing)

    def _remove_file(self, workspace_id: int, stored: str) -> bool:
        try:
            return self._files.remove(workspace_id, stored)
        except OSError as exc:
            log.warning("attachment %s of workspace %s not removed: %s", stored, workspace_id, exc)
            return False

    def _entry(
        self, workspace_id: int, actor: str, action: str, contact_id: int, detail: dict[str, Any]
    ) -> AuditEntry:
        return AuditEntry(
            workspace_id=workspace_id,
            actor=actor,
            action=action,
            subject=f"contact:{contact_id}",
            detail=detail,
            created_at=self._clock(),
        )


@dataclass
class _Found:
    """Everything keyed to one contact, loaded in one unit of work."""

    contact: Contact
    conversations: list[Conversation]
    messages: list[Message]
    appointments: list[Appointment]
    notifications: list[Notification]

    def in_deletion_order(self) -> list[list[Any]]:
        return [
            self.notifications,
            self.appointments,
            self.messages,
            self.conversations,
            [self.contact],
        ]

    def stored_files(self) -> list[str]:
        return [name for m in self.messages for name in _stored_files(m)]

    def counts(self) -> Deletion:
        assert self.contact.id is not None
        return Deletion(
            contact_id=self.contact.id,
            conversations=len(self.conversations),
            messages=len(self.messages),
            appointments=len(self.appointments),
            notifications=len(self.notifications),
            files=len(self.stored_files()),
            recordings=tuple(sid for m in self.messages if (sid := _recording_sid(m))),
        )


def _gather(scope: WorkspaceScope, contact_id: int) -> _Found:
    contact = scope.contacts.get(contact_id)
    conversations = list(scope.conversations.for_contact(contact_id))
    ids = [c.id for c in conversations]
    return _Found(
        contact=contact,
        conversations=conversations,
        messages=[m for c in ids for m in scope.messages.for_conversation(c)],
        appointments=list(scope.appointments.for_contact(contact_id)),
        notifications=list(scope.notifications.about(contact_id, ids)),
    )


def _document(scope: WorkspaceScope, contact_id: int, now: datetime) -> dict[str, Any]:
    contact = scope.contacts.get(contact_id)
    workspace = scope.workspace()
    conversations = list(scope.conversations.for_contact(contact_id))
    ids = [c.id for c in conversations]
    opt_out = scope.sms_opt_outs.get(contact.phone) if contact.phone else None
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        "workspace": {"id": workspace.id, "name": workspace.name},
        "contact": plain(contact),
        "conversations": [
            {
                **plain(conversation),
                "messages": [
                    {**plain(m), "attachments": _attachments(m)}
                    for m in scope.messages.for_conversation(conversation.id)
                ],
            }
            for conversation in conversations
        ],
        "appointments": [plain(a) for a in scope.appointments.for_contact(contact_id)],
        "notifications": [plain(n) for n in scope.notifications.about(contact_id, ids)],
        "sms_opt_out": plain(opt_out) if opt_out is not None else None,
    }


def plain(record: Any) -> Any:
    """A dataclass (or anything inside one) as JSON values: times in ISO 8601."""
    if hasattr(record, "__dataclass_fields__"):
        return {name: plain(getattr(record, name)) for name in record.__dataclass_fields__}
    if isinstance(record, datetime):
        return record.isoformat()
    if isinstance(record, Enum):
        return record.value
    if isinstance(record, dict):
        return {str(k): plain(v) for k, v in record.items()}
    if isinstance(record, list | tuple):
        return [plain(v) for v in record]
    return record


def _attachments(message: Message) -> list[dict[str, Any]]:
    found = (message.meta or {}).get("attachments") or []
    return [plain(a) for a in found if isinstance(a, dict)]


def _stored_files(message: Message) -> Sequence[str]:
    return [str(a["stored"]) for a in _attachments(message) if a.get("stored")]


def _recording_sid(message: Message) -> str:
    call = (message.meta or {}).get(CALL)
    recording = call.get("recording") if isinstance(call, dict) else None
    return str(recording.get("sid") or "") if isinstance(recording, dict) else ""

"""The SQL unit of work and the workspace-scoped repository behind ``agent.core.ports``."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.core.errors import Conflict, NotFound
from agent.core.models import (
    TRY_IT_THREAD_PREFIX,
    Appointment,
    Contact,
    Conversation,
    JobFailure,
    KnowledgeSource,
    Message,
    MessageTemplate,
    Notification,
    TeamMember,
    Workspace,
)
from agent.storage import tables


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlWorkspaceRepository:
    """Every read goes through ``_scoped`` so it can only see one workspace's rows."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self._session = session
        self.workspace_id = workspace_id

    def _scoped(self, cls: type) -> Any:
        return select(cls).where(cls.workspace_id == self.workspace_id)

    def _one(self, cls: type, ident: int, *, for_update: bool = False) -> Any:
        if for_update:
            query = self._scoped(cls).where(cls.id == ident).with_for_update()
            found = self._session.scalars(query).first()
        else:
            # By primary key (from the session's identity map when already loaded), then
            # the same workspace check the scoped query makes.
            found = self._session.get(cls, ident)
            if found is not None and found.workspace_id != self.workspace_id:
                found = None
        if found is None:
            raise NotFound(cls.__name__.lower(), ident)
        return found

    def workspace(self, *, for_update: bool = False) -> Workspace:
        if for_update:
            # PostgreSQL: FOR NO KEY UPDATE, which serialises the callers (bookings, team
            # changes) without blocking new rows that reference the workspace. SQLite's
            # writers already take turns. Lock first: a fresh read replaces unsaved edits.
            query = select(Workspace).where(Workspace.id == self.workspace_id)
            found = self._session.scalars(
                query.with_for_update(key_share=True).execution_options(populate_existing=True)
            ).first()
        else:
            found = self._session.get(Workspace, self.workspace_id)
        if found is None:
            raise NotFound("workspace", self.workspace_id)
        return found

    def add(self, record: Any) -> None:
        if record.workspace_id != self.workspace_id:
            raise PermissionError("record belongs to another workspace")
        self._session.add(record)

    def flush(self) -> None:
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise Conflict(f"the change clashes with existing data ({exc.orig})") from exc

    def delete(self, record: Any) -> None:
        if record.workspace_id != self.workspace_id:
            raise PermissionError("record belongs to another workspace")
        self._session.delete(record)

    # team
    def member(self, member_id: int) -> TeamMember:
        return self._one(TeamMember, member_id)

    def member_by_email(self, email: str) -> TeamMember | None:
        return self._session.scalars(
            self._scoped(TeamMember).where(TeamMember.email == email.lower())
        ).first()

    def members(self) -> Sequence[TeamMember]:
        return self._session.scalars(self._scoped(TeamMember).order_by(TeamMember.id)).all()

    def members_by_id(self, member_ids: Collection[int]) -> dict[int, TeamMember]:
        """One query for many ids; an id from another workspace is simply absent."""
        if not member_ids:
            return {}
        query = self._scoped(TeamMember).where(TeamMember.id.in_(set(member_ids)))
        return {m.id: m for m in self._session.scalars(query)}

    # contacts
    def contact(self, contact_id: int) -> Contact:
        return self._one(Contact, contact_id)

    def find_contact(self, *, email: str = "", phone: str = "") -> Contact | None:
        clauses = []
        if email:
            clauses.append(Contact.email == email)
        if phone:
            clauses.append(Contact.phone == phone)
        if not clauses:
            return None
        query = self._scoped(Contact).where(or_(*clauses)).order_by(Contact.id)
        return self._session.scalars(query).first()

    def contacts(self, *, limit: int = 100) -> Sequence[Contact]:
        query = self._scoped(Contact).order_by(Contact.id.desc()).limit(limit)
        return self._session.scalars(query).all()

    # conversations
    def conversation(self, conversation_id: int, *, for_update: bool = False) -> Conversation:
        return self._one(Conversation, conversation_id, for_update=for_update)

    def conversation_by_thread(self, channel: str, thread_id: str) -> Conversation | None:
        query = self._scoped(Conversation).where(
            Conversation.channel == channel, Conversation.provider_thread_id == thread_id
        )
        return self._session.scalars(query.with_for_update()).first()

    def conversations(
        self, *, status: str | None = None, limit: int = 50
    ) -> Sequence[Conversation]:
        query = self._scoped(Conversation)
        if status:
            query = query.where(Conversation.status == status)
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        return self._session.scalars(query.limit(limit)).all()

    def search_conversations(
        self,
        *,
        status: str | None = None,
        channel: str | None = None,
        text: str = "",
        limit: int = 50,
    ) -> Sequence[Conversation]:
        """Newest first; ``text`` matches the contact's name, email or phone, or a message.

        Admins' try-it test chats are never listed (nor counted as unread).
        """
        query = self._scoped(Conversation).where(
            or_(
                Conversation.provider_thread_id.is_(None),
                ~Conversation.provider_thread_id.startswith(TRY_IT_THREAD_PREFIX),
            )
        )
        if status:
            query = query.where(Conversation.status == status)
        if channel:
            query = query.where(Conversation.channel == channel)
        if text.strip():
            like = f"%{_escape_like(text.strip().lower())}%"
            contacts = select(Contact.id).where(
                Contact.workspace_id == self.workspace_id,
                or_(
                    *(
                        func.lower(column).like(like, escape="\\")
                        for column in (
                            Contact.first_name + " " + Contact.last_name,
                            Contact.email,
                            Contact.phone,
                        )
                    )
                ),
            )
            messages = select(Message.conversation_id).where(
                Message.workspace_id == self.workspace_id,
                func.lower(Message.body).like(like, escape="\\"),
            )
            query = query.where(
                or_(Conversation.contact_id.in_(contacts), Conversation.id.in_(messages))
            )
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        return self._session.scalars(query.limit(limit)).all()

    def unread_counts(self, member_id: int, conversation_ids: Sequence[int]) -> dict[int, int]:
        """Inbound messages after the member's read marker, per conversation."""
        if not conversation_ids:
            return {}
        read = tables.conversation_read
        marker = (
            select(read.c.last_read_message_id)
            .where(read.c.member_id == member_id, read.c.conversation_id == Message.conversation_id)
            .scalar_subquery()
        )
        query = (
            select(Message.conversation_id, func.count())
            .where(
                Message.workspace_id == self.workspace_id,
                Message.conversation_id.in_(conversation_ids),
                Message.direction == "in",
                Message.id > func.coalesce(marker, 0),
            )
            .group_by(Message.conversation_id)
        )
        return {cid: count for cid, count in self._session.execute(query)}

    def mark_read(self, member_id: int, conversation_id: int, message_id: int) -> None:
        self._one(Conversation, conversation_id)  # scoped: only this workspace's conversations
        if self._one(Message, message_id).conversation_id != conversation_id:
            raise NotFound("message", message_id)  # a marker only moves forward: no strays
        read = tables.conversation_read
        # One upsert that only moves forward: two tabs marking at once neither collide on
        # the key nor move the marker back.
        postgres = self._session.get_bind().dialect.name == "postgresql"
        upsert = (postgresql.insert if postgres else sqlite.insert)(read).values(
            member_id=member_id, conversation_id=conversation_id, last_read_message_id=message_id
        )
        newest = (func.greatest if postgres else func.max)(
            read.c.last_read_message_id, upsert.excluded.last_read_message_id
        )
        self._session.execute(
            upsert.on_conflict_do_update(
                index_elements=[read.c.member_id, read.c.conversation_id],
                set_={"last_read_message_id": newest},
            )
        )

    # messages
    def message(self, message_id: int) -> Message:
        return self._one(Message, message_id)

    def message_by_provider_id(self, channel: str, provider_message_id: str) -> Message | None:
        query = self._scoped(Message).where(
            Message.channel == channel, Message.provider_message_id == provider_message_id
        )
        return self._session.scalars(query).first()

    def messages(self, conversation_id: int, *, limit: int | None = None) -> Sequence[Message]:
        query = self._scoped(Message).where(Message.conversation_id == conversation_id)
        if limit is None:
            return self._session.scalars(query.order_by(Message.id)).all()
        newest = self._session.scalars(query.order_by(Message.id.desc()).limit(limit)).all()
        return list(reversed(newest))

    def latest_messages(self, conversation_ids: Collection[int]) -> dict[int, Message]:
        """Each conversation's newest message, in one query (none for an empty one).

        The newest ids come from the (conversation_id, workspace_id, id) index alone; only
        those messages are read.
        """
        if not conversation_ids:
            return {}
        newest = (
            select(func.max(Message.id).label("id"))
            .where(
                Message.workspace_id == self.workspace_id,
                Message.conversation_id.in_(set(conversation_ids)),
            )
            .group_by(Message.conversation_id)
            .subquery("newest")
        )
        query = self._scoped(Message).join(newest, Message.id == newest.c.id)
        return {m.conversation_id: m for m in self._session.scalars(query)}

    def reply_to(self, message_id: int) -> Message | None:
        """The AI reply that answered this message: the first in its conversation that
        replies to it or to a later message (one reply answers everything sent before)."""
        conversation = select(Message.conversation_id).where(Message.id == message_id)
        query = (
            self._scoped(Message)
            .where(
                Message.conversation_id == conversation.scalar_subquery(),
                Message.reply_to_id >= message_id,
            )
            .order_by(Message.id)
            .limit(1)
        )
        return self._session.scalars(query).first()

    # the rest of the workspace's records
    def appointments(self, *, conversation_id: int | None = None) -> Sequence[Appointment]:
        query = self._scoped(Appointment)
        if conversation_id is not None:
            query = query.where(Appointment.conversation_id == conversation_id)
        return self._session.scalars(query.order_by(Appointment.start)).all()

    def knowledge_sources(self) -> Sequence[KnowledgeSource]:
        return self._session.scalars(
            self._scoped(KnowledgeSource).order_by(KnowledgeSource.id)
        ).all()

    def knowledge_source(self, source_id: int) -> KnowledgeSource:
        return self._one(KnowledgeSource, source_id)

    def templates(self) -> Sequence[MessageTemplate]:
        return self._session.scalars(
            self._scoped(MessageTemplate).order_by(MessageTemplate.name)
        ).all()

    def notifications(self) -> Sequence[Notification]:
        return self._session.scalars(self._scoped(Notification).order_by(Notification.id)).all()

    def job_failures(self) -> Sequence[JobFailure]:
        return self._session.scalars(self._scoped(JobFailure).order_by(JobFailure.id)).all()

    # the contacts and appointments pages
    def _contacts_matching(self, text: str) -> Any:
        query = self._scoped(Contact)
        text = text.strip().lower()
        if not text:
            return query
        like = f"%{_escape_like(text)}%"
        columns = (Contact.first_name + " " + Contact.last_name, Contact.email, Contact.phone)
        clauses = [func.lower(column).like(like, escape="\\") for column in columns]
        compact = re.sub(r"[\s().-]", "", text)  # "(604) 555-0142" finds +16045550142
        if compact != text and re.fullmatch(r"\+?\d{3,}", compact):
            clauses.append(Contact.phone.like(f"%{compact}%"))
        return query.where(or_(*clauses))

    def search_contacts(
        self, text: str = "", *, limit: int = 50, offset: int = 0
    ) -> Sequence[Contact]:
        """Newest first; ``text`` matches the name, email or phone, case-insensitively."""
        query = self._contacts_matching(text).order_by(Contact.id.desc())
        return self._session.scalars(query.limit(limit).offset(offset)).all()

    def count_contacts(self, text: str = "") -> int:
        query = select(func.count()).select_from(self._contacts_matching(text).subquery())
        return int(self._session.scalar(query) or 0)

    def contacts_by_id(self, contact_ids: Collection[int]) -> dict[int, Contact]:
        if not contact_ids:
            return {}
        query = self._scoped(Contact).where(Contact.id.in_(set(contact_ids)))
        return {c.id: c for c in self._session.scalars(query)}

    def contact_conversations(self, contact_id: int) -> Sequence[Conversation]:
        query = self._scoped(Conversation).where(Conversation.contact_id == contact_id)
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        return self._session.scalars(query).all()

    def contact_appointments(self, contact_id: int) -> Sequence[Appointment]:
        query = self._scoped(Appointment).where(Appointment.contact_id == contact_id)
        return self._session.scalars(query.order_by(Appointment.start.desc())).all()

    def appointment(self, appointment_id: int) -> Appointment:
        return self._one(Appointment, appointment_id)

    def appointments_around(
        self, moment: datetime, *, past: bool = False, limit: int = 200
    ) -> Sequence[Appointment]:
        """Upcoming (not yet ended, soonest first) or past (ended, latest first)."""
        query = self._scoped(Appointment)
        if past:
            query = query.where(Appointment.end <= moment).order_by(Appointment.start.desc())
        else:
            query = query.where(Appointment.end > moment).order_by(Appointment.start)
        return self._session.scalars(query.order_by(Appointment.id).limit(limit)).all()


class SqlUnitOfWork:
    """One session, one transaction; rolled back unless ``commit`` was called."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.session is not None
        # close() rolls back anything uncommitted but, unlike rollback(), leaves the
        # loaded objects readable for the caller.
        self.session.close()
        self.session = None

    def workspace(self, workspace_id: int) -> SqlWorkspaceRepository:
        assert self.session is not None, "use the unit of work as a context manager"
        return SqlWorkspaceRepository(self.session, workspace_id)

    def add_workspace(self, workspace: Workspace) -> Workspace:
        assert self.session is not None
        self.session.add(workspace)
        self.session.flush()
        return workspace

    def workspaces(self) -> Sequence[Workspace]:
        assert self.session is not None
        return self.session.scalars(select(Workspace).order_by(Workspace.id)).all()

    def workspace_by_widget_key(self, key: str) -> Workspace | None:
        assert self.session is not None
        return self.session.scalars(select(Workspace).where(Workspace.widget_key == key)).first()

    def add_job_failure(self, failure: JobFailure) -> None:
        assert self.session is not None
        self.session.add(failure)

    def job_failures(self, limit: int = 50) -> Sequence[JobFailure]:
        assert self.session is not None
        query = select(JobFailure).order_by(JobFailure.id.desc()).limit(limit)
        return self.session.scalars(query).all()

    def commit(self) -> None:
        assert self.session is not None
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise Conflict(f"the change clashes with existing data ({exc.orig})") from exc


class SqlUnitOfWorkFactory:
    def __init__(
        self, sessions: sessionmaker[Session], readers: sessionmaker[Session] | None = None
    ) -> None:
        self._sessions = sessions
        self._readers = readers or sessions

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """``read_only`` for lookups that write nothing: on SQLite they take no write lock."""
        return SqlUnitOfWork(self._readers if read_only else self._sessions)

"""A workspace's conversations: the service's lookups, the inbox list, read markers."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, Update, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, load_only
from sqlalchemy.orm.attributes import set_committed_value

from agent.core.errors import NotFound
from agent.core.models import (
    TRY_IT_THREAD_PREFIX,
    AuthorKind,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    Mode,
    TeamMember,
    Workspace,
)
from agent.storage import tables
from agent.storage.repositories.base import Scoped, check_workspace, escape_like


class SqlConversations(Scoped):
    def get(self, conversation_id: int, *, for_update: bool = False) -> Conversation:
        return self._one(Conversation, conversation_id, for_update=for_update)

    def by_thread(
        self, channel: str, thread_id: str, *, preload: bool = False
    ) -> Conversation | None:
        """Locked. ``preload``: its contact, workspace and assignee come in the same
        query, held for the session (an inbound message reads them, and its broadcast
        then gets them from the commit)."""
        if not preload:
            query = self._scoped(Conversation).where(
                Conversation.channel == channel, Conversation.provider_thread_id == thread_id
            )
            return self._session.scalars(query.with_for_update()).first()
        params = {"workspace_id": self.workspace_id, "channel": channel, "thread": thread_id}
        row = self._session.execute(_thread_query(), params).first()
        if row is None:
            return None
        self._hold(*row)
        return row[0]

    def touch(self, conversation: Conversation, when: datetime) -> None:
        """A new message's time as the conversation's latest activity, written at once
        with one plain UPDATE: on every inbound message the unit of work's flush of these
        two columns cost more than the statement, inside the writer's lock
        (``benchmarks/message_cost.py``). Its other changes still save on commit."""
        check_workspace(conversation, self.workspace_id)
        params = {"conversation": conversation.id, "workspace": self.workspace_id, "when": when}
        self._session.connection().execute(_touch_query(), params)
        set_committed_value(conversation, "last_message_at", when)
        set_committed_value(conversation, "updated_at", when)

    def list(self, *, status: str | None = None, limit: int = 50) -> Sequence[Conversation]:
        query = self._scoped(Conversation)
        if status:
            query = query.where(Conversation.status == status)
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        return self._session.scalars(query.limit(limit)).all()

    def awaiting_reply(self, *, since: datetime, until: datetime) -> list[tuple[int, int]]:
        """(conversation id, message id) of open AI conversations whose newest message is
        the visitor's, written between ``since`` and ``until``."""
        newer = aliased(Message)
        newest = (
            select(func.max(newer.id))
            .where(newer.conversation_id == Conversation.id)
            .correlate(Conversation)
            .scalar_subquery()
        )
        query = (
            select(Conversation.id, Message.id)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(
                Conversation.workspace_id == self.workspace_id,
                Conversation.status == ConversationStatus.OPEN,
                Conversation.mode == Mode.AI,
                Conversation.last_message_at.between(since, until),
                Message.workspace_id == self.workspace_id,
                Message.id == newest,
                Message.author_kind == AuthorKind.CONTACT,
            )
            .order_by(Conversation.id)
        )
        return [(row[0], row[1]) for row in self._session.execute(query)]

    def search(
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
        else:  # "all" is the inbox's: spam shows only in its own view
            query = query.where(Conversation.status != ConversationStatus.SPAM)
        if channel:
            query = query.where(Conversation.channel == channel)
        if text.strip():
            like = f"%{escape_like(text.strip().lower())}%"
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

    def for_contact(self, contact_id: int) -> Sequence[Conversation]:
        query = self._scoped(Conversation).where(Conversation.contact_id == contact_id)
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        return self._session.scalars(query).all()

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


@functools.cache
def _touch_query() -> Update:
    table = tables.conversation
    return (
        update(table)
        .where(
            table.c.id == bindparam("conversation"), table.c.workspace_id == bindparam("workspace")
        )
        .values(last_message_at=bindparam("when"), updated_at=bindparam("when"))
    )


@functools.cache
def _thread_query() -> Select:
    """``by_thread(preload=True)``'s statement, built once (it keeps its cache key)."""
    workspace_id = bindparam("workspace_id")
    assignee = aliased(TeamMember)
    return (
        select(Conversation, Contact, Workspace, assignee)
        .join(
            Contact,
            (Contact.id == Conversation.contact_id) & (Contact.workspace_id == workspace_id),
        )
        .join(Workspace, Workspace.id == Conversation.workspace_id)
        .outerjoin(
            assignee,
            (assignee.id == Conversation.assignee_id) & (assignee.workspace_id == workspace_id),
        )
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.channel == bindparam("channel"),
            Conversation.provider_thread_id == bindparam("thread"),
        )
        .with_for_update(of=Conversation)
        # What storing a message reads of the workspace; the rest loads if read.
        .options(load_only(Workspace.name, Workspace.country, Workspace.timezone, Workspace.widget))
    )

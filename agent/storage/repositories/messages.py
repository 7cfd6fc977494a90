"""A workspace's messages: by id or provider id, a thread, the newest, the AI's reply."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Insert, Select, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, load_only, make_transient_to_detached

from agent.core.errors import NotFound
from agent.core.models import (
    Channel,
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    TeamMember,
    Workspace,
)
from agent.storage import tables
from agent.storage.repositories.base import Scoped, check_workspace, clash, committed


class SqlMessages(Scoped):
    def get(self, message_id: int, *, for_update: bool = False) -> Message:
        """``for_update``: locked, and read afresh (a status change must see the latest)."""
        if not for_update:
            return self._one(Message, message_id)
        query = (
            self._scoped(Message)
            .where(Message.id == message_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found = self._session.scalars(query).first()
        if found is None:
            raise NotFound("message", message_id)
        return found

    def by_provider_id(self, channel: str, provider_message_id: str) -> Message | None:
        query = self._scoped(Message).where(
            Message.channel == channel, Message.provider_message_id == provider_message_id
        )
        return self._session.scalars(query).first()

    def for_conversation(
        self, conversation_id: int, *, limit: int | None = None
    ) -> Sequence[Message]:
        """Oldest first; with ``limit``, the newest ``limit`` of them (still oldest first)."""
        query = self._scoped(Message).where(Message.conversation_id == conversation_id)
        if limit is None:
            return self._session.scalars(query.order_by(Message.id)).all()
        newest = self._session.scalars(query.order_by(Message.id.desc()).limit(limit)).all()
        return list(reversed(newest))

    def preload(self, message_id: int) -> None:
        """Loads the message with its conversation, contact, workspace (its name) and the
        team members it names (assignee, author) in one query, held for the session: their
        ``get``s then read no more (nothing when there is no such message)."""
        handed = committed(Message, message_id)
        if handed:  # just written here: attached as they were committed, not read again
            for record in handed:
                self._session.add(record)
            self._hold(*handed)
            return
        params = {"workspace_id": self.workspace_id, "message_id": message_id}
        row = self._session.execute(_preload_query(), params).first()
        if row is not None:
            self._hold(*row)

    def insert(self, message: Message) -> None:
        """Writes a new message at once with one plain INSERT, and tracks it as if flushed
        (later changes in this session are saved on commit). Where a message is the
        transaction's one new row (every inbound message) the unit of work's flush cost
        more than the statement, inside the writer's lock (``benchmarks/message_cost.py``).
        A clash with a stored message (its provider id) is a ``Conflict``."""
        check_workspace(message, self.workspace_id)
        values = {name: getattr(message, name) for name in _message_columns()}
        try:
            message.id = self._session.connection().execute(_insert_query(), values).scalar_one()
        except IntegrityError as exc:
            raise clash(exc) from exc
        make_transient_to_detached(message)
        self._session.add(message)

    def recent_bodies(self, conversation_id: int, direction: str, limit: int) -> list[str]:
        """The newest ``limit`` bodies one way, newest first: the text alone, for checks
        that compare many messages (spam's "repeated") without loading each whole."""
        params = {
            "workspace_id": self.workspace_id,
            "conversation_id": conversation_id,
            "direction": direction,
            "limit": limit,
        }
        return list(self._session.scalars(_bodies_query(), params))

    def latest(self, conversation_ids: Collection[int]) -> dict[int, Message]:
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

    def last_inbound_at(self, conversation_id: int) -> datetime | None:
        """When the customer last wrote in this conversation (the providers' reply windows
        count from it); None when they never did."""
        query = select(func.max(Message.created_at)).where(
            Message.workspace_id == self.workspace_id,
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
        )
        return self._session.scalar(query)

    def outbound_since(self, channel: str, since: datetime) -> Sequence[Message]:
        """The workspace's messages sent on a channel since a time (a provider's caps)."""
        query = self._scoped(Message).where(
            Message.channel == channel,
            Message.direction == Direction.OUTBOUND,
            Message.created_at >= since,
        )
        return self._session.scalars(query.order_by(Message.id)).all()

    def queued_outbound(self, *, since: datetime) -> Sequence[Message]:
        """Outbound messages still waiting for a provider (not web chat), newest last."""
        query = self._scoped(Message).where(
            Message.direction == Direction.OUTBOUND,
            Message.delivery_status == DeliveryStatus.QUEUED,
            Message.channel != Channel.WEBCHAT,
            Message.created_at >= since,
        )
        return self._session.scalars(query.order_by(Message.id).limit(1000)).all()

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


@functools.cache
def _preload_query() -> Select:
    """Built once: the statement keeps its cache key, so each run skips building it again
    (the aliases alone cost a fresh key every time)."""
    workspace_id = bindparam("workspace_id")
    assignee, author = aliased(TeamMember), aliased(TeamMember)
    return (
        select(Message, Conversation, Contact, Workspace, assignee, author)
        .join(
            Conversation,
            (Conversation.id == Message.conversation_id)
            & (Conversation.workspace_id == workspace_id),
        )
        .join(
            Contact,
            (Contact.id == Conversation.contact_id) & (Contact.workspace_id == workspace_id),
        )
        .join(Workspace, Workspace.id == Message.workspace_id)
        .outerjoin(
            assignee,
            (assignee.id == Conversation.assignee_id) & (assignee.workspace_id == workspace_id),
        )
        .outerjoin(
            author, (author.id == Message.author_member_id) & (author.workspace_id == workspace_id)
        )
        .where(Message.workspace_id == workspace_id, Message.id == bindparam("message_id"))
        # The live views want the business's name; the rest (JSON settings) loads if read.
        .options(load_only(Workspace.name))
    )


@functools.cache
def _message_columns() -> tuple[str, ...]:
    return tuple(column.key for column in tables.message.columns if column.key != "id")


@functools.cache
def _insert_query() -> Insert:
    """``insert``'s statement, built once."""
    return insert(tables.message).returning(tables.message.c.id)


@functools.cache
def _bodies_query() -> Select:
    """``recent_bodies``' statement, built once (every inbound message runs it)."""
    return (
        select(Message.body)
        .where(
            Message.workspace_id == bindparam("workspace_id"),
            Message.conversation_id == bindparam("conversation_id"),
            Message.direction == bindparam("direction"),
        )
        .order_by(Message.id.desc())
        .limit(bindparam("limit"))
    )

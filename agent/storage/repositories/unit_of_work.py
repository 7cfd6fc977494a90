"""The SQL unit of work: one session, one transaction, scopes handed out per workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.core.models import ChannelAccount, Direction, JobFailure, Message, Workspace
from agent.storage.repositories.base import clash, hand_over
from agent.storage.repositories.scope import SqlWorkspaceScope


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

    def workspace(self, workspace_id: int) -> SqlWorkspaceScope:
        assert self.session is not None, "use the unit of work as a context manager"
        return SqlWorkspaceScope(self.session, workspace_id)

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

    # Provider lookups cross workspaces: a webhook names the account or message, not the
    # workspace; the answer says whose it is.
    def channel_account(self, channel: str, external_id: str) -> ChannelAccount | None:
        assert self.session is not None
        query = select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
        )
        return self.session.scalars(query).first()

    def channel_accounts(self, channels: Sequence[str]) -> Sequence[ChannelAccount]:
        """Every workspace's accounts on these channels (a provider's app-wide handshake)."""
        assert self.session is not None
        query = select(ChannelAccount).where(ChannelAccount.channel.in_(list(channels)))
        return self.session.scalars(query.order_by(ChannelAccount.id)).all()

    def outbound_message(self, channel: str, provider_message_id: str) -> Message | None:
        assert self.session is not None
        query = select(Message).where(
            Message.channel == channel,
            Message.provider_message_id == provider_message_id,
            Message.direction == Direction.OUTBOUND,
        )
        return self.session.scalars(query.order_by(Message.id).limit(1)).first()

    # Job failures are the operator's (``frontdesk jobs failed``), across all workspaces;
    # a failure may belong to none.
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
            raise clash(exc) from exc
        hand_over(self.session)


class SqlUnitOfWorkFactory:
    def __init__(
        self, sessions: sessionmaker[Session], readers: sessionmaker[Session] | None = None
    ) -> None:
        self._sessions = sessions
        self._readers = readers or sessions

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """``read_only`` for lookups that write nothing: on SQLite they take no write lock."""
        return SqlUnitOfWork(self._readers if read_only else self._sessions)

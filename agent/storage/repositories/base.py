"""What every workspace-scoped repository shares: one session, one workspace."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.core.errors import Conflict, NotFound

_HELD = "frontdesk_held"  # session.info: objects loaded ahead, kept for the session's life


HANDOFF_OBJECTS = 16  # a commit this small hands its objects to the next read
# The objects of this thread's (or greenlet's) last small commit, for the live views that
# read them back at once (``committed``).
_committed: ContextVar[tuple[object, ...]] = ContextVar("frontdesk_committed", default=())


def committed(cls: type, ident: int) -> tuple[object, ...]:
    """The objects of this thread's last commit, when it wrote ``cls`` ``ident``; taken
    once. A new message's broadcast reads back the message, its conversation, contact and
    workspace the commit just wrote: attached to the broadcast's session, they need no
    query. Nothing when any was changed since the commit."""
    objects = _committed.get()
    if not any(type(o) is cls and getattr(o, "id", None) == ident for o in objects):
        return ()
    _committed.set(())
    states = [inspect(o) for o in objects]
    if any(not state.detached or state.modified for state in states):
        return ()
    return objects


def hand_over(session: Session) -> None:
    """After a commit: its objects, when they are few, for ``committed``."""
    objects = session.identity_map
    _committed.set(tuple(objects.values()) if len(objects) <= HANDOFF_OBJECTS else ())


def check_workspace(record: Any, workspace_id: int) -> None:
    """A scope writes only its own workspace's records."""
    if record.workspace_id != workspace_id:
        raise PermissionError("record belongs to another workspace")


def clash(exc: IntegrityError) -> Conflict:
    """A unique or foreign key the database refused, as the domain's ``Conflict``."""
    return Conflict(f"the change clashes with existing data ({exc.orig})")


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Scoped:
    """Every read goes through ``_scoped`` so it can only see one workspace's rows."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self._session = session
        self.workspace_id = workspace_id

    def _scoped(self, cls: type) -> Any:
        return select(cls).where(cls.workspace_id == self.workspace_id)

    def _hold(self, *objects: object) -> None:
        """Keep loaded objects for the session's life: its identity map holds only what
        something references, and a later ``get`` of them should not ask again."""
        self._session.info.setdefault(_HELD, []).extend(o for o in objects if o is not None)

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

"""What every workspace-scoped repository shares: one session, one workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.core.errors import NotFound

_HELD = "frontdesk_held"  # session.info: objects loaded ahead, kept for the session's life


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

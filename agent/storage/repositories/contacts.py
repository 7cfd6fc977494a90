"""A workspace's contacts: lookups for the service, search for the contacts page."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select

from agent.core.models import Contact
from agent.storage.repositories.base import Scoped, escape_like


class SqlContacts(Scoped):
    def get(self, contact_id: int) -> Contact:
        return self._one(Contact, contact_id)

    def find(self, *, email: str = "", phone: str = "") -> Contact | None:
        clauses = []
        if email:
            clauses.append(Contact.email == email)
        if phone:
            clauses.append(Contact.phone == phone)
        if not clauses:
            return None
        query = self._scoped(Contact).where(or_(*clauses)).order_by(Contact.id)
        return self._session.scalars(query).first()

    def recent(self, *, limit: int = 100) -> Sequence[Contact]:
        query = self._scoped(Contact).order_by(Contact.id.desc()).limit(limit)
        return self._session.scalars(query).all()

    def by_ids(self, contact_ids: Collection[int]) -> dict[int, Contact]:
        if not contact_ids:
            return {}
        query = self._scoped(Contact).where(Contact.id.in_(set(contact_ids)))
        return {c.id: c for c in self._session.scalars(query)}

    def _matching(self, text: str) -> Any:
        query = self._scoped(Contact)
        text = text.strip().lower()
        if not text:
            return query
        like = f"%{escape_like(text)}%"
        columns = (Contact.first_name + " " + Contact.last_name, Contact.email, Contact.phone)
        clauses = [func.lower(column).like(like, escape="\\") for column in columns]
        compact = re.sub(r"[\s().-]", "", text)  # "(604) 555-0142" finds +16045550142
        if compact != text and re.fullmatch(r"\+?\d{3,}", compact):
            clauses.append(Contact.phone.like(f"%{compact}%"))
        return query.where(or_(*clauses))

    def search(self, text: str = "", *, limit: int = 50, offset: int = 0) -> Sequence[Contact]:
        """Newest first; ``text`` matches the name, email or phone, case-insensitively."""
        query = self._matching(text).order_by(Contact.id.desc())
        return self._session.scalars(query.limit(limit).offset(offset)).all()

    def count(self, text: str = "") -> int:
        query = select(func.count()).select_from(self._matching(text).subquery())
        return int(self._session.scalar(query) or 0)

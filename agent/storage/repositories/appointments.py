"""A workspace's appointments: a conversation's, a contact's, upcoming or past."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agent.core.models import Appointment
from agent.storage.repositories.base import Scoped


class SqlAppointments(Scoped):
    def get(self, appointment_id: int) -> Appointment:
        return self._one(Appointment, appointment_id)

    def list(self, *, conversation_id: int | None = None) -> Sequence[Appointment]:
        query = self._scoped(Appointment)
        if conversation_id is not None:
            query = query.where(Appointment.conversation_id == conversation_id)
        return self._session.scalars(query.order_by(Appointment.start)).all()

    def for_contact(self, contact_id: int) -> Sequence[Appointment]:
        query = self._scoped(Appointment).where(Appointment.contact_id == contact_id)
        return self._session.scalars(query.order_by(Appointment.start.desc())).all()

    def around(
        self, moment: datetime, *, past: bool = False, limit: int = 200
    ) -> Sequence[Appointment]:
        """Upcoming (not yet ended, soonest first) or past (ended, latest first)."""
        query = self._scoped(Appointment)
        if past:
            query = query.where(Appointment.end <= moment).order_by(Appointment.start.desc())
        else:
            query = query.where(Appointment.end > moment).order_by(Appointment.start)
        return self._session.scalars(query.order_by(Appointment.id).limit(limit)).all()

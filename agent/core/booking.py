"""Appointments against real opening hours: availability and booking, validated server-side.

Whatever a model asks for, a booking only happens for a future slot that fits inside
opening hours and is free; anything else is refused with the nearest alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.core import opening_hours
from agent.core.errors import NotFound, ValidationError
from agent.core.events import (
    AppointmentBooked,
    AppointmentCancelled,
    ConversationUpdated,
    EventBus,
)
from agent.core.models import Appointment, AppointmentStatus, Workspace
from agent.core.ports import Clock, UnitOfWorkFactory, WorkspaceScope

REASONS = {
    "past": "that time has already passed",
    "too_soon": "that is too soon to schedule",
    "closed_day": "we are closed that day",
    "outside_hours": "that is outside our opening hours",
    "taken": "that slot is already booked",
}


@dataclass(frozen=True)
class Availability:
    day: date | None
    slots: list[datetime] = field(default_factory=list)  # aware, workspace time zone
    open_that_day: bool = True


@dataclass(frozen=True)
class BookingResult:
    booked: bool
    start: datetime | None = None
    appointment_id: int | None = None
    reason: str | None = None  # a key of REASONS, or "missing_contact"
    alternatives: list[datetime] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return REASONS.get(self.reason or "", self.reason or "")


class BookingService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, events: EventBus) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events

    @staticmethod
    def _booked(repo: WorkspaceScope) -> list[tuple[datetime, datetime]]:
        return [
            (a.start, a.end)
            for a in repo.appointments.list()
            if a.status == AppointmentStatus.BOOKED
        ]

    def availability(
        self, workspace_id: int, day: date | None = None, count: int = 6
    ) -> Availability:
        """Free slots on ``day``, or the next ones from now when no day is given."""
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            workspace = repo.workspace()
            booked = self._booked(repo)
        tz = ZoneInfo(workspace.timezone)
        args = (workspace.hours, tz, workspace.appointment_minutes, booked, now)
        if day is None:
            return Availability(None, opening_hours.next_slots(now, count, *args))
        slots = opening_hours.slots_on(day, *args)
        open_that_day = bool(workspace.hours.get(day.strftime("%a").lower()[:3]))
        if not slots:
            after = datetime.combine(day, datetime.min.time(), tz) + timedelta(days=1)
            return Availability(day, opening_hours.next_slots(after, 3, *args), open_that_day)
        return Availability(day, slots[:count], open_that_day)

    def book(
        self, workspace_id: int, conversation_id: int, start: datetime, notes: str = ""
    ) -> BookingResult:
        """Book ``start`` for the conversation's contact, who must be reachable."""
        if start.tzinfo is None:
            raise ValidationError("start", "needs a time zone")
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            # One booking at a time per workspace, so two visitors can't both take a slot.
            workspace = repo.workspace(for_update=True)
            conversation = repo.conversations.get(conversation_id, for_update=True)
            contact = repo.contacts.get(conversation.contact_id)
            if not contact.is_lead:
                return BookingResult(False, start, reason="missing_contact")
            existing = [
                a
                for a in repo.appointments.list(conversation_id=conversation_id)
                if a.status == AppointmentStatus.BOOKED and a.start == start
            ]
            if existing:  # asked twice: one appointment
                return BookingResult(True, start, existing[0].id)
            verdict = self._check(workspace, start, self._booked(repo), now)
            if not verdict.ok:
                return BookingResult(
                    False, start, reason=verdict.reason, alternatives=verdict.alternatives
                )
            appointment = Appointment(
                workspace_id=workspace_id,
                contact_id=contact.id,
                conversation_id=conversation_id,
                start=start,
                end=start + timedelta(minutes=workspace.appointment_minutes),
                notes=notes[:2000],
                created_at=now,
            )
            repo.add(appointment)
            uow.commit()
        self._events.publish(
            ConversationUpdated(workspace_id, conversation_id, {"appointment_id": appointment.id})
        )
        self._events.publish(AppointmentBooked(workspace_id, appointment.id))
        return BookingResult(True, start, appointment.id)

    def check(self, workspace_id: int, start: datetime) -> opening_hours.Verdict:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            return self._check(repo.workspace(), start, self._booked(repo), self._clock())

    @staticmethod
    def _check(
        workspace: Workspace,
        start: datetime,
        booked: list[tuple[datetime, datetime]],
        now: datetime,
    ) -> opening_hours.Verdict:
        tz = ZoneInfo(workspace.timezone)
        return opening_hours.check(
            start.astimezone(tz), workspace.hours, tz, workspace.appointment_minutes, booked, now
        )

    def cancel(self, workspace_id: int, appointment_id: int) -> Appointment:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            found = [a for a in repo.appointments.list() if a.id == appointment_id]
            if not found:
                raise NotFound("appointment", appointment_id)
            cancelled = found[0].status != AppointmentStatus.CANCELLED
            found[0].status = AppointmentStatus.CANCELLED
            uow.commit()
        if cancelled:
            self._events.publish(AppointmentCancelled(workspace_id, appointment_id))
        return found[0]

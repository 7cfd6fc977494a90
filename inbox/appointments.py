"""The appointments page: what is booked, by day in the business's time zone, and cancelling.

Reads go through the signed-in member's workspace repository and the cancel goes through
the booking service, so an appointment id from another workspace is simply "not found".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for

from agent.core.models import Appointment, AppointmentStatus, Contact
from inbox.presenters import contact_name
from web.context import container
from web.security import current, login_required

bp = Blueprint("appointments", __name__)
LIMIT = 200  # a page, not an export: the busiest day of a small business fits many times


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    """Staff read times on the business's clock, not the server's or the browser's."""
    return f"{value.astimezone(tz):%Y-%m-%d %H:%M}" if value else ""


def day_label(value: datetime) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def appointment_rows(
    appointments: Iterable[Appointment],
    contacts: Mapping[int, Contact],
    tz: ZoneInfo,
    now: datetime,
) -> list[dict[str, Any]]:
    """Plain values for the templates (which escape them); shared with the contact page."""
    rows = []
    for appointment in appointments:
        start, end = appointment.start.astimezone(tz), appointment.end.astimezone(tz)
        contact = contacts.get(appointment.contact_id or 0)
        rows.append(
            {
                "id": appointment.id,
                "day": start.date(),
                "day_label": day_label(start),
                "time": f"{start:%H:%M}-{end:%H:%M}",
                "contact_id": contact.id if contact else None,
                "contact_name": contact_name(contact) if contact else "No contact",
                "conversation_id": appointment.conversation_id,
                "status": str(appointment.status),
                "notes": appointment.notes,
                "cancellable": appointment.status == AppointmentStatus.BOOKED
                and appointment.end > now,
            }
        )
    return rows


def _by_day(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    days: dict[Any, tuple[str, list[dict[str, Any]]]] = {}
    for row in rows:
        days.setdefault(row["day"], (row["day_label"], []))[1].append(row)
    return list(days.values())


@bp.get("/appointments")
@login_required
def index():  # type: ignore[no-untyped-def]
    staff = current()
    past = request.args.get("when") == "past"
    now = container().clock()
    with container().uow() as uow:
        repo = uow.workspace(staff.workspace_id)
        timezone = repo.workspace().timezone
        found = repo.appointments.around(now, past=past, limit=LIMIT)
        contacts = repo.contacts.by_ids({a.contact_id for a in found if a.contact_id})
    rows = appointment_rows(found, contacts, ZoneInfo(timezone), now)
    return render_template(
        "appointments/index.html",
        days=_by_day(rows),
        past=past,
        timezone=timezone,
        truncated=len(found) >= LIMIT,
    )


@bp.post("/appointments/<int:appointment_id>/cancel")
@login_required
def cancel(appointment_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    with container().uow() as uow:
        repo = uow.workspace(staff.workspace_id)
        appointment = repo.appointments.get(appointment_id)  # NotFound (404) unless it is ours
        contacts = repo.contacts.by_ids([appointment.contact_id] if appointment.contact_id else [])
        timezone = repo.workspace().timezone
    contact = contacts.get(appointment.contact_id or 0)
    who = contact_name(contact) if contact else "no contact"
    when = local_time(appointment.start, ZoneInfo(timezone))
    if appointment.status == AppointmentStatus.CANCELLED:
        flash(f"The appointment on {when} with {who} was already cancelled; nothing changed.")
    else:
        container().booking.cancel(staff.workspace_id, appointment_id)
        flash(f"Cancelled the appointment on {when} with {who}.")
    back = request.form.get("back", "")
    if back == "contact" and appointment.contact_id:
        return redirect(url_for("contacts.show", contact_id=appointment.contact_id))
    return redirect(url_for(".index", when="past" if back == "past" else None))

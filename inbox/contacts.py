"""The contacts pages: find a person, see their conversations and appointments, fix details.

Edits go through ``ContactDetails.normalised``, the same rules the agent and every channel
use, so a contact edited by staff looks exactly like one captured by the receptionist.
Admins also answer privacy requests here: a contact's data as JSON, or erased (after a
confirmation page saying what goes), each written to the audit log.
"""

from __future__ import annotations

import json
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from agent.core.contacts import ContactDetails
from agent.core.errors import ValidationError
from agent.core.events import ConversationUpdated
from agent.core.models import Contact
from agent.core.ports import WorkspaceScope
from inbox.appointments import appointment_rows, local_time
from inbox.presenters import CHANNEL_LABELS, contact_name
from inbox.spam_pages import sender_rows
from web.context import container
from web.security import admin_required, current, login_required

bp = Blueprint("contacts", __name__)
PAGE = 50
FIELDS = ("first_name", "last_name", "email", "phone", "address")
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "address": "Address",
}


@bp.get("/contacts")
@login_required
def index():  # type: ignore[no-untyped-def]
    staff = current()
    text = (request.args.get("q") or "").strip()[:200]
    with container().uow() as uow:
        repo = uow.workspace(staff.workspace_id)
        timezone = ZoneInfo(repo.workspace().timezone)
        total = repo.contacts.count(text)
        pages = max(1, ceil(total / PAGE))
        page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
        found = repo.contacts.search(text, limit=PAGE, offset=(page - 1) * PAGE)
    rows = [
        {
            "id": c.id,
            "name": contact_name(c),
            "email": c.email,
            "phone": c.phone,
            "channel": CHANNEL_LABELS.get(c.source_channel, c.source_channel),
            "created": local_time(c.created_at, timezone),
        }
        for c in found
    ]
    return render_template(
        "contacts/index.html", rows=rows, q=text, page=page, pages=pages, total=total
    )


@bp.get("/contacts/<int:contact_id>")
@login_required
def show(contact_id: int):  # type: ignore[no-untyped-def]
    return _detail(contact_id)


@bp.post("/contacts/<int:contact_id>")
@login_required
def update(contact_id: int):  # type: ignore[no-untyped-def]
    values = {name: request.form.get(name, "") for name in FIELDS}
    errors, changes = update_contact(current().workspace_id, contact_id, values)
    if errors:
        return _detail(contact_id, form=values, errors=errors), 400
    changed = ", ".join(LABELS[name].lower() for name in changes)
    flash(f"Saved: {changed}." if changes else "Nothing changed.")
    return redirect(url_for(".show", contact_id=contact_id))


@bp.post("/contacts/<int:contact_id>/export")
@admin_required
def export(contact_id: int):  # type: ignore[no-untyped-def]
    """Everything about the contact as a JSON download (a privacy request)."""
    staff = current()
    document = container().privacy.export(staff.workspace_id, contact_id, actor=staff.member.email)
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="contact-{contact_id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/contacts/<int:contact_id>/delete")
@admin_required
def confirm_delete(contact_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    found = container().privacy.preview(staff.workspace_id, contact_id)
    with container().uow(read_only=True) as uow:
        contact = uow.workspace(staff.workspace_id).contacts.get(contact_id)
    return render_template(
        "contacts/delete.html", contact=contact, name=contact_name(contact), found=found
    )


@bp.post("/contacts/<int:contact_id>/delete")
@admin_required
def delete(contact_id: int):  # type: ignore[no-untyped-def]
    if request.form.get("confirm") != "yes":  # only the confirmation page sends it
        abort(400, description="Confirm the deletion on its page first.")
    staff = current()
    with container().uow(read_only=True) as uow:
        name = contact_name(uow.workspace(staff.workspace_id).contacts.get(contact_id))
    removed = container().privacy.delete(staff.workspace_id, contact_id, actor=staff.member.email)
    flash(
        f"Deleted {name} and all their data: {removed.conversations} conversation(s), "
        f"{removed.messages} message(s), {removed.files} file(s)."
    )
    return redirect(url_for(".index"))


def update_contact(
    workspace_id: int, contact_id: int, values: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Replace the contact's details; returns (errors by field, changes). Errors change nothing.

    Unlike the agent's merge, an empty field clears the detail: staff fix mistakes.
    """
    with container().uow() as uow:
        repo = uow.workspace(workspace_id)
        contact = repo.contacts.get(contact_id)  # NotFound (404) before anything else
        cleaned, errors = _validated(values, repo.workspace().country)
        errors = errors or _taken(repo, contact, cleaned)
        if errors:
            return errors, {}
        changes = {k: v for k, v in cleaned.items() if getattr(contact, k) != v}
        if not changes:
            return {}, {}
        for name, value in changes.items():
            setattr(contact, name, value)
        contact.updated_at = container().clock()
        conversations = [c.id for c in repo.conversations.for_contact(contact_id)]
        uow.commit()
    for conversation_id in conversations:  # open inboxes show the new name at once
        container().events.publish(
            ConversationUpdated(workspace_id, conversation_id, {"contact_id": contact_id})
        )
    return {}, changes


def _validated(values: dict[str, str], country: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each field alone through the shared rules, so every mistake is reported at once."""
    cleaned, errors = {}, {}
    for name in FIELDS:
        try:
            details = ContactDetails(**{name: values.get(name, "")}).normalised(country)
        except ValidationError as exc:
            errors[name] = exc.message
        else:
            cleaned[name] = getattr(details, name)
    return cleaned, errors


def _taken(repo: WorkspaceScope, contact: Contact, cleaned: dict[str, str]) -> dict[str, str]:
    """An email or phone already on another contact would make lookups ambiguous."""
    errors = {}
    for name in ("email", "phone"):
        value = cleaned[name]
        if value and value != getattr(contact, name):
            other = repo.contacts.find(**{name: value})
            if other is not None and other.id != contact.id:
                errors[name] = (
                    f"{value} already belongs to {contact_name(other)} (contact #{other.id})"
                )
    return errors


def _detail(
    contact_id: int, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Any:
    staff = current()
    now = container().clock()
    with container().uow() as uow:
        repo = uow.workspace(staff.workspace_id)
        contact = repo.contacts.get(contact_id)
        workspace = repo.workspace()
        conversations = repo.conversations.for_contact(contact_id)
        appointments = repo.appointments.for_contact(contact_id)
        senders = sender_rows(repo, contact)
    timezone = ZoneInfo(workspace.timezone)
    return render_template(
        "contacts/show.html",
        contact=contact,
        name=contact_name(contact),
        channel=CHANNEL_LABELS.get(contact.source_channel, contact.source_channel),
        created=local_time(contact.created_at, timezone),
        conversations=[
            {
                "id": c.id,
                "channel": CHANNEL_LABELS.get(c.channel, c.channel),
                "status": str(c.status),
                "mode": str(c.mode),
                "last_message_at": local_time(c.last_message_at, timezone),
            }
            for c in conversations
        ],
        appointments=appointment_rows(appointments, {contact.id: contact}, timezone, now),
        senders=senders,
        form=form or {name: getattr(contact, name) for name in FIELDS},
        errors=errors or {},
        labels=LABELS,
        country=workspace.country,
        timezone=workspace.timezone,
    )

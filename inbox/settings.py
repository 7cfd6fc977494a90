"""Admin settings: the business profile, the additional instructions and the try-it chat.

Every view is admin-only and works on the signed-in member's own workspace, so there
are no ids in these URLs to tamper with.
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from zoneinfo import available_timezones

import phonenumbers
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from agent.core.errors import FrontdeskError, ValidationError
from agent.core.turns import TurnOutcome
from agent.core.workspaces import clean_profile
from inbox import profile_form
from inbox.tryit import TryIt, message_json
from web.context import container
from web.security import admin_required, current

log = logging.getLogger(__name__)
bp = Blueprint("settings", __name__, url_prefix="/settings")
MAX_INSTRUCTIONS = 20_000


def _workspace() -> Any:
    with container().uow() as uow:
        return uow.workspace(current().workspace_id).workspace()


def _tryit() -> TryIt:
    """One per app: it holds the sandboxed agent wiring, built on first use."""
    tryit = current_app.extensions.get("frontdesk.tryit")
    if tryit is None:
        tryit = TryIt(container(), str(current_app.secret_key or ""))
        tryit = current_app.extensions.setdefault("frontdesk.tryit", tryit)
    return tryit


@bp.get("/")
@admin_required
def index():  # type: ignore[no-untyped-def]
    return redirect(url_for(".profile"))


# -- business profile ------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@admin_required
def profile():  # type: ignore[no-untyped-def]
    workspace = _workspace()
    if request.method == "GET":
        values = profile_form.values_from_workspace(workspace)
        return _profile_page(values, {})
    values = profile_form.values_from_form(request.form)
    changes, errors = profile_form.changes_from_values(values)
    if not errors:
        try:
            container().workspaces.update_profile(current().workspace_id, changes)
        except ValidationError as exc:  # a rule spanning fields; shown at the top
            errors["form"] = str(exc)
    if errors:
        return _profile_page(values, errors), 400
    flash("Business profile saved. The receptionist uses it from the next message.", "success")
    return redirect(url_for(".profile"))


@functools.cache
def _timezones() -> list[str]:
    return sorted(available_timezones())


def _profile_page(values: dict[str, Any], errors: dict[str, str]) -> str:
    return render_template(
        "settings/profile.html",
        values=values,
        errors=errors,
        link_rows=profile_form.link_rows(values),
        days=profile_form.DAY_NAMES,
        timezones=_timezones(),
        countries=sorted(phonenumbers.SUPPORTED_REGIONS),
    )


# -- additional instructions and the try-it chat ------------------------------------


@bp.route("/instructions", methods=["GET", "POST"])
@admin_required
def instructions():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _instructions_page(_workspace().instructions, "")
    text = str(request.form.get("instructions", ""))
    try:
        clean_profile({"instructions": text}, partial=True)
        container().workspaces.update_profile(current().workspace_id, {"instructions": text})
    except ValidationError as exc:
        return _instructions_page(text, exc.message), 400
    flash("Instructions saved. The test chat and every new message now follow them.", "success")
    return redirect(url_for(".instructions"))


def _instructions_page(text: str, error: str) -> str:
    staff = current()
    workspace = _workspace()
    conversation, messages = _tryit().transcript(staff.workspace_id, staff.member.id)
    chat = {
        "greeting": str(workspace.widget.get("initial_message") or ""),
        "messages": [message_json(m) for m in messages],
        "mode": str(conversation.mode) if conversation else "ai",
    }
    return render_template(
        "settings/instructions.html",
        instructions=text,
        error=error,
        limit=MAX_INSTRUCTIONS,
        chat=chat,
    )


@bp.get("/try-it/messages")
@admin_required
def tryit_messages():  # type: ignore[no-untyped-def]
    staff = current()
    conversation, messages = _tryit().transcript(staff.workspace_id, staff.member.id)
    return jsonify(
        messages=[message_json(m) for m in messages],
        mode=str(conversation.mode) if conversation else "ai",
    )


@bp.post("/try-it/messages")
@admin_required
def tryit_send():  # type: ignore[no-untyped-def]
    """Run one real AI turn on the admin's test chat and return the transcript."""
    staff = current()
    body = str((request.get_json(silent=True) or {}).get("body", ""))
    tryit = _tryit()
    try:
        turn = tryit.send(staff.workspace_id, staff.member.id, body)
    except FrontdeskError as exc:
        return jsonify(error=str(exc)), 400
    except Exception:  # a model or network failure must reach the admin as a message
        log.exception("try-it turn failed for member %s", staff.member.id)
        message = "The receptionist could not answer just now (see the server log for why)."
        return jsonify(error=message), 502
    notice = ""
    if turn.outcome == TurnOutcome.NOT_AI:
        notice = (
            "The receptionist handed this chat to a person, so it stays silent now "
            "(in a real chat your team would take over). Reset the test chat to start again."
        )
    _, messages = tryit.transcript(staff.workspace_id, staff.member.id)
    return jsonify(
        messages=[message_json(m) for m in messages],
        reply=message_json(turn.reply) if turn.reply is not None else None,
        mode=str(turn.conversation.mode),
        notice=notice,
    )


@bp.post("/try-it/reset")
@admin_required
def tryit_reset():  # type: ignore[no-untyped-def]
    staff = current()
    forgot = _tryit().reset(staff.workspace_id, staff.member.id)
    return jsonify(ok=True, reset=forgot)

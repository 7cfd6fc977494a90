"""Settings > AI actions, for admins: HTTP calls the AI may make as tools.

List, add, edit, switch on or off, delete, and "test this action" with sample parameters
(the same call the AI would make, showing the status code, the fields the AI would see
and the fields the answer offers). Secret header values are written once and never shown
again: leaving one blank when editing keeps the stored secret.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from agent.core.custom_actions import METHODS, ActionDraft
from agent.core.errors import FrontdeskError, ValidationError
from agent.core.models import CustomAction
from agent.graph.actions import as_data
from web.context import container
from web.security import admin_required, current

bp = Blueprint("actions_admin", __name__, url_prefix="/settings/actions")

EXAMPLE_PARAMETERS = json.dumps(
    {
        "type": "object",
        "properties": {
            "order_number": {
                "type": "string",
                "title": "Order number",
                "pattern": "^[A-Z]-\\d{4}$",
                "examples": ["A-1234"],
            }
        },
        "required": ["order_number"],
    },
    indent=2,
)


def _header_lines(text: str, *, secret: bool) -> list[dict[str, Any]]:
    """ "Name: value" per line; a secret line with no value keeps the stored secret."""
    headers = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, _, value = line.partition(":")
        headers.append({"name": name.strip(), "value": value.strip(), "secret": secret})
    return headers


def _draft() -> ActionDraft:
    form = request.form
    return ActionDraft(
        name=form.get("name", ""),
        description=form.get("description", ""),
        parameters=form.get("parameters", ""),
        method=form.get("method", "GET"),
        url=form.get("url", ""),
        headers=_header_lines(form.get("headers", ""), secret=False)
        + _header_lines(form.get("secret_headers", ""), secret=True),
        response_fields=form.get("response_fields", ""),
        enabled=form.get("enabled") == "on",
    )


def _form_of(action: CustomAction) -> dict[str, Any]:
    """An action as its edit form shows it: secret values never leave the server."""
    headers = action.headers or []
    return {
        "name": action.name,
        "description": action.description,
        "parameters": json.dumps(action.parameters, indent=2, ensure_ascii=False),
        "method": action.method,
        "url": action.url,
        "headers": "\n".join(f"{h['name']}: {h['value']}" for h in headers if not h["secret"]),
        "secret_headers": "\n".join(f"{h['name']}:" for h in headers if h["secret"]),
        "response_fields": "\n".join(action.response_fields or []),
        "enabled": action.enabled,
    }


def _errors(exc: FrontdeskError) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return {exc.field: exc.message}
    return {"form": str(exc)}


def _index(status: int = 200, **shown: object):  # type: ignore[no-untyped-def]
    actions = container().custom_actions.actions(current().workspace_id)
    shown.setdefault("form", {"method": "GET", "parameters": EXAMPLE_PARAMETERS, "enabled": True})
    page = render_template("settings/actions.html", actions=actions, methods=METHODS, **shown)
    return page, status


def _edit(action: CustomAction, status: int = 200, **shown: object):  # type: ignore[no-untyped-def]
    shown.setdefault("form", _form_of(action))
    shown.setdefault("sample", json.dumps({k: "" for k in action.parameters.get("properties", {})}))
    page = render_template("settings/action_edit.html", action=action, methods=METHODS, **shown)
    return page, status


@bp.get("/")
@admin_required
def index():  # type: ignore[no-untyped-def]
    return _index()


@bp.post("/")
@admin_required
def add():  # type: ignore[no-untyped-def]
    try:
        action = container().custom_actions.add(current().workspace_id, _draft())
    except FrontdeskError as exc:
        return _index(400, errors=_errors(exc), form=request.form)
    flash(f"Action {action.name} added: test it below before visitors rely on it.", "success")
    return redirect(url_for("actions_admin.edit", action_id=action.id))


@bp.get("/<int:action_id>")
@admin_required
def edit(action_id: int):  # type: ignore[no-untyped-def]
    return _edit(container().custom_actions.action(current().workspace_id, action_id))


@bp.post("/<int:action_id>")
@admin_required
def update(action_id: int):  # type: ignore[no-untyped-def]
    service = container().custom_actions
    workspace_id = current().workspace_id
    try:
        action = service.update(workspace_id, action_id, _draft())
    except FrontdeskError as exc:
        action = service.action(workspace_id, action_id)
        return _edit(action, 400, errors=_errors(exc), form=request.form)
    flash(f"Action {action.name} saved.", "success")
    return redirect(url_for("actions_admin.edit", action_id=action.id))


@bp.post("/<int:action_id>/enabled")
@admin_required
def toggle(action_id: int):  # type: ignore[no-untyped-def]
    on = request.form.get("enabled") == "on"
    action = container().custom_actions.set_enabled(current().workspace_id, action_id, on)
    state = "on: the AI may call it" if action.enabled else "off: the AI no longer calls it"
    flash(f"Action {action.name} switched {state}.", "success")
    return redirect(url_for("actions_admin.index"))


@bp.post("/<int:action_id>/remove")
@admin_required
def remove(action_id: int):  # type: ignore[no-untyped-def]
    container().custom_actions.remove(current().workspace_id, action_id)
    flash("Action deleted: the AI no longer has it.", "success")
    return redirect(url_for("actions_admin.index"))


@bp.post("/<int:action_id>/test")
@admin_required
def test(action_id: int):  # type: ignore[no-untyped-def]
    service = container().custom_actions
    workspace_id = current().workspace_id
    action = service.action(workspace_id, action_id)
    sample = request.form.get("sample", "")
    outcome = as_data(service.test(workspace_id, action_id, sample))  # as the AI sees it
    return _edit(action, sample=sample, outcome=outcome)

"""Admin settings page for the website chat widget: appearance, messages, allowed websites,
the install snippet and the WordPress plugin.

Admin-only and always on the signed-in member's own workspace (no ids in the URLs).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from agent.core.errors import ValidationError
from agent.core.models import Workspace
from agent.core.workspaces import WIDGET_DEFAULTS, clean_widget
from web.context import container
from web.security import admin_required, current
from widget.snippet import embedded_snippet, snippet, snippet_base
from widget.wordpress import plugin_zip

bp = Blueprint(
    "widget_settings", __name__, url_prefix="/settings/widget", template_folder="templates"
)
TEXT_FIELDS = ("greeting", "initial_message", "primary_color", "accent_color", "text_color")
LIMITS = {"greeting": 70, "initial_message": 600}  # what clean_widget enforces, for the counters


def values_from_workspace(workspace: Workspace) -> dict[str, Any]:
    """What the form shows: the saved settings over the defaults, origins one per line."""
    widget = {**WIDGET_DEFAULTS, **(workspace.widget or {})}
    return {**widget, "allowed_origins": "\n".join(widget["allowed_origins"])}


def values_from_form(form: Any) -> dict[str, Any]:
    """The submitted form (a werkzeug MultiDict), as typed, in the form's shape."""
    return {
        **{key: str(form.get(key, "")).strip() for key in TEXT_FIELDS},
        "position": str(form.get("position", "")),
        "mobile_popup": form.get("mobile_popup") == "on",
        "allowed_origins": str(form.get("allowed_origins", "")),
    }


def widget_from_values(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The widget settings to save and every field's error (clean_widget checks one at a time)."""
    widget = {
        **values,
        "allowed_origins": [
            line.strip() for line in values["allowed_origins"].splitlines() if line.strip()
        ],
    }
    errors: dict[str, str] = {}
    for key, value in widget.items():
        try:
            clean_widget({key: value})
        except ValidationError as exc:
            errors[key] = exc.message
    return widget, errors


def _workspace() -> Workspace:
    with container().uow() as uow:
        return uow.workspace(current().workspace_id).workspace()


def _base() -> str:
    return snippet_base(container().settings.public_url, request.host_url)


@bp.route("", methods=["GET", "POST"])
@admin_required
def index():  # type: ignore[no-untyped-def]
    workspace = _workspace()
    if request.method == "GET":
        return _page(workspace, values_from_workspace(workspace), {})
    values = values_from_form(request.form)
    widget, errors = widget_from_values(values)
    if not errors:
        try:
            # the away message is set on Settings > Channels: kept as it is
            kept = {"away_message": (workspace.widget or {}).get("away_message", "")}
            container().workspaces.update_profile(workspace.id, {"widget": {**widget, **kept}})
        except ValidationError as exc:  # a rule spanning fields: shown at the top
            field = exc.field.removeprefix("widget.")
            errors[field if field in values else "form"] = exc.message
    if errors:
        return _page(workspace, values, errors), 400
    flash(
        "Widget settings saved. Websites showing the chat pick them up on the next page view.",
        "success",
    )
    return redirect(url_for(".index"))


def _page(workspace: Workspace, values: dict[str, Any], errors: dict[str, str]) -> str:
    base = _base()
    return render_template(
        "widget/settings.html",
        workspace=workspace,
        values=values,
        errors=errors,
        limits=LIMITS,
        snippet=snippet(base, workspace.widget_key),
        embedded_snippet=embedded_snippet(base, workspace.widget_key),
    )


@bp.get("/wordpress.zip")
@admin_required
def wordpress_zip():  # type: ignore[no-untyped-def]
    workspace = _workspace()
    return Response(
        plugin_zip(snippet(_base(), workspace.widget_key)),
        mimetype="application/zip",
        headers={"Content-Disposition": 'attachment; filename="frontdesk-chat.zip"'},
    )

"""Settings > Webhooks, for admins: endpoints that receive the workspace's events.

Add one (its URL and the events it wants; the signing secret is shown on the page that
answers, once, never stored in a cookie), remove one, send it a test ping, and read its
delivery log (time, event, status, response code, error) with a "Resend" per delivery.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from agent.core.errors import Conflict, FrontdeskError
from agent.core.webhook_payloads import EVENT_TYPES
from web.context import container
from web.security import admin_required, current

bp = Blueprint("webhooks_admin", __name__, url_prefix="/settings/webhooks")


def _index(status: int = 200, **shown: object):  # type: ignore[no-untyped-def]
    endpoints = container().outgoing_webhooks.endpoints(current().workspace_id)
    page = render_template(
        "settings/webhooks.html", endpoints=endpoints, event_types=EVENT_TYPES, **shown
    )
    return page, status


@bp.get("/")
@admin_required
def index():  # type: ignore[no-untyped-def]
    return _index()


@bp.post("/")
@admin_required
def add():  # type: ignore[no-untyped-def]
    url = request.form.get("url", "")
    events = request.form.getlist("events")
    try:
        endpoint, secret = container().outgoing_webhooks.add(current().workspace_id, url, events)
    except FrontdeskError as exc:
        return _index(400, error=str(exc), form={"url": url, "events": events})
    return _index(201, added=endpoint, secret=secret)


@bp.post("/<int:endpoint_id>/remove")
@admin_required
def remove(endpoint_id: int):  # type: ignore[no-untyped-def]
    container().outgoing_webhooks.remove(current().workspace_id, endpoint_id)
    flash("Webhook endpoint removed: nothing more is sent to it.", "success")
    return redirect(url_for("webhooks_admin.index"))


@bp.post("/<int:endpoint_id>/test")
@admin_required
def test(endpoint_id: int):  # type: ignore[no-untyped-def]
    delivery = container().outgoing_webhooks.test(current().workspace_id, endpoint_id)
    if delivery.status == "delivered":
        flash(f"Test ping sent: the endpoint answered {delivery.response_code}.", "success")
    else:
        flash(f"The test ping failed: {delivery.last_error}", "error")
    return redirect(url_for("webhooks_admin.log", endpoint_id=endpoint_id))


@bp.get("/<int:endpoint_id>")
@admin_required
def log(endpoint_id: int):  # type: ignore[no-untyped-def]
    service = container().outgoing_webhooks
    workspace_id = current().workspace_id
    endpoint = service.endpoint(workspace_id, endpoint_id)
    deliveries = service.deliveries(workspace_id, endpoint_id)
    return render_template("settings/webhook_log.html", endpoint=endpoint, deliveries=deliveries)


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@admin_required
def resend(endpoint_id: int, delivery_id: int):  # type: ignore[no-untyped-def]
    service = container().outgoing_webhooks
    workspace_id = current().workspace_id
    endpoint = service.endpoint(workspace_id, endpoint_id)
    try:
        delivery = service.resend(workspace_id, delivery_id, endpoint_id=endpoint.id)
    except Conflict as exc:
        flash(str(exc), "error")
    else:
        flash(f"The {delivery.event_type} event is being sent again.", "success")
    return redirect(url_for("webhooks_admin.log", endpoint_id=endpoint.id))

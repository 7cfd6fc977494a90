"""Settings > Channels: connect the workspace's provider accounts, for admins.

A card per channel with its state (not connected, connected, error and the last error),
connect and disconnect, where to point the provider (addresses, webhook URLs), "send a
test" when this server has a sender for it, and the AI auto-reply toggle. Forms post
back here and redirect with a note; a refused input shows as an error note. Secrets are
only ever shown masked.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from agent.core.after_hours import AWAY_MESSAGE, MAX_AWAY_CHARS, clean_away_message
from agent.core.channel_accounts import (
    META,
    META_CREDENTIALS,
    META_WEBHOOK_PATH,
    TWILIO_PATHS,
    WHATSAPP_WEBHOOK_PATH,
    ChannelState,
)
from agent.core.errors import FrontdeskError, ValidationError
from agent.core.models import Channel
from agent.core.whatsapp_templates import CATEGORIES, DEFAULT_TEMPLATE
from web.context import container
from web.security import admin_required, current

bp = Blueprint("channels_admin", __name__, url_prefix="/settings/channels")
_CHANNELS = frozenset(c.value for c in Channel if c != Channel.WEBCHAT)
# Conditional call forwarding (no answer / busy) to the Twilio number, so a business keeps
# its own number and only missed calls reach frontdesk: (carrier, turn on, turn off).
FORWARDING_CODES = [
    ("AT&T", "*61*<number># (no answer), *67*<number># (busy)", "#61# and #67#"),
    ("T-Mobile", "**61*1<number># (no answer), **67*1<number># (busy)", "##61# and ##67#"),
    ("Verizon", "*71<number> (no answer or busy)", "*73"),
    ("Rogers", "*92<number> (no answer), *90<number> (busy)", "*93 and *91"),
    ("Bell", "*92<number> (no answer), *90<number> (busy)", "*93 and *91"),
    ("Telus", "*92<number> (no answer), *90<number> (busy)", "*93 and *91"),
]


def _card(state: ChannelState) -> dict[str, Any]:
    """The channel's shared description plus what only this page shows."""
    settings = container().settings
    card = state.as_dict()
    card["away_message"] = str(state.settings.get(AWAY_MESSAGE) or "")
    card["testable"] = state.state != "not_connected" and container().delivery.can_send(
        state.channel
    )
    if state.channel in (Channel.SMS, Channel.PHONE):
        base = settings.base_url.rstrip("/")
        card["twilio_urls"] = {name: base + path for name, path in TWILIO_PATHS.items()}
        card["twilio_urls"]["call_status"] = base + TWILIO_PATHS["voice"] + "/status"
        card["forwarding_codes"] = FORWARDING_CODES
    card["meta"] = state.channel in (*META, Channel.WHATSAPP)
    if card["meta"]:
        # The admin pastes these into the Meta app; the verify token is theirs to see.
        account = container().channels.account(current().workspace_id, state.channel)
        token = container().channels.credentials(account).get("verify_token") if account else ""
        card["verify_token"] = token or secrets.token_urlsafe(18)
        path = WHATSAPP_WEBHOOK_PATH if state.channel == Channel.WHATSAPP else META_WEBHOOK_PATH
        card["webhook_url"] = settings.base_url + path
    if state.channel == Channel.EMAIL:
        card["email_domain"] = settings.email_domain
        card["smtp_port"] = settings.inbound_smtp_port
        card["smtp_host"] = settings.inbound_smtp_host
        card["outbound"] = bool(settings.smtp_url)
    return card


@bp.get("/")
@admin_required
def index():  # type: ignore[no-untyped-def]
    states = container().channels.states(current().workspace_id)
    with container().uow(read_only=True) as uow:
        widget = uow.workspace(current().workspace_id).workspace().widget or {}
    return render_template(
        "settings/channels.html",
        cards=[_card(s) for s in states],
        webchat_away=str(widget.get(AWAY_MESSAGE) or ""),
        away_limit=MAX_AWAY_CHARS,
    )


def _channel(channel: str) -> str:
    if channel not in _CHANNELS:
        raise ValidationError("channel", f"{channel!r} is not a channel")
    return channel


def _back() -> Any:
    return redirect(url_for(".index"))


@bp.post("/email/connect")
@admin_required
def connect_email():  # type: ignore[no-untyped-def]
    address = str(request.form.get("address", ""))
    try:
        account = container().channels.connect_email(current().workspace_id, address)
    except FrontdeskError as exc:
        flash(f"Email was not connected: {exc}", "error")
        return _back()
    flash(f"Email is connected. Forward your mail to {account.external_id}.", "success")
    return _back()


@bp.post("/<any(messenger,instagram):channel>/connect")
@admin_required
def connect_meta(channel: str):  # type: ignore[no-untyped-def]
    form = {k: str(request.form.get(k, "")) for k in ("account_id", *META_CREDENTIALS)}
    label = "Messenger" if channel == Channel.MESSENGER else "Instagram"
    try:
        container().channels.connect_meta(current().workspace_id, channel, **form)
    except FrontdeskError as exc:
        flash(f"{label} was not connected: {exc}", "error")
        return _back()
    flash(
        f"{label} is connected. Subscribe the webhook in your Meta app if you have not.", "success"
    )
    return _back()


@bp.post("/whatsapp/connect")
@admin_required
def connect_whatsapp():  # type: ignore[no-untyped-def]
    names = ("phone_number_id", "waba_id", "display_number", *META_CREDENTIALS)
    form: dict[str, Any] = {k: str(request.form.get(k, "")) for k in names}
    tier = str(request.form.get("tier", "") or "250").strip()
    form["tier"] = int(tier) if tier.isdigit() else -1
    try:
        container().channels.connect_whatsapp(current().workspace_id, **form)
    except FrontdeskError as exc:
        flash(f"WhatsApp was not connected: {exc}", "error")
        return _back()
    flash("WhatsApp is connected. Subscribe the webhook in your Meta app if not done.", "success")
    return _back()


@bp.post("/twilio/connect")
@admin_required
def connect_twilio():  # type: ignore[no-untyped-def]
    names = ("account_sid", "auth_token", "number", "calls", "forward_to", "text_back")
    form: dict[str, Any] = {k: str(request.form.get(k, "")) for k in names}
    form["calls"] = form["calls"] or "end"
    form["text_back"] = form["text_back"] or "missed"
    try:
        sms, _ = container().channels.connect_twilio(current().workspace_id, **form)
    except FrontdeskError as exc:
        flash(f"Twilio was not connected: {exc}", "error")
        return _back()
    flash(f"SMS and calls are connected on {sms.external_id}. Paste the webhook URLs into the "
          "number's configuration in Twilio.", "success")  # fmt: skip
    return _back()


@bp.post("/sms/settings")
@admin_required
def sms_settings():  # type: ignore[no-untyped-def]
    cap = str(request.form.get("daily_segments", "")).strip()
    try:
        container().channels.configure_sms(
            current().workspace_id,
            a2p_registered=request.form.get("a2p_registered") == "on",
            daily_segments=int(cap) if cap.isdigit() else -1,
        )
    except FrontdeskError as exc:
        flash(str(exc), "error")
        return _back()
    flash("SMS settings saved.", "success")
    return _back()


@bp.post("/phone/settings")
@admin_required
def call_settings():  # type: ignore[no-untyped-def]
    names = ("calls", "forward_to", "text_back", "text_back_template", "end_message")
    try:
        container().channels.configure_calls(
            current().workspace_id, **{k: str(request.form.get(k, "")) for k in names}
        )
    except FrontdeskError as exc:
        flash(str(exc), "error")
        return _back()
    flash("Call settings saved.", "success")
    return _back()


# -- WhatsApp templates ------------------------------------------------------------------


@bp.get("/whatsapp/templates")
@admin_required
def whatsapp_templates():  # type: ignore[no-untyped-def]
    found = container().whatsapp_templates.all(current().workspace_id)
    connected = container().channels.account(current().workspace_id, Channel.WHATSAPP)
    return render_template(
        "settings/whatsapp_templates.html",
        templates=found,
        categories=CATEGORIES,
        default=DEFAULT_TEMPLATE if not found else None,
        connected=connected is not None,
    )


def _templates_page() -> Any:
    return redirect(url_for(".whatsapp_templates"))


@bp.post("/whatsapp/templates")
@admin_required
def create_whatsapp_template():  # type: ignore[no-untyped-def]
    fields = ("name", "category", "language", "body", "header", "buttons")
    values = {k: str(request.form.get(k, "")) for k in fields}
    service = container().whatsapp_templates
    try:
        template = service.create(current().workspace_id, values)
        if request.form.get("submit") == "yes":
            service.submit(current().workspace_id, template.id)
            flash(f"{template.name} was sent to Meta for review.", "success")
        else:
            flash(f"{template.name} was saved as a draft.", "success")
    except FrontdeskError as exc:
        flash(f"The template was not saved: {exc}", "error")
    return _templates_page()


@bp.post("/whatsapp/templates/<int:template_id>/submit")
@admin_required
def submit_whatsapp_template(template_id: int):  # type: ignore[no-untyped-def]
    try:
        template = container().whatsapp_templates.submit(current().workspace_id, template_id)
    except FrontdeskError as exc:
        flash(str(exc), "error")
        return _templates_page()
    flash(f"{template.name} was sent to Meta for review.", "success")
    return _templates_page()


@bp.post("/whatsapp/templates/<int:template_id>/delete")
@admin_required
def delete_whatsapp_template(template_id: int):  # type: ignore[no-untyped-def]
    container().whatsapp_templates.delete(current().workspace_id, template_id)
    flash(
        "The template was deleted here (Meta keeps its copy until you delete it there).", "success"
    )
    return _templates_page()


@bp.post("/<channel>/disconnect")
@admin_required
def disconnect(channel: str):  # type: ignore[no-untyped-def]
    channel = _channel(channel)
    label = dict((s.channel, s.label) for s in container().channels.states(current().workspace_id))
    if container().channels.disconnect(current().workspace_id, channel):
        flash(f"{label[channel]} is disconnected.", "success")
    return _back()


@bp.post("/<channel>/auto-reply")
@admin_required
def auto_reply(channel: str):  # type: ignore[no-untyped-def]
    channel = _channel(channel)
    enabled = request.form.get("enabled") == "on"
    try:
        container().channels.set_auto_reply(current().workspace_id, channel, enabled)
    except FrontdeskError as exc:
        flash(str(exc), "error")
        return _back()
    what = "answers" if enabled else "no longer answers (your team does)"
    flash(f"The AI receptionist {what} on this channel.", "success")
    return _back()


@bp.post("/<channel>/away")
@admin_required
def away_message(channel: str):  # type: ignore[no-untyped-def]
    """The channel's away message (web chat keeps it with the widget settings)."""
    workspace_id = current().workspace_id
    try:
        text = clean_away_message(str(request.form.get("away_message", "")))
        if channel == Channel.WEBCHAT:
            with container().uow(read_only=True) as uow:
                widget = dict(uow.workspace(workspace_id).workspace().widget or {})
            container().workspaces.update_profile(
                workspace_id, {"widget": {**widget, AWAY_MESSAGE: text}}
            )
        else:
            container().channels.update_settings(
                workspace_id, _channel(channel), {AWAY_MESSAGE: text}
            )
    except FrontdeskError as exc:
        flash(f"The away message was not saved: it {getattr(exc, 'message', exc)}.", "error")
        return _back()
    flash("Away message saved." if text else "Away message turned off.", "success")
    return _back()


@bp.post("/<channel>/test")
@admin_required
def send_test(channel: str):  # type: ignore[no-untyped-def]
    channel = _channel(channel)
    to = str(request.form.get("to", ""))
    try:
        container().delivery.send_test(current().workspace_id, channel, to)
    except FrontdeskError as exc:
        flash(str(exc), "error")
        return _back()
    flash(f"Test message sent to {to.strip()}.", "success")
    return _back()

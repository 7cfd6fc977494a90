"""Settings > Automations, for admins: rules of trigger → conditions → actions.

A rule is filled in on one form (every condition and action optional, all conditions
must hold, the actions run in the form's order), saved switched off, dry-run against the
last 50 events of its trigger ("Try it on recent events"), then switched on. Each rule's
page shows its run log: the event, each condition's verdict, what each action did.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from agent.core.automation_rules import CHANNELS, PLACEHOLDERS, TRIGGERS
from agent.core.automations import RuleDraft
from agent.core.errors import FrontdeskError
from agent.core.models import AutomationRule
from web.context import container
from web.security import admin_required, current

bp = Blueprint("automations_admin", __name__, url_prefix="/settings/automations")

# The form's actions, in the order they run.
_ACTION_ORDER = ("assign", "tag", "handoff", "template", "email", "sms", "webhook", "close")


def rule_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as the service's rule values (checked by the service)."""
    conditions: list[dict[str, Any]] = []
    if channels := form.getlist("cond_channels"):
        conditions.append({"kind": "channel", "channels": channels})
    if when := form.get("cond_hours"):
        conditions.append({"kind": "hours", "when": when})
    if words := form.get("cond_keywords", "").strip():
        conditions.append({"kind": "keywords", "words": words})
    if pattern := form.get("cond_regex", "").strip():
        conditions.append({"kind": "regex", "pattern": pattern})
    for field in ("email", "phone"):
        if has := form.get(f"cond_{field}"):
            conditions.append({"kind": "contact", "field": field, "present": has == "yes"})
    if tag := form.get("cond_tag", "").strip():
        present = form.get("cond_tag_present", "yes") == "yes"
        conditions.append({"kind": "tag", "tag": tag, "present": present})
    if mode := form.get("cond_mode"):
        conditions.append({"kind": "mode", "mode": mode})
    if assignee := form.get("cond_assignee"):
        conditions.append(
            {"kind": "assignee", "member_id": None if assignee == "none" else assignee}
        )
    actions: list[dict[str, Any]] = []
    if member := form.get("act_assign"):
        actions.append({"kind": "assign", "member_id": member})
    if tag := form.get("act_tag", "").strip():
        actions.append({"kind": "tag", "tag": tag})
    if form.get("act_handoff"):
        actions.append({"kind": "handoff"})
    if template := form.get("act_template"):
        actions.append({"kind": "template", "template_id": template})
    for to in ("team", "contact"):
        if form.get(f"act_email_{to}"):
            actions.append(
                {
                    "kind": "email",
                    "to": to,
                    "subject": form.get(f"act_email_{to}_subject", ""),
                    "body": form.get(f"act_email_{to}_body", ""),
                }
            )
    if numbers := form.get("act_sms_team_numbers", "").strip():
        actions.append(
            {"kind": "sms", "to": "team", "numbers": numbers, "body": form.get("act_sms_team_body")}
        )
    if form.get("act_sms_contact"):
        actions.append({"kind": "sms", "to": "contact", "body": form.get("act_sms_contact_body")})
    if endpoint := form.get("act_webhook"):
        actions.append({"kind": "webhook", "endpoint_id": endpoint})
    if form.get("act_close"):
        actions.append({"kind": "close"})
    return {
        "name": form.get("name", ""),
        "trigger": form.get("trigger", ""),
        "wait_minutes": form.get("wait_minutes") or 0,
        "conditions": conditions,
        "actions": actions,
    }


def form_from_rule(rule: AutomationRule | RuleDraft) -> MultiDict[str, str]:
    """A saved rule as the form's fields, to edit it."""
    form: MultiDict[str, str] = MultiDict(
        {"name": rule.name, "trigger": rule.trigger, "wait_minutes": str(rule.wait_minutes or "")}
    )
    for c in rule.conditions:
        kind = c["kind"]
        if kind == "channel":
            for channel in c["channels"]:
                form.add("cond_channels", channel)
        elif kind == "hours":
            form["cond_hours"] = c["when"]
        elif kind == "keywords":
            form["cond_keywords"] = ", ".join(c["words"])
        elif kind == "regex":
            form["cond_regex"] = c["pattern"]
        elif kind == "contact":
            form[f"cond_{c['field']}"] = "yes" if c["present"] else "no"
        elif kind == "tag":
            form["cond_tag"], form["cond_tag_present"] = c["tag"], "yes" if c["present"] else "no"
        elif kind == "mode":
            form["cond_mode"] = c["mode"]
        elif kind == "assignee":
            form["cond_assignee"] = "none" if c["member_id"] is None else str(c["member_id"])
    for a in rule.actions:
        kind = a["kind"]
        if kind == "assign":
            form["act_assign"] = str(a["member_id"])
        elif kind == "tag":
            form["act_tag"] = a["tag"]
        elif kind in ("handoff", "close"):
            form[f"act_{kind}"] = "on"
        elif kind == "template":
            form["act_template"] = str(a["template_id"])
        elif kind == "email":
            prefix = f"act_email_{a['to']}"
            form[prefix], form[f"{prefix}_subject"], form[f"{prefix}_body"] = (
                "on",
                a["subject"],
                a["body"],
            )
        elif kind == "sms" and a["to"] == "team":
            form["act_sms_team_numbers"] = ", ".join(a["numbers"])
            form["act_sms_team_body"] = a["body"]
        elif kind == "sms":
            form["act_sms_contact"], form["act_sms_contact_body"] = "on", a["body"]
        elif kind == "webhook":
            form["act_webhook"] = str(a["endpoint_id"])
    return form


def _choices(workspace_id: int) -> dict[str, Any]:
    with container().uow() as uow:
        repo = uow.workspace(workspace_id)
        return {
            "members": [(m.id, m.name) for m in repo.team.all()],
            "templates": [(t.id, t.name) for t in repo.templates.all()],
            "endpoints": [(e.id, e.url) for e in repo.webhook_endpoints.all()],
        }


def _editor(
    form: MultiDict[str, str], rule: AutomationRule | None = None, status: int = 200, **shown: Any
):  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    service = container().automations
    page = render_template(
        "settings/automation_edit.html",
        form=form,
        rule=rule,
        runs=service.runs(workspace_id, rule.id) if rule is not None else [],
        described=service.describe(workspace_id, rule) if rule is not None else None,
        triggers=TRIGGERS,
        channels=CHANNELS,
        placeholders=PLACEHOLDERS,
        **_choices(workspace_id),
        **shown,
    )
    return page, status


def _submit(rule: AutomationRule | None):  # type: ignore[no-untyped-def]
    """Save the form, or dry-run it ("Try it on recent events") without saving."""
    workspace_id = current().workspace_id
    service = container().automations
    try:
        draft = service.check(workspace_id, **rule_from_form(request.form))
    except FrontdeskError as exc:
        return _editor(request.form, rule, 400, error=str(exc))
    if request.form.get("do") == "dry-run":
        outcomes = service.dry_run(workspace_id, draft)
        return _editor(
            request.form,
            rule,
            dry_run=outcomes,
            dry_described=service.describe(workspace_id, draft),
        )
    saved = service.save(
        workspace_id,
        draft,
        by=current().member.email,
        rule_id=rule.id if rule is not None else None,
    )
    state = "on" if saved.enabled else "off: try it on recent events, then switch it on"
    flash(f"Rule “{saved.name}” saved ({state}).", "success")
    return redirect(url_for("automations_admin.edit", rule_id=saved.id))


@bp.get("/")
@admin_required
def index():  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    service = container().automations
    rules = [(r, service.describe(workspace_id, r)) for r in service.rules(workspace_id)]
    return render_template("settings/automations.html", rules=rules)


@bp.get("/new")
@admin_required
def new():  # type: ignore[no-untyped-def]
    return _editor(MultiDict({"trigger": "message.received"}))


@bp.post("/new")
@admin_required
def create():  # type: ignore[no-untyped-def]
    return _submit(None)


@bp.get("/<int:rule_id>")
@admin_required
def edit(rule_id: int):  # type: ignore[no-untyped-def]
    rule = container().automations.rule(current().workspace_id, rule_id)
    return _editor(form_from_rule(rule), rule)


@bp.post("/<int:rule_id>")
@admin_required
def update(rule_id: int):  # type: ignore[no-untyped-def]
    return _submit(container().automations.rule(current().workspace_id, rule_id))


@bp.post("/<int:rule_id>/switch")
@admin_required
def switch(rule_id: int):  # type: ignore[no-untyped-def]
    enabled = request.form.get("enabled") == "on"
    rule = container().automations.switch(current().workspace_id, rule_id, enabled)
    flash(f"Rule “{rule.name}” is {'on' if enabled else 'off'}.", "success")
    back = request.form.get("next", "")
    if not back.startswith(url_for("automations_admin.index")):  # never off this site
        back = url_for("automations_admin.index")
    return redirect(back)


@bp.post("/<int:rule_id>/remove")
@admin_required
def remove(rule_id: int):  # type: ignore[no-untyped-def]
    container().automations.remove(current().workspace_id, rule_id)
    flash("Rule removed, with its run log.", "success")
    return redirect(url_for("automations_admin.index"))

"""The team (members, roles, invites), message templates, and each member's own account.

Team and template pages are admin-only and scoped to the signed-in member's workspace:
an id from another workspace is simply not found. ``/invite/<token>`` is public: the
signed token is the invitee's only credential, and it works once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from agent.core.errors import FrontdeskError, NotFound, ValidationError
from agent.core.invites import INVITE_DAYS, InviteError, InviteService
from agent.core.models import Role
from agent.core.team import NOTIFY_CHOICES, TeamService
from agent.core.templates import BODY_LIMIT, NAME_LIMIT, TemplateService
from agent.mail import SmtpSender
from web.context import container
from web.security import admin_required, current, login_required, sign_in

bp = Blueprint("team", __name__)
NOTIFY_LABELS = {
    "instant": "Instant: an email for each new lead and handoff",
    "digest": "Daily digest: one email each morning about the day before",
    "off": "Off: no email (live notifications in the inbox only)",
}
_LINK_KEY = "team.invite_link"  # shown once on the team page when email is not sent


def _errors(exc: FrontdeskError) -> dict[str, str]:
    """Field errors for the form; NotFound stays a 404."""
    if isinstance(exc, NotFound):
        raise exc
    if isinstance(exc, ValidationError):
        return {exc.field: exc.message}
    return {"form": str(exc)}


def _team() -> TeamService:
    return TeamService(container().uow, container().clock, container().events)


def _templates() -> TemplateService:
    return TemplateService(container().uow, container().clock)


def _invites() -> InviteService:
    c = container()
    settings = c.settings
    sender = SmtpSender(settings.smtp_url, settings.mail_from) if settings.smtp_url else None
    return InviteService(c.uow, c.clock, c.workspaces, settings.secret_key, sender)


def _invite_link(token: str) -> str:
    """Absolute, for an email: the public URL when set (behind a proxy), else this host."""
    public = container().settings.public_url.rstrip("/")
    if public:
        return public + url_for("team.accept_invite", token=token)
    return url_for("team.accept_invite", token=token, _external=True)


# -- team ---------------------------------------------------------------------------


@bp.get("/settings/team")
@admin_required
def index():  # type: ignore[no-untyped-def]
    return _team_page({}, {})


def _team_page(form: Any, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    staff = current()
    with container().uow() as uow:
        members = list(uow.workspace(staff.workspace_id).team.all())
    page = render_template(
        "team/team.html",
        members=members,
        me=staff.member.id,
        admins=sum(m.role == Role.ADMIN for m in members),
        pending=_invites().pending(staff.workspace_id),
        shared_link=session.pop(_LINK_KEY, None),
        notify_labels=NOTIFY_LABELS,
        form=form,
        errors=errors,
        days=INVITE_DAYS,
        email_ready=bool(container().settings.smtp_url),
    )
    return page, status


@bp.post("/settings/team/invite")
@admin_required
def invite():  # type: ignore[no-untyped-def]
    staff = current()
    email = request.form.get("email", "").strip()
    try:
        sent = _invites().invite(
            staff.workspace_id, staff.member.id, email, request.form.get("role", ""), _invite_link
        )
    except FrontdeskError as exc:
        return _team_page(request.form, _errors(exc), 400)
    if sent.emailed:
        to = sent.log.recipient
        flash(f"Invite emailed to {to}. The link works for {INVITE_DAYS} days.", "success")
    else:
        why = sent.log.error or "email is not configured"
        session[_LINK_KEY] = {"email": sent.log.recipient, "link": sent.link, "why": why}
    return redirect(url_for(".index"))


@bp.post("/settings/team/invites/<int:invite_id>/withdraw")
@admin_required
def withdraw_invite(invite_id: int):  # type: ignore[no-untyped-def]
    entry = _invites().withdraw(current().workspace_id, invite_id)
    flash(f"The invite to {entry.recipient} was withdrawn: its link no longer works.", "success")
    return redirect(url_for(".index"))


@bp.post("/settings/team/<int:member_id>/role")
@admin_required
def change_role(member_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    try:
        member = _team().change_role(
            staff.workspace_id, staff.member.id, member_id, request.form.get("role", "")
        )
    except FrontdeskError as exc:
        return _team_page({}, _errors(exc), 400)
    flash(f"{member.name} is now {member.role}.", "success")
    return redirect(url_for(".index"))


@bp.post("/settings/team/<int:member_id>/remove")
@admin_required
def remove(member_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    try:
        member = _team().remove(staff.workspace_id, staff.member.id, member_id)
    except FrontdeskError as exc:
        return _team_page({}, _errors(exc), 400)
    flash(f"{member.name} ({member.email}) was removed from the team.", "success")
    return redirect(url_for(".index"))


# -- message templates ----------------------------------------------------------------


@bp.route("/settings/templates", methods=["GET", "POST"])
@admin_required
def templates():  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    if request.method == "POST":
        try:
            created = _templates().create(
                workspace_id, request.form.get("name", ""), request.form.get("body", "")
            )
        except FrontdeskError as exc:
            return _templates_page(request.form, _errors(exc), 400)
        flash(f"Template “{created.name}” saved: it is in the inbox's template picker.", "success")
        return redirect(url_for(".templates"))
    return _templates_page({}, {})


def _templates_page(form: Any, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    page = render_template(
        "team/templates.html",
        templates=_templates().list(current().workspace_id),
        form=form,
        errors=errors,
        name_limit=NAME_LIMIT,
        body_limit=BODY_LIMIT,
    )
    return page, status


@bp.route("/settings/templates/<int:template_id>", methods=["GET", "POST"])
@admin_required
def edit_template(template_id: int):  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    template = _templates().get(workspace_id, template_id)  # 404 for another workspace's
    form: Any = {"name": template.name, "body": template.body}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            saved = _templates().update(
                workspace_id, template_id, form.get("name", ""), form.get("body", "")
            )
        except FrontdeskError as exc:
            errors = _errors(exc)
        else:
            flash(f"Template “{saved.name}” saved.", "success")
            return redirect(url_for(".templates"))
    page = render_template(
        "team/template_edit.html",
        template=template,
        form=form,
        errors=errors,
        name_limit=NAME_LIMIT,
        body_limit=BODY_LIMIT,
    )
    return page, 400 if errors else 200


@bp.post("/settings/templates/<int:template_id>/delete")
@admin_required
def delete_template(template_id: int):  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    template = _templates().get(workspace_id, template_id)
    _templates().delete(workspace_id, template_id)
    flash(f"Template “{template.name}” deleted.", "success")
    return redirect(url_for(".templates"))


# -- every member's own account --------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():  # type: ignore[no-untyped-def]
    staff = current()
    member = staff.member
    form: Any = {"name": member.name, "avatar_url": member.avatar_url, "notify": member.notify}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            _team().update_account(
                staff.workspace_id,
                member.id or 0,
                name=form.get("name", ""),
                avatar=form.get("avatar_url", ""),
                notify=form.get("notify", ""),
            )
        except FrontdeskError as exc:
            errors = _errors(exc)
        else:
            flash("Your account settings were saved.", "success")
            return redirect(url_for(".account"))
    page = render_template(
        "team/account.html",
        member=member,
        form=form,
        errors=errors,
        choices=NOTIFY_CHOICES,
        notify_labels=NOTIFY_LABELS,
    )
    return page, 400 if errors else 200


# -- accepting an invite (public) ---------------------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):  # type: ignore[no-untyped-def]
    invites = _invites()
    try:
        invite = invites.read(token)
    except InviteError as exc:
        return _invite_error(exc)
    errors: dict[str, str] = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            errors = {"confirm": "The two passwords are different; type the same one twice."}
        else:
            try:
                member = invites.accept(token, request.form.get("name", ""), password)
            except InviteError as exc:
                return _invite_error(exc)
            except FrontdeskError as exc:
                errors = _errors(exc)
            else:
                sign_in(member)
                return redirect(url_for("conversations.inbox"))
    page = render_template("team/accept.html", invite=invite, form=request.form, errors=errors)
    return page, 400 if errors else 200, {"Cache-Control": "no-store"}


def _invite_error(exc: InviteError) -> tuple[str, int]:
    status = 400 if exc.reason == "invalid" else 410
    return render_template("team/invite_error.html", message=str(exc), reason=exc.reason), status

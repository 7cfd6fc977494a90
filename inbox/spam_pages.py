"""Spam actions for the team: "Not spam" and "Block sender" on a conversation, and blocking
or unblocking a contact, their email address, email domain or phone number on the contact
page. Any signed-in member may use them (they are inbox work, like closing a thread);
each is a POST with the session's CSRF token, like every form here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from agent.core import spam
from agent.core.errors import NotFound, ValidationError
from agent.core.models import Contact, SenderRuleKind, SenderVerdict
from agent.core.ports import WorkspaceScope
from inbox import conversations
from web.context import container
from web.security import admin_required, current, login_required

bp = Blueprint("spam", __name__)

KIND_LABELS = {
    SenderRuleKind.CONTACT: "This contact",
    SenderRuleKind.EMAIL: "Email address",
    SenderRuleKind.DOMAIN: "Email domain",
    SenderRuleKind.PHONE: "Phone number",
}


def sender_rows(repo: WorkspaceScope, contact: Contact) -> list[dict[str, Any]]:
    """What the contact page offers to block: each way the contact is known, and whether
    it is blocked or known good now."""
    keys = spam.sender_keys(contact.id, contact.email, contact.phone)
    rules = {(r.kind, r.value): r for r in repo.sender_rules.matching(keys)}
    rows = []
    for kind, value in keys:
        rule = rules.get((kind, value))
        rows.append(
            {
                "kind": kind,
                "label": KIND_LABELS[SenderRuleKind(kind)],
                "value": "" if kind == SenderRuleKind.CONTACT else value,
                "blocked": rule is not None and rule.verdict == SenderVerdict.BLOCKED,
                "good": rule is not None and rule.verdict == SenderVerdict.GOOD,
            }
        )
    return rows


@bp.post("/api/conversations/<int:conversation_id>/not-spam")
@login_required
def not_spam(conversation_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    container().conversations.release_spam(staff.workspace_id, conversation_id, staff.member.id)
    return conversations.show(conversation_id)


@bp.post("/api/conversations/<int:conversation_id>/block")
@login_required
def block_conversation(conversation_id: int):  # type: ignore[no-untyped-def]
    """Block the conversation's contact; the conversation moves to Spam now."""
    staff = current()
    with container().uow(read_only=True) as uow:
        contact_id = uow.workspace(staff.workspace_id).conversations.get(conversation_id).contact_id
    container().conversations.block_sender(
        staff.workspace_id,
        staff.member.id,
        SenderRuleKind.CONTACT,
        str(contact_id),
        conversation_id=conversation_id,
    )
    return conversations.show(conversation_id)


def _contact_value(contact_id: int) -> tuple[str, str]:
    """The rule the contact page's button names: the contact itself, or one of its
    details (read from the contact, never from the form, so only what is shown is blocked)."""
    kind = request.form.get("kind", "")
    with container().uow(read_only=True) as uow:
        contact = uow.workspace(current().workspace_id).contacts.get(contact_id)
    values = dict(spam.sender_keys(contact.id, contact.email, contact.phone))
    if kind not in values:
        abort(400, description="Choose what to block: the contact, their email, domain or phone.")
    return kind, values[kind]


@bp.post("/contacts/<int:contact_id>/block")
@login_required
def block_contact(contact_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    kind, value = _contact_value(contact_id)
    try:
        container().conversations.block_sender(staff.workspace_id, staff.member.id, kind, value)
    except ValidationError as exc:
        abort(400, description=str(exc))
    what = "this contact" if kind == SenderRuleKind.CONTACT else value
    flash(f"Blocked {what}: new messages go to Spam, unanswered and without notifications.")
    return redirect(url_for("contacts.show", contact_id=contact_id))


@bp.post("/contacts/<int:contact_id>/unblock")
@login_required
def unblock_contact(contact_id: int):  # type: ignore[no-untyped-def]
    staff = current()
    kind, value = _contact_value(contact_id)
    lifted = container().conversations.unblock_sender(staff.workspace_id, kind, value)
    what = "this contact" if kind == SenderRuleKind.CONTACT else value
    flash(f"Unblocked {what}." if lifted else f"{what.capitalize()} was not blocked.")
    return redirect(url_for("contacts.show", contact_id=contact_id))


# -- Settings > Spam: the whole list, for admins ----------------------------------------

ADDABLE = (SenderRuleKind.EMAIL, SenderRuleKind.DOMAIN, SenderRuleKind.PHONE)


@bp.get("/settings/spam")
@admin_required
def rules():  # type: ignore[no-untyped-def]
    """Every blocked and known-good sender of the workspace, with a way to drop each, and
    a form to block an address, a domain or a number nobody has written from yet."""
    workspace_id = current().workspace_id
    with container().uow(read_only=True) as uow:
        repo = uow.workspace(workspace_id)
        listed = [
            {
                "kind": rule.kind,
                "value": rule.value,
                "label": spam.rule_label(rule),
                "contact": _contact_name(repo, rule),
                "blocked": rule.verdict == SenderVerdict.BLOCKED,
                "by": rule.created_by,
                "at": rule.created_at,
            }
            for rule in repo.sender_rules.all()
        ]
    kinds = [(kind.value, KIND_LABELS[kind]) for kind in ADDABLE]
    return render_template("settings/spam.html", rules=listed, kinds=kinds)


def _contact_name(repo: WorkspaceScope, rule: Any) -> str:
    if rule.kind != SenderRuleKind.CONTACT:
        return ""
    try:
        return repo.contacts.get(int(rule.value)).display_name
    except NotFound:
        return ""


@bp.post("/settings/spam/block")
@admin_required
def block_any():  # type: ignore[no-untyped-def]
    kind = request.form.get("kind", "")
    if kind not in {k.value for k in ADDABLE}:
        abort(400, "Choose an email address, an email domain or a phone number to block.")
    staff = current()
    try:
        rule = container().conversations.block_sender(
            staff.workspace_id, staff.member.id, kind, request.form.get("value", "")
        )
    except ValidationError as exc:
        flash(f"Nothing was blocked: {exc.message}.", "error")
    else:
        flash(f"Blocked {spam.rule_label(rule)}: their messages go to Spam.", "success")
    return redirect(url_for("spam.rules"))


@bp.post("/settings/spam/forget")
@admin_required
def forget():  # type: ignore[no-untyped-def]
    kind, value = request.form.get("kind", ""), request.form.get("value", "")
    try:
        dropped = container().conversations.forget_sender(current().workspace_id, kind, value)
    except ValidationError as exc:
        abort(400, exc.message)
    if dropped:
        flash("Removed from the list.", "success")
    return redirect(url_for("spam.rules"))

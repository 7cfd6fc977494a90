"""Who is signed in, what they may do, and the protections every request gets.

Sessions are Flask's signed cookies holding the member and workspace ids and the member's
session version at sign-in; the member is re-read from the database on every request, so a
deleted member, or one who signed out (which bumps the version), is signed out at once,
whatever copy of the cookie is used. Unsafe methods need the session's CSRF token (form
field or X-CSRF-Token header).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from agent.core.errors import NotFound
from agent.core.models import Role, TeamMember
from agent.core.ports import UnitOfWorkFactory
from web.context import container

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


@dataclass(frozen=True)
class Staff:
    """The signed-in team member, as the views need them."""

    member: TeamMember
    workspace_id: int

    @property
    def is_admin(self) -> bool:
        return self.member.role == Role.ADMIN


def session_member(uow: UnitOfWorkFactory) -> TeamMember | None:
    """The member the session (the request's, or a Socket.IO connection's copy) belongs to,
    read from the database now; None when it holds none, or an ended one."""
    member_id, workspace_id = session.get("member_id"), session.get("workspace_id")
    # Cookies from before session versions existed carry none: they count as version 0.
    version = session.get("session_version", 0)
    if not all(isinstance(value, int) for value in (member_id, workspace_id, version)):
        return None
    with uow(read_only=True) as work:
        try:
            member = work.workspace(workspace_id).team.get(member_id)
        except NotFound:
            return None  # removed
    return member if member.session_version == version else None  # else: signed out


def signed_in() -> Staff | None:
    """The member for this session (cached on ``g``), or None."""
    if "staff" in g:
        return g.staff
    staff = None
    if "member_id" in session:
        member = session_member(container().uow)
        if member is None:
            session.clear()
        else:
            staff = Staff(member, member.workspace_id)
    g.staff = staff
    return staff


def sign_in(member: TeamMember) -> None:
    session.clear()  # a fresh session: nothing from before the login carries over
    session["member_id"] = member.id
    session["workspace_id"] = member.workspace_id
    session["session_version"] = member.session_version
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if signed_in() is None:
            if request.path.startswith("/api/"):
                abort(401)
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @login_required
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not signed_in().is_admin:  # type: ignore[union-attr]
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def current() -> Staff:
    staff = signed_in()
    if staff is None:
        abort(401)
    return staff


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _check_csrf() -> None:
    if request.method not in UNSAFE:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "csrf_exempt", False):
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="Your session expired or the form is stale: reload the page.")


def csrf_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """For endpoints authenticated otherwise (provider webhooks, the public widget API)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _headers(response: Any) -> Any:
    own_csp = response.headers.get("Content-Security-Policy", "")
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if "frame-ancestors" not in own_csp:
        # A view that names who may frame it (the widget's chat frame) means it.
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def install(app: Flask) -> None:
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["signed_in"] = signed_in

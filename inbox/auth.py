"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from inbox.security import LoginThrottle, container, sign_in, signed_in

bp = Blueprint("auth", __name__)


def _throttle() -> LoginThrottle:
    return current_app.extensions["frontdesk.login_throttle"]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login is a phishing tool."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("conversations.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        if signed_in() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    ip = request.remote_addr or "unknown"
    throttle = _throttle()
    if throttle.blocked(ip, email):
        error = "Too many failed sign-in attempts. Wait 15 minutes and try again."
        return render_template("login.html", error=error, email=email), 429
    member = None
    if email and password:
        workspaces = container().workspaces
        for workspace in workspaces.all():
            member = workspaces.authenticate(workspace.id, email, password)
            if member is not None:
                break
    if member is None:
        throttle.failed(ip, email)
        error = "That email and password do not match a team member."
        return render_template("login.html", error=error, email=email), 401
    throttle.succeeded(ip, email)
    sign_in(member)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    from flask import session

    session.clear()
    return redirect(url_for("auth.login"))

"""Signing in and out. Signing out ends the member's sessions on every device (every copy
of the session cookie stops working) and disconnects their live sockets."""

from __future__ import annotations

import contextlib

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for

from agent.core.errors import NotFound
from agent.core.team import TeamService
from web.context import container
from web.counters import Counter
from web.security import sign_in, signed_in

bp = Blueprint("auth", __name__)
THROTTLE = "frontdesk.login_throttle"


class LoginThrottle:
    """At most ``per_account`` failures per address and email, ``per_ip`` per address."""

    def __init__(
        self, counter: Counter, *, per_account: int = 5, per_ip: int = 30, window: int = 900
    ) -> None:
        self._counter = counter
        self.per_account, self.per_ip, self.window = per_account, per_ip, window

    def _keys(self, ip: str, email: str) -> tuple[str, str]:
        return f"ip:{ip}", f"acct:{ip}:{email.strip().lower()}"

    def blocked(self, ip: str, email: str) -> bool:
        by_ip, by_account = self._keys(ip, email)
        return (
            self._counter.count(by_ip) >= self.per_ip
            or self._counter.count(by_account) >= self.per_account
        )

    def failed(self, ip: str, email: str) -> None:
        for key in self._keys(ip, email):
            self._counter.hit(key, self.window)

    def succeeded(self, ip: str, email: str) -> None:
        self._counter.reset(self._keys(ip, email)[1])


def init_app(app: Flask, counter: Counter) -> None:
    app.extensions[THROTTLE] = LoginThrottle(counter)
    app.register_blueprint(bp)


def _throttle() -> LoginThrottle:
    return current_app.extensions[THROTTLE]


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

    staff = signed_in()
    if staff is not None:
        c = container()
        with contextlib.suppress(NotFound):  # removed meanwhile: signed out already
            TeamService(c.uow, c.clock, c.events).sign_out(staff.workspace_id, staff.member.id or 0)
    session.clear()
    return redirect(url_for("auth.login"))

"""The web application factory (Flask + Socket.IO); blueprints are registered per feature."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import socketio as socketio_pkg
from flask import Flask, jsonify, render_template, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from agent.core.errors import FrontdeskError, NotFound
from agent.wiring import Container
from inbox import (
    appointments,
    auth,
    contacts,
    conversations,
    health,
    realtime,
    security,
    team,
    widget_settings,
)
from inbox import settings as settings_pages
from inbox.knowledge_pages import bp as knowledge_bp
from widget import demo
from widget import realtime as widget_realtime
from widget import routes as widget_routes

SOCKETIO_CHANNEL = "frontdesk-socketio"
# Top-bar pages in order: endpoint -> (label, admin only). Unregistered ones are skipped.
NAV = {
    "contacts.index": ("Contacts", False),
    "appointments.index": ("Appointments", False),
    "settings.index": ("Settings", True),
    "team.account": ("Your account", False),
}


def create_app(
    container: Container,
    *,
    testing: bool = False,
    connected_channels: Iterable[str] = (),
    widget_limits: widget_realtime.RateLimits | None = None,
) -> tuple[Flask, SocketIO]:
    """Build the app around an already-wired container (the composition root owns settings).

    ``widget_limits``: messages per visitor and per IP address the public chat accepts
    (default: 10 and 30 a minute).
    """
    settings = container.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=testing,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="frontdesk_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        CONNECTED_CHANNELS=frozenset(connected_channels),
    )
    app.extensions["frontdesk"] = container
    counter = (
        security.RedisCounter(container.redis) if container.redis_url else security.MemoryCounter()
    )
    app.extensions["frontdesk.login_throttle"] = security.LoginThrottle(counter)
    security.install(app)
    for blueprint in (
        health.bp,
        auth.bp,
        conversations.bp,
        contacts.bp,
        appointments.bp,
        settings_pages.bp,
        knowledge_bp,
        team.bp,
        widget_settings.bp,
        demo.bp,
        widget_routes.bp,
    ):
        app.register_blueprint(blueprint)
    # (endpoint, label, admin only): each feature blueprint adds its page to the top bar.
    app.jinja_env.globals["nav_links"] = [
        (endpoint, label, admin_only)
        for endpoint, (label, admin_only) in NAV.items()
        if endpoint in app.view_functions
    ]
    _error_pages(app)
    # Events emitted by workers reach browsers through the Redis message queue.
    manager = (
        socketio_pkg.RedisManager(container.redis_url, channel=SOCKETIO_CHANNEL)
        if container.redis_url
        else None
    )
    socketio = SocketIO(app, async_mode="threading", client_manager=manager)
    realtime.register_handlers(socketio, container.uow)
    realtime.StaffBroadcaster(container.uow, realtime.socketio_emitter(socketio)).attach(
        container.events
    )
    limiter = widget_realtime.message_limiter(
        container, widget_limits or widget_realtime.RateLimits()
    )
    widget_realtime.register_handlers(socketio, container, limiter)
    widget_emit = realtime.socketio_emitter(socketio, widget_realtime.NAMESPACE)
    widget_realtime.WidgetBroadcaster(container.uow, widget_emit).attach(container.events)
    return app, socketio


def attach_worker_broadcaster(container: Container) -> None:
    """Worker processes publish the same live events through Redis."""
    emit = realtime.queue_emitter(container.redis_url, SOCKETIO_CHANNEL)
    realtime.StaffBroadcaster(container.uow, emit).attach(container.events)
    widget_emit = realtime.queue_emitter(
        container.redis_url, SOCKETIO_CHANNEL, widget_realtime.NAMESPACE
    )
    widget_realtime.WidgetBroadcaster(container.uow, widget_emit).attach(container.events)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error_pages(app: Flask) -> None:
    @app.errorhandler(FrontdeskError)
    def domain_error(exc: FrontdeskError):  # type: ignore[no-untyped-def]
        status = 404 if isinstance(exc, NotFound) else 400
        message = "Not found." if isinstance(exc, NotFound) else str(exc)
        if _wants_json():
            return jsonify(error=message), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        message = exc.description or exc.name
        if _wants_json():
            return jsonify(error=message), exc.code
        return render_template("error.html", status=exc.code, message=message), exc.code

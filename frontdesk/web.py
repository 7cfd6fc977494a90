"""The web application factory: one Flask + Socket.IO app mounting every web adapter.

The inbox (staff pages), the widget (public chat) and the channels' webhooks are peers;
only this module knows them all. The inbox's templates and static files are the app's own
(base page, error page, styles); the other adapters' blueprints bring theirs.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, jsonify, render_template, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from agent.core.errors import FrontdeskError, NotFound, ValidationError
from agent.core.events import Event, MemberAccessChanged
from agent.services import Services
from channels.meta import webhook as meta_webhook
from channels.twilio import webhook as twilio_webhook
from channels.whatsapp import webhook as whatsapp_webhook
from inbox import (
    appointments,
    auth,
    channel_pages,
    contacts,
    conversations,
    health,
    metrics,
    realtime,
    team,
)
from inbox import settings as settings_pages
from inbox.action_pages import bp as actions_bp
from inbox.automation_pages import bp as automations_bp
from inbox.knowledge_pages import bp as knowledge_bp
from inbox.spam_pages import bp as spam_bp
from inbox.webhook_pages import bp as webhooks_bp
from web import context, rooms, security
from web.counters import make_counter
from web.fanout import MessageFanout
from widget import admin as widget_admin
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
    container: Services,
    *,
    testing: bool = False,
    widget_limits: widget_realtime.RateLimits | None = None,
    async_mode: str = "threading",
) -> tuple[Flask, SocketIO]:
    """Build the app around an already-wired container (the composition root owns settings).

    ``widget_limits``: messages per visitor and per IP address the public chat accepts
    (default: 10 and 30 a minute). ``async_mode``: "gevent" under the production server
    (``frontdesk.server``), "threading" for tests and the development server.
    """
    settings = container.settings
    app = Flask("inbox")  # the inbox package holds the app-wide templates and static files
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=testing,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="frontdesk_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
    )
    context.install(app, container)
    security.install(app)
    auth.init_app(
        app, make_counter(container.redis_url, lambda: container.redis, "frontdesk:login:")
    )
    health.init_app(app, container)
    metrics.init_app(app, container)
    for blueprint in (
        conversations.bp,
        contacts.bp,
        spam_bp,
        appointments.bp,
        settings_pages.bp,
        knowledge_bp,
        channel_pages.bp,
        webhooks_bp,
        automations_bp,
        actions_bp,
        team.bp,
        widget_admin.bp,
        demo.bp,
        widget_routes.bp,
        meta_webhook.bp,
        whatsapp_webhook.bp,
        twilio_webhook.bp,
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
    if settings.web_processes > 1 and not container.redis_url:
        raise ValidationError(
            "web_processes", "more than one web process needs Redis (REDIS_URL) to share events"
        )
    manager = rooms.client_manager(container.redis_url, SOCKETIO_CHANNEL)
    transports = rooms.socket_transports(settings.web_processes)
    app.jinja_env.globals["socket_transports"] = transports
    socketio = SocketIO(app, async_mode=async_mode, client_manager=manager, transports=transports)
    realtime.register_handlers(socketio, container.uow)

    def access_changed(event: Event) -> None:  # removed, new role, signed out
        assert isinstance(event, MemberAccessChanged)
        rooms.end_member_sockets(socketio, event.member_id)

    container.events.subscribe(MemberAccessChanged, access_changed)
    limiter = widget_realtime.message_limiter(
        container, widget_limits or widget_realtime.RateLimits()
    )
    widget_realtime.register_handlers(socketio, container, limiter)
    _broadcast(
        container,
        rooms.socketio_emitter(socketio, rooms.INBOX_NAMESPACE),
        rooms.socketio_emitter(socketio, rooms.WIDGET_NAMESPACE),
        rooms.batch_of(manager),
    )
    if settings.trusted_proxies:
        # Outermost, around the Socket.IO middleware too, so the sign-in throttle and the
        # widget's limits count each client's address, not the proxy's.
        hops = settings.trusted_proxies
        fixed = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = fixed  # type: ignore[method-assign]
    return app, socketio


def attach_worker_broadcaster(container: Services) -> None:
    """Worker processes publish the same live events through Redis."""
    publisher = rooms.queue_publisher(container.redis_url, SOCKETIO_CHANNEL)
    _broadcast(
        container,
        rooms.queue_emitter(publisher, rooms.INBOX_NAMESPACE),
        rooms.queue_emitter(publisher, rooms.WIDGET_NAMESPACE),
        rooms.batch_of(publisher),
    )


def _broadcast(
    container: Services, staff_emit: rooms.Emit, widget_emit: rooms.Emit, batch: rooms.Batch
) -> None:
    """Committed events out to staff's inbox and to visitors' chats (new messages: one
    read for both, their emits published together)."""
    staff = realtime.StaffBroadcaster(container.uow, staff_emit)
    staff.attach(container.events)
    widget = widget_realtime.WidgetBroadcaster(container.uow, widget_emit)
    widget.attach(container.events)
    MessageFanout(container.uow, [staff, widget], batch).attach(container.events)


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

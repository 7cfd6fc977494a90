"""The web application factory (Flask + Socket.IO); blueprints are registered per feature."""

from __future__ import annotations

import socketio as socketio_pkg
from flask import Flask
from flask_socketio import SocketIO

from agent.wiring import Container
from inbox import health

SOCKETIO_CHANNEL = "frontdesk-socketio"


def create_app(container: Container, *, testing: bool = False) -> tuple[Flask, SocketIO]:
    """Build the app around an already-wired container (the composition root owns settings)."""
    settings = container.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=testing,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.extensions["frontdesk"] = container
    app.register_blueprint(health.bp)
    # Events emitted by workers reach browsers through the Redis message queue.
    manager = (
        socketio_pkg.RedisManager(container.redis_url, channel=SOCKETIO_CHANNEL)
        if container.redis_url
        else None
    )
    socketio = SocketIO(app, async_mode="threading", client_manager=manager)
    return app, socketio

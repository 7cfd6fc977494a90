"""Liveness and readiness: what a load balancer or an admin checks first."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from agent.storage import migrate
from web.context import container as _container

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    container = _container()
    checks = {}
    try:
        with container.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok" if migrate.is_current(container.engine) else "needs migration"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if container.redis_url:
        try:
            container.redis.ping()
            checks["queue"] = "ok"
        except Exception as exc:
            checks["queue"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503

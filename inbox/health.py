"""Liveness and readiness: what a load balancer or an admin checks first.

With a queue, readiness includes the workers: each queue the product needs must have a
worker that beat within the last half-minute (a dead worker is gone from the count at
once, even mid-job), and ``workers`` says how many serve each queue.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from agent.queue.workers import alive_per_queue
from agent.storage import migrate
from web.context import container as _container

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    container = _container()
    checks: dict[str, str] = {}
    workers: dict[str, int] | None = None
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
            workers = alive_per_queue(container.redis, container.worker_queues)
            idle = [queue for queue, count in workers.items() if not count]
            checks["workers"] = f"none for {', '.join(idle)}" if idle else "ok"
        except Exception as exc:
            checks["queue"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    if workers is not None:
        body["workers"] = workers
    return jsonify(body), 200 if healthy else 503

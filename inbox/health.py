"""Liveness and readiness: what a load balancer or an admin checks first.

``/healthz`` answers 200 when every dependency works and 503 when one does not, with a
short message per check ("ok" or what is wrong, naming the dependency). ``/livez`` only
says the process answers: what a load balancer should route on.

- ``database``: a query runs, and the schema is migrated to the newest revision (that
  answer is remembered for ``SCHEMA_SECONDS``: alembic reads its scripts from disk);
- ``knowledge``: the knowledge index's Chroma answers its heartbeat (a Chroma server
  at CHROMA_URL, or the embedded files in the data directory);
- with a queue: ``queue`` (Redis answers a ping) and ``workers``: each queue the product
  needs has a worker whose heartbeat is current (renewed every 10 s, gone 30 s after the
  last; a dead worker drops out even mid-job), and ``workers`` says how many serve each.

Failures' details go to the log, not to this public page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import Engine, text

from agent.queue.workers import alive_per_queue
from agent.services import Heartbeat, Services
from agent.storage import migrate
from agent.storage.database import READ_ONLY
from web.context import container as _container

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
SCHEMA_CHECK = "frontdesk.schema_check"
SCHEMA_SECONDS = 30.0


class Remembered:
    """A yes/no answer that is slow to get, asked again only after ``seconds``; a
    failure to answer is not remembered."""

    def __init__(
        self,
        ask: Callable[[], bool],
        seconds: float = SCHEMA_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask, self._seconds, self._now = ask, seconds, now
        self._lock = threading.Lock()
        self._answer, self._until = False, float("-inf")

    def __call__(self) -> bool:
        with self._lock:
            if self._now() < self._until:
                return self._answer
        answer = self._ask()
        with self._lock:
            self._answer, self._until = answer, self._now() + self._seconds
        return answer


def init_app(app: Flask, services: Services) -> None:
    """Register ``/healthz``; this process remembers the migration check for a while."""
    app.extensions[SCHEMA_CHECK] = Remembered(lambda: migrate.is_current(services.engine))
    app.register_blueprint(bp)


def _failed(what: str, exc: Exception) -> str:
    log.warning("health check: %s: %s: %s", what, type(exc).__name__, exc)
    return f"error: {what} ({type(exc).__name__})"


def database_check(engine: Engine, schema_current: Callable[[], bool]) -> str:
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok" if schema_current() else "needs migration"
    except Exception as exc:
        return _failed("the database did not answer", exc)


def queue_check(connection: redis.Redis) -> str:
    try:
        connection.ping()
    except Exception as exc:
        return _failed("Redis did not answer", exc)
    return "ok"


def knowledge_check(chroma: Heartbeat) -> str:
    try:
        chroma.heartbeat()
    except Exception as exc:
        return _failed("Chroma (the knowledge index) did not answer", exc)
    return "ok"


def workers_check(workers: dict[str, int]) -> str:
    idle = [queue for queue, count in workers.items() if not count]
    return f"none for {', '.join(idle)}" if idle else "ok"


@bp.get("/livez")
def livez():  # type: ignore[no-untyped-def]
    """Liveness, for load balancers and container restarts: this process serves requests.
    Dependencies are ``/healthz``'s: a stopped worker or Chroma must not take every web
    process out of rotation (the pages and the chat still work without them)."""
    return jsonify(status="ok")


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    container = _container()
    checks = {"database": database_check(container.engine, current_app.extensions[SCHEMA_CHECK])}
    workers: dict[str, int] | None = None
    if container.redis_url:
        checks["queue"] = queue_check(container.redis)
        if checks["queue"] == "ok":
            try:
                workers = alive_per_queue(container.redis, container.worker_queues)
                checks["workers"] = workers_check(workers)
            except Exception as exc:  # Redis went away between the ping and the scan
                checks["queue"] = _failed("Redis did not answer", exc)
    checks["knowledge"] = knowledge_check(container.chroma)
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "degraded", "checks": checks}
    if workers is not None:
        body["workers"] = workers
    return jsonify(body), 200 if healthy else 503

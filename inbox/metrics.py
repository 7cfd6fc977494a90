"""``/metrics`` for Prometheus, behind a bearer token (what it reports: ``agent.metrics``).

Off unless FRONTDESK_METRICS_TOKEN is set; a scraper then sends
``Authorization: Bearer <token>``. Figures come from the database and Redis, so any web
process answers for the whole installation.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy.exc import SQLAlchemyError

from agent.metrics import CONTENT_TYPE, Figures, exposition, registry
from agent.queue.turn_timings import histogram
from agent.queue.workers import alive_per_queue
from agent.services import Services
from agent.storage.message_stats import message_totals
from web.context import container as _container

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)
REGISTRY = "frontdesk.metrics"


def gather(services: Services) -> Figures:
    """Read every figure afresh: one grouped query, and a few Redis reads with a queue."""
    totals = message_totals(services.engine)
    turns, depth, alive = histogram({}), {}, {}
    if services.redis_url:
        turns = services.turn_timings.read()
        connection = services.redis
        depth = {name: Queue(name, connection=connection).count for name in services.worker_queues}
        alive = alive_per_queue(connection, services.worker_queues)
    return Figures(
        messages=totals.by_direction,
        delivery_failures=totals.failed,
        turn_buckets=turns.buckets,
        turn_seconds_sum=turns.total_seconds,
        queue_depth=depth,
        workers_alive=alive,
    )


def authorized(header: str, token: str) -> bool:
    """Whether an Authorization header carries the token (compared in constant time)."""
    scheme, _, given = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def init_app(app: Flask, services: Services) -> None:
    app.extensions[REGISTRY] = registry(lambda: gather(services))
    app.register_blueprint(bp)


def _plain(body: str, status: int) -> Response:
    return Response(body + "\n", status=status, mimetype="text/plain")


@bp.get("/metrics")
def metrics() -> Response:
    token = _container().settings.metrics_token
    if not token:
        return _plain("Metrics are off: set FRONTDESK_METRICS_TOKEN to turn them on.", 404)
    if not authorized(request.headers.get("Authorization", ""), token):
        response = _plain(
            "Metrics need the token: send 'Authorization: Bearer <FRONTDESK_METRICS_TOKEN>'.",
            401,
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="frontdesk metrics"'
        return response
    source: CollectorRegistry = current_app.extensions[REGISTRY]
    try:
        body = exposition(source)
    except (RedisError, SQLAlchemyError) as exc:
        log.warning("metrics: %s: %s", type(exc).__name__, exc)
        return _plain(f"Metrics are unavailable: {type(exc).__name__} (see the log).", 503)
    return Response(body, status=200, content_type=CONTENT_TYPE)

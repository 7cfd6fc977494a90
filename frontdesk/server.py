"""The production web server: gunicorn with gevent workers, run as its own process.

``frontdesk serve`` and ``frontdesk up`` start ``python -m frontdesk.server``, a fresh
interpreter, so gevent patches the standard library in each worker before any of
frontdesk's modules (Redis, psycopg, SQLAlchemy) are imported: every socket wait then
yields to the event loop, and thousands of Socket.IO connections share one process.
What still blocks (the ONNX embedding models) runs on gevent's thread pool
(``frontdesk.wsgi``).

One worker by default. ``--processes N`` (``FRONTDESK_WEB_PROCESSES``) runs N on the
same port, one per core: a Socket.IO client must keep reaching the process that holds
its session, which a WebSocket does (one connection) and long-polling would not (each
poll is a new request, to any worker), so the app then accepts WebSocket only. For
long-polling clients, run one-process servers behind a sticky load balancer (deploy/).

    python -m frontdesk.server --bind 127.0.0.1:8000 [--processes 2]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from agent.config import Settings

# Gunicorn's settings for frontdesk. ``timeout``: a worker whose event loop is stuck this
# long is replaced. ``graceful_timeout``: on SIGTERM, open requests get this long.
DEFAULTS: dict[str, Any] = {
    "workers": 1,
    "worker_class": "gevent",
    "worker_connections": 4000,
    "timeout": 60,
    "graceful_timeout": 5,
    "keepalive": 5,
    "accesslog": None,
    "errorlog": "-",
    "loglevel": "warning",
    "proc_name": "frontdesk-web",
}


PROCESSES_VAR = "FRONTDESK_WEB_PROCESSES"


def _load_wsgi_app() -> Any:
    from frontdesk.wsgi import app

    return app


class WebServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn embedded: options in code, the app built inside the (patched) worker."""

    def __init__(self, options: dict[str, Any], load: Callable[[], Any] = _load_wsgi_app):
        self._options = {**DEFAULTS, **options}
        # Several workers: each listens on a socket of its own on the port (SO_REUSEPORT),
        # and the kernel spreads new connections evenly over them. On one shared socket
        # the busiest worker took 60-75% of the connections and starved on the other's
        # SQLite writes (benchmarks/realtime.py). One worker keeps the master's socket,
        # where connections wait while a replaced worker starts.
        self._options.setdefault("reuse_port", self._options["workers"] > 1)
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m frontdesk.server",
        description="Serve frontdesk's web app (settings from the environment).",
    )
    parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on")
    parser.add_argument("--log-level", default="warning", help="gunicorn's log level")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help=f"worker processes on the port (WebSocket only when more than one) [{PROCESSES_VAR}]",
    )
    args = parser.parse_args(argv)
    if args.processes is None:  # the setting, from the environment or FRONTDESK_CONFIG
        args.processes = Settings.load().web_processes
    if not 1 <= args.processes <= 32:
        parser.error("--processes must be between 1 and 32")
    os.environ[PROCESSES_VAR] = str(args.processes)  # the app in each worker reads it
    options = {"bind": args.bind, "loglevel": args.log_level.lower(), "workers": args.processes}
    WebServer(options).run()


if __name__ == "__main__":
    main()

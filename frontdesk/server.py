"""The production web server: gunicorn with one gevent worker, run as its own process.

``frontdesk serve`` and ``frontdesk up`` start ``python -m frontdesk.server``, a fresh
interpreter, so gevent patches the standard library in the worker before any of
frontdesk's modules (Redis, psycopg, SQLAlchemy) are imported: every socket wait then
yields to the event loop, and thousands of Socket.IO connections share one process.
One worker per server, because a Socket.IO client must reach the process that holds its
session: run more ``frontdesk serve`` processes behind a sticky load balancer instead
(see deploy/). What still blocks (the ONNX embedding models) runs on gevent's thread
pool (``frontdesk.wsgi``).

    python -m frontdesk.server --bind 127.0.0.1:8000
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

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


def _load_wsgi_app() -> Any:
    from frontdesk.wsgi import app

    return app


class WebServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn embedded: options in code, the app built inside the (patched) worker."""

    def __init__(self, options: dict[str, Any], load: Callable[[], Any] = _load_wsgi_app):
        self._options = {**DEFAULTS, **options}
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
    args = parser.parse_args(argv)
    WebServer({"bind": args.bind, "loglevel": args.log_level.lower()}).run()


if __name__ == "__main__":
    main()

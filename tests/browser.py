"""Helpers for the end-to-end browser tests: a live inbox server and Debian's Chromium.

Playwright drives ``/usr/bin/chromium`` (``apt-get install chromium``; tests/services.sh
installs it): Playwright's own browser download cannot work offline. Without Chromium
the browser tests are skipped locally, but fail when ``CI`` or
``FRONTDESK_REQUIRE_BROWSER=1`` is set, so CI can never pass them by skipping.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from types import TracebackType

import pytest
from flask import Flask
from flask_socketio import SocketIO
from playwright.sync_api import Page, Route, WebSocketRoute
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path(os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium"))


def browser_required() -> bool:
    """CI sets CI=true; a developer can ask for the same with FRONTDESK_REQUIRE_BROWSER=1."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("FRONTDESK_REQUIRE_BROWSER") == "1"


def chromium_path() -> str:
    """The Chromium executable, or skip (locally) / fail (CI) with how to install it."""
    if not os.access(CHROMIUM, os.X_OK):
        problem = f"{CHROMIUM} is missing (apt-get install chromium, or bash tests/services.sh)"
        if browser_required():
            pytest.fail(f"Browser tests are required here but cannot run: {problem}")
        pytest.skip(f"Browser tests skipped: {problem}")
    return str(CHROMIUM)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


class LiveServer:
    """The real app (HTTP and Socket.IO websockets) on 127.0.0.1, a free port, one thread.

    Werkzeug's threaded server is what ``socketio.run`` uses in threading mode; unlike
    ``socketio.run`` it can be stopped, so each test gets its own server.
    """

    def __init__(self, app: Flask) -> None:
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def drop_connections(socketio: SocketIO, namespace: str) -> int:
    """Close the transport of every socket on ``namespace`` from the server side, as a
    network drop would (unlike a Socket.IO disconnect, the client then reconnects itself).

    Engine.IO's close waits for its send queue to drain, which a dropped client may never
    do, so each runs on a thread of its own.
    """
    server = socketio.server
    dropped = list(server.manager.get_participants(namespace, None))
    for _sid, eio_sid in dropped:
        threading.Thread(target=server.eio.disconnect, args=(eio_sid,), daemon=True).start()
    return len(dropped)


class SocketBlock:
    """While ``on``, the page's Socket.IO transports (websocket and polling, in every
    frame) are refused, so a dropped page stays offline for as long as a test needs."""

    PATH = re.compile(r"/socket\.io/")

    def __init__(self, page: Page) -> None:
        self.on = False
        page.route_web_socket(self.PATH, self._websocket)
        page.route(self.PATH, self._request)

    def _websocket(self, ws: WebSocketRoute) -> None:
        if self.on:
            ws.close()
        else:
            ws.connect_to_server()

    def _request(self, route: Route) -> None:
        if self.on:
            route.abort()
        else:
            route.continue_()

"""A local stand-in for Meta's Graph API (the Send API and the user profile), for tests.

``FakeGraph`` listens on 127.0.0.1 (a free port), records every request (method, path,
headers, JSON body) and answers with the shapes of Meta's reference: ``POST
/{id}/messages`` -> ``{"recipient_id", "message_id"}``; ``GET /{user-id}?fields=...`` -> the
profile it was given, or Meta's error for an id it does not know. ``errors`` queues
Graph error replies (HTTP status, ``error`` object) for the next sends.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGraph:
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _record(self) -> Request:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                request = Request(
                    self.command,
                    url.path,
                    parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                graph.requests.append(request)
                return request

            def _reply(self, status: int, data: dict[str, Any]) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                request = self._record()
                if not request.path.endswith("/messages"):
                    return self._reply(404, {"error": {"message": "Unknown path", "code": 803}})
                if graph.errors:
                    status, error = graph.errors.pop(0)
                    return self._reply(status, {"error": {"type": "OAuthException", **error}})
                recipient = request.body["recipient"]["id"]
                mid = f"m_{next(graph._ids):04d}AG5Hz2Uq7tuwNEhXfYYKj8mJEM"
                self._reply(200, {"recipient_id": recipient, "message_id": mid})

            def do_GET(self) -> None:
                request = self._record()
                user = request.path.rsplit("/", 1)[-1]
                if user not in graph.profiles:
                    error = {
                        "message": "(#100) No profile available for that user.",
                        "type": "OAuthException",
                        "code": 100,
                        "error_subcode": 2018218,
                    }
                    return self._reply(400, {"error": error})
                fields = request.query.get("fields", [""])[0].split(",")
                profile = graph.profiles[user]
                self._reply(200, {"id": user, **{k: v for k, v in profile.items() if k in fields}})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v21.0"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def sends(self) -> list[dict[str, Any]]:
        """The Send API payloads received, in order."""
        return [r.body for r in self.requests if r.method == "POST"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

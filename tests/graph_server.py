"""A local stand-in for Meta's Graph API, for tests: Messenger's Send API and user
profiles, WhatsApp's messages, media and message templates.

``FakeGraph`` listens on 127.0.0.1 (a free port), records every request (method, path,
headers, JSON body) and answers with the shapes of Meta's reference: ``POST
/{id}/messages`` -> ``{"recipient_id", "message_id"}`` (WhatsApp: ``{"messaging_product",
"contacts", "messages": [{"id": "wamid..."}]}``); ``POST /{waba}/message_templates`` ->
``{"id", "status": "PENDING", "category"}``; ``GET /{id}`` -> the profile it was given,
or a WhatsApp media object whose ``url`` serves the bytes (with the token only), or
Meta's error for an id it does not know. ``errors`` queues Graph error replies (HTTP
status, ``error`` object) for the next POSTs.
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
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (type, bytes)
    token: str = ""  # when set, media downloads need it as the bearer token
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (type, bytes)
    token: str = ""  # when set, media downloads need it as the bearer token
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
                if graph.errors:
                    status, error = graph.errors.pop(0)
                    return self._reply(status, {"error": {"type": "OAuthException", **error}})
                number = next(graph._ids)
                if request.path.endswith("/message_templates"):
                    category = request.body["category"]
                    found = {"id": f"59487{number:05d}", "status": "PENDING", "category": category}
                    return self._reply(200, found)
                if not request.path.endswith("/messages"):
                    return self._reply(404, {"error": {"message": "Unknown path", "code": 803}})
                if request.body.get("messaging_product") == "whatsapp":
                    to = request.body["to"]
                    wamid = f"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI{number:05d}"
                    return self._reply(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to}],
                            "messages": [{"id": wamid}],
                        },
                    )
                recipient = request.body["recipient"]["id"]
                mid = f"m_{number:04d}AG5Hz2Uq7tuwNEhXfYYKj8mJEM"
                self._reply(200, {"recipient_id": recipient, "message_id": mid})

            def do_GET(self) -> None:
                request = self._record()
                user = request.path.rsplit("/", 1)[-1]
                if request.path.startswith("/files/") and user in graph.media:
                    wanted = f"Bearer {graph.token}"
                    if graph.token and request.headers.get("authorization") != wanted:
                        return self._reply(401, {"error": {"message": "no token", "code": 190}})
                    kind, data = graph.media[user]
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                if user in graph.media:
                    kind, data = graph.media[user]
                    host = f"http://127.0.0.1:{graph._server.server_address[1]}"
                    media = {
                        "messaging_product": "whatsapp",
                        "url": f"{host}/files/{user}",
                        "mime_type": kind,
                        "sha256": "0" * 64,
                        "file_size": len(data),
                        "id": user,
                    }
                    return self._reply(200, media)
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

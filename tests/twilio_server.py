"""A local stand-in for Twilio's REST API (Messages, call Recordings, media), for tests.

``FakeTwilio`` listens on 127.0.0.1 (a free port), checks HTTP basic auth (Account SID
and auth token), records every request (path and form) and answers with the JSON shapes
of Twilio's API reference: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` -> a
Message resource (``sid`` "SM...", ``status`` "queued"); ``POST .../Calls/{sid}/
Recordings.json`` -> a Recording resource; ``POST .../Recordings/Twilio.CURRENT.json`` ->
the stopped recording. ``errors`` queues Twilio error replies (HTTP status, code,
message) for the next sends; ``media`` serves MMS files at ``/media/<name>``.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Sent:
    path: str
    form: dict[str, str]


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    requests: list[Sent] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        fake = self
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, data: dict[str, Any] | bytes, kind: str = "") -> None:
                body = data if isinstance(data, bytes) else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                if self.headers.get("Authorization") != expected:
                    return self._reply(401, {"code": 20003, "message": "Authenticate"})
                if not self.path.startswith("/media/") or name not in fake.media:
                    return self._reply(404, {"code": 20404, "message": "Not found"})
                kind, data = fake.media[name]
                return self._reply(200, data, kind)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append(Sent(self.path, form))
                if self.headers.get("Authorization") != expected:
                    return self._reply(
                        401, {"code": 20003, "message": "Authenticate", "status": 401}
                    )
                if fake.errors and self.path.endswith("/Messages.json"):
                    status, code, message = fake.errors.pop(0)
                    return self._reply(
                        status,
                        {
                            "code": code,
                            "message": message,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": status,
                        },
                    )
                number = next(fake._ids)
                base = f"/2010-04-01/Accounts/{fake.account_sid}"
                if self.path == f"{base}/Messages.json":
                    sid = f"SM{number:032x}"
                    return self._reply(
                        201,
                        {
                            "sid": sid,
                            "account_sid": fake.account_sid,
                            "to": form.get("To"),
                            "from": form.get("From"),
                            "body": form.get("Body"),
                            "status": "queued",
                            "num_segments": "1",
                            "direction": "outbound-api",
                            "api_version": "2010-04-01",
                            "date_created": "Mon, 02 Mar 2026 18:00:00 +0000",
                            "uri": f"{base}/Messages/{sid}.json",
                        },
                    )
                if "/Recordings" in self.path:
                    call = self.path.split("/Calls/")[1].split("/")[0]
                    stopped = "Twilio.CURRENT" in self.path
                    return self._reply(
                        200 if stopped else 201,
                        {
                            "sid": f"RE{number:032x}",
                            "account_sid": fake.account_sid,
                            "call_sid": call,
                            "status": "stopped" if stopped else "in-progress",
                            "api_version": "2010-04-01",
                            "uri": f"{base}/Calls/{call}/Recordings/RE{number:032x}.json",
                        },
                    )
                return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def messages(self) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.path.endswith("/Messages.json")]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

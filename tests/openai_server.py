"""A tiny scripted LLM behind the OpenAI Chat Completions wire protocol, for tests.

``FakeOpenAI`` listens on 127.0.0.1 (a free port), records every request body, and
answers with whatever its ``brain`` decides for the conversation so far: a text reply or
tool calls. Both plain JSON responses and ``text/event-stream`` streaming are spoken,
the latter in small fragments (text word by word, tool arguments a few characters at a
time) so clients must reassemble them.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CREATED = 1_767_225_600  # fixed, so responses are deterministic


@dataclass
class Reply:
    """What the scripted model says: text, or tool calls as (name, arguments) pairs."""

    content: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def receptionist(messages: list[dict[str, Any]]) -> Reply:
    """The default script: search for parking, capture a name and number, echo tool results
    (citing the passage it quotes by id, as the system prompt asks)."""
    last = messages[-1]
    if last["role"] == "tool":
        result = json.loads(last["content"])
        if not result.get("ok"):
            return Reply(f"Sorry, that didn't work: {result.get('error')}. Could you check it?")
        if "passages" in result:
            passages = result["passages"]
            best = next((p for p in passages if "park" in p["text"].lower()), None)
            best = best or (passages[0] if passages else None)
            if best is None:
                return Reply("I don't know, sorry.")
            return Reply(f"Good news: {best['text']} [{best['id']}]")  # cited as the prompt asks
        if "contact" in result:
            contact = result["contact"]
            return Reply(f"Thanks {contact['first_name']}, we will call you on {contact['phone']}.")
        return Reply("Done.")
    text = last["content"] if isinstance(last["content"], str) else ""
    name = re.search(r"(?:I'm|I am|my name is) (\w+)", text, re.IGNORECASE)
    phone = re.search(r"call me (?:on|at) ([+\d][\d ().-]*\d|\d)", text, re.IGNORECASE)
    if name and phone:
        args = {"first_name": name.group(1), "phone": phone.group(1)}
        return Reply(tool_calls=[("capture_contact", args)])
    if "park" in text.lower():
        return Reply(tool_calls=[("search_knowledge", {"query": "parking"})])
    return Reply("Hello! How can I help you today?")


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class FakeOpenAI:
    """``with FakeOpenAI() as server:`` then point the client at ``server.base_url``."""

    def __init__(self, brain: Callable[[list[dict[str, Any]]], Reply] = receptionist) -> None:
        self.brain = brain
        self.requests: list[dict[str, Any]] = []  # every request body, in order
        self.headers: list[dict[str, str]] = []
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # -- the protocol ------------------------------------------------------------------

    def _tool_calls(self, reply: Reply) -> list[dict[str, Any]]:
        return [
            {
                "id": f"call_{next(self._ids)}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for name, args in reply.tool_calls
        ]

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.brain(body["messages"])
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if reply.tool_calls:
            message["tool_calls"] = self._tool_calls(reply)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": CREATED,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    def chunks(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The same answer as ``completion``, as the deltas of a streamed response."""
        reply = self.brain(body["messages"])
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": part} for part in re.findall(r"\S+\s*", reply.content)]
        for index, call in enumerate(self._tool_calls(reply)):
            function = call["function"]
            head = {"index": index, "id": call["id"], "type": "function"}
            deltas.append({"tool_calls": [{**head, "function": {"name": function["name"]}}]})
            deltas += [
                {"tool_calls": [{"index": index, "function": {"arguments": part}}]}
                for part in _fragments(function["arguments"], 5)
            ]
        finish = "tool_calls" if reply.tool_calls else "stop"
        choices = [{"index": 0, "delta": d, "finish_reason": None} for d in deltas]
        choices.append({"index": 0, "delta": {}, "finish_reason": finish})
        base = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": body["model"],
        }
        chunks = [{**base, "choices": [choice]} for choice in choices]
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            chunks.append({**base, "choices": [], "usage": usage})
        return chunks

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, "application/json", b'{"error": {"message": "not found"}}')
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                if body.get("stream"):
                    # One event per write, flushed: the client sees them arrive one by one.
                    # HTTP/1.0 without Content-Length: closing the connection ends the body.
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for chunk in server.chunks(body):
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                else:
                    payload = json.dumps(server.completion(body)).encode()
                    self._send(200, "application/json", payload)

            def _send(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler

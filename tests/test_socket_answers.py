"""Every Socket.IO call is answered, on /widget and /inbox, whatever it carries.

The frame sends one message at a time and waits for its acknowledgement: a call the server
never answers (a handler that raised, or that was called without the argument it wanted)
froze a visitor's chat for good. A real server (tests/browser.py LiveServer) and the real
python-socketio client (the browser tests cover websockets end to end).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import socketio as socketio_pkg
from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from agent.core.models import Message, TeamMember, Workspace
from frontdesk.web import create_app
from frontdesk.wiring import Container
from tests.browser import LiveServer
from tests.conftest import make_workspace
from tests.test_inbox import login
from widget.identity import frame_token
from widget.realtime import RateLimits

SITE = "https://www.bayside.example"
NS, INBOX = "/widget", "/inbox"
EXPIRED = "This chat has expired. Please reload the page."
CALL_TIMEOUT = 5  # seconds: far more than any answer takes; no answer fails the test
# Long-polling: the handlers see the same events as over websockets, and the client's
# websocket close waits seconds for a closing handshake the test server does not send.
TRANSPORTS = ["polling"]


@dataclass
class Live:
    url: str
    app: Flask
    socketio: SocketIO
    container: Container
    workspace: Workspace
    admin: TeamMember

    @property
    def token(self) -> str:
        return frame_token(self.container.settings.secret_key, self.workspace.id, SITE)

    def events(self, namespace: str) -> set[str]:
        """Every event the namespace handles (connect and disconnect are not calls)."""
        return set(self.socketio.server.handlers[namespace]) - {"connect", "disconnect"}

    def visitor(self, **auth: Any) -> socketio_pkg.Client:
        client = socketio_pkg.Client(reconnection=False)
        client.identity = {}  # type: ignore[attr-defined]
        client.on("identity", client.identity.update, namespace=NS)  # type: ignore[attr-defined]
        client.connect(
            self.url,
            namespaces=[NS],
            auth={"frame_token": self.token, **auth},
            transports=TRANSPORTS,
            wait_timeout=10,
        )
        return client

    def staff(self) -> socketio_pkg.Client:
        http = self.app.test_client()
        login(http, self.admin.email)
        cookie = http.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        client = socketio_pkg.Client(reconnection=False)
        client.connect(
            self.url,
            namespaces=[INBOX],
            headers={"Cookie": f"{cookie.key}={cookie.value}"},
            transports=TRANSPORTS,
            wait_timeout=10,
        )
        return client

    def stored_bodies(self) -> list[str]:
        with self.container.uow() as uow:
            return list(uow.session.scalars(select(Message.body).order_by(Message.id)))


def serve(container: Container) -> Iterator[Live]:
    """The app with rate limits out of the way (these tests send many messages)."""
    workspace, admin = make_workspace(container)
    limits = RateLimits(per_visitor=100_000, per_ip=100_000)
    app, socketio = create_app(container, testing=True, widget_limits=limits)
    # A client that disconnects can leave its last long-poll waiting for the server's next
    # ping (25 s by default): ping every second, so no test waits on one.
    socketio.server.eio.ping_interval = 1
    with LiveServer(app) as server:
        yield Live(server.url, app, socketio, container, workspace, admin)


@pytest.fixture
def live(app_container: Container) -> Iterator[Live]:
    yield from serve(app_container)


def is_answer(reply: object) -> bool:
    """Success, or a failure that says why."""
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return False
    error = reply.get("error")
    return reply["ok"] or (isinstance(error, str) and bool(error.strip()))


def call(client: socketio_pkg.Client, event: str, args: tuple, namespace: str) -> object:
    """The acknowledgement of ``event`` sent with ``args`` (none at all for ``()``)."""
    try:
        return client.call(event, args, namespace=namespace, timeout=CALL_TIMEOUT)
    except socketio_pkg.exceptions.TimeoutError:
        return "no answer"


# Whatever a buggy or hostile client may send: nothing, the wrong types, missing fields,
# several arguments, huge input (under the transport's 1 MB message limit).
PAYLOADS: list[tuple] = [
    (),
    (None,),
    ("a string",),
    (["a", "list"],),
    (42,),
    (True,),
    ({},),
    ({"body": 42, "client_id": ["not", "text"]},),
    ({"body": "no client id"},),
    ({"client_id": "no-body-0001"},),
    ({"body": None, "client_id": None, "after_id": "zero", "conversation_id": "1"},),
    ({"after_id": -1, "conversation_id": 10**30},),
    ({"after_id": 1.5, "conversation_id": True},),
    ({"body": "x" * 200_000, "client_id": "huge-body-0001"},),
    ({"body": "\ud83d" * 5_000, "client_id": "halves-00001"},),
    ({"nested": [[[[{"a": [1, 2, {"b": None}]}]]]]},),
    ("first", "second", "third"),
]


def test_every_widget_event_answers_whatever_it_is_sent(live: Live) -> None:
    client = live.visitor()
    assert live.events(NS) >= {"message", "history", "typing"}
    unanswered = []
    try:
        for event in sorted(live.events(NS)):
            for args in PAYLOADS:
                reply = call(client, event, args, NS)
                if not is_answer(reply):
                    unanswered.append((event, repr(args)[:80], repr(reply)[:120]))
        ok = call(client, "message", ({"body": "Still there?", "client_id": "after-all-01"},), NS)
        assert ok["ok"] and ok["message"]["body"] == "Still there?"  # type: ignore[index]
    finally:
        client.disconnect()
    assert unanswered == []


def test_every_inbox_event_answers_whatever_it_is_sent(live: Live) -> None:
    client = live.staff()
    assert live.events(INBOX) >= {"join", "leave", "typing"}
    unanswered = []
    try:
        for event in sorted(live.events(INBOX)):
            for args in PAYLOADS:
                reply = call(client, event, args, INBOX)
                if not is_answer(reply):
                    unanswered.append((event, repr(args)[:80], repr(reply)[:120]))
    finally:
        client.disconnect()
    assert unanswered == []


def test_half_an_emoji_is_stored_as_a_replacement_and_acknowledged(live: Live) -> None:
    client = live.visitor()
    try:
        cut = call(client, "message", ({"body": "Book me in \ud83d", "client_id": "cut-0001"},), NS)
        assert is_answer(cut) and cut["ok"], cut  # type: ignore[index]
        assert cut["message"]["body"] == "Book me in \ufffd"  # type: ignore[index]
        again = call(
            client, "message", ({"body": "Book me in \ud83d", "client_id": "cut-0001"},), NS
        )
        assert again == cut  # the frame's resend is stored once
        nul = call(client, "message", ({"body": "a\x00b\r\nc", "client_id": "nul-00001"},), NS)
        assert nul["ok"] and nul["message"]["body"] == "ab\nc"  # type: ignore[index]
        nothing = call(client, "message", (), NS)  # a message event with no data at all
        assert nothing == {
            "ok": False,
            "error": "Your message could not be sent. Please reload the page and try again.",
        }
    finally:
        client.disconnect()
    assert live.stored_bodies()[-2:] == ["Book me in \ufffd", "ab\nc"]


def test_a_failing_handler_answers_with_a_sentence_and_logs_the_stack(
    live: Live, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    client = live.visitor()
    try:
        monkeypatch.setattr(live.container.conversations, "receive", broken)
        with caplog.at_level(logging.ERROR):
            reply = call(client, "message", ({"body": "hello", "client_id": "broken-0001"},), NS)
        assert reply == {"ok": False, "error": "Your message could not be sent. Please try again."}
        failures = [r for r in caplog.records if r.exc_info and "message" in r.getMessage()]
        assert failures and "the database went away" in str(failures[0].exc_info[1])
        monkeypatch.undo()
        fine = call(client, "message", ({"body": "hello", "client_id": "broken-0001"},), NS)
        assert fine["ok"]  # type: ignore[index]
    finally:
        client.disconnect()


@pytest.mark.parametrize(
    "auth",
    [None, "a string", ["a", "list"], {"frame_token": 5}, {"frame_token": None}],
    ids=["none", "string", "list", "number-token", "no-token"],
)
def test_a_bad_connect_is_refused_with_a_sentence(live: Live, auth: object) -> None:
    client = socketio_pkg.Client(reconnection=False)
    why: list[object] = []
    client.on("connect_error", why.append, namespace=NS)
    with pytest.raises(socketio_pkg.exceptions.ConnectionError):
        client.connect(live.url, namespaces=[NS], auth=auth, transports=TRANSPORTS)
    assert why == [{"message": EXPIRED}]


def test_bad_visitor_credentials_get_new_ones(live: Live) -> None:
    client = live.visitor(visitor_id=["x"], visitor_token={"y": 1})
    try:
        assert client.identity["visitor_id"].startswith("v_")  # type: ignore[attr-defined]
    finally:
        client.disconnect()


def test_a_connect_that_fails_inside_is_refused_with_a_sentence(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("secret store unavailable")

    monkeypatch.setattr("widget.realtime.read_frame_token", broken)
    client = socketio_pkg.Client(reconnection=False)
    why: list[object] = []
    client.on("connect_error", why.append, namespace=NS)
    with pytest.raises(socketio_pkg.exceptions.ConnectionError):
        client.connect(
            live.url,
            namespaces=[NS],
            auth={"frame_token": live.token},
            transports=TRANSPORTS,
            wait_timeout=CALL_TIMEOUT,
        )
    assert why == [{"message": "The chat is unavailable right now. Please try again later."}]

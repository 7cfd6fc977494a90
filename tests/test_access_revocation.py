"""Revoked access ends at once: removal, a role change and signing out cut live data too.

Room membership used to be checked only when a socket joined: a removed member's open
/inbox socket stayed in the workspace and conversation rooms and kept receiving message
bodies, staff received admins' knowledge events, and a session cookie copied before
sign-out still worked after it. Real app and databases; the flask_socketio test client in
one process, and two live web processes sharing the Redis message queue (python-socketio
clients) where revocation must cross processes.
"""

from __future__ import annotations

import threading
import time

import pytest
import socketio as socketio_pkg

from agent.core.events import KnowledgeSourceUpdated
from agent.core.team import TeamService
from agent.core.workspaces import NewMember
from frontdesk.web import SOCKETIO_CHANNEL, create_app
from frontdesk.wiring import build
from tests.browser import LiveServer
from tests.conftest import make_workspace
from tests.test_inbox import PASSWORD, login, visitor_says

INBOX = "/inbox"
ADMIN = "dana@bayside-dental.example"
STAFF = "sam@bayside.example"
COOKIE = "frontdesk_session"


@pytest.fixture
def web(app_container):
    return create_app(app_container, testing=True)


@pytest.fixture
def bayside(app_container):
    workspace, admin = make_workspace(app_container)
    staff = app_container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", STAFF, PASSWORD)
    )
    return workspace, admin, staff


def signed_in(app, email: str):
    client = app.test_client()
    response, token = login(client, email)
    assert response.status_code == 302
    return client, token


def socket(web, http):
    app, socketio = web
    live = socketio.test_client(app, namespace=INBOX, flask_test_client=http)
    assert live.is_connected(INBOX)
    return live


def heard(live) -> list[dict]:
    """What reached the test client on /inbox since last asked, connected or not (its
    ``get_received`` refuses to look once the server disconnected it)."""
    events = [e for e in live.queue if e["namespace"] == INBOX]
    live.queue[:] = [e for e in live.queue if e["namespace"] != INBOX]
    return events


def names(live) -> list[str]:
    return [e["name"] for e in heard(live)]


def copy_of_cookie(app, http):
    """Another browser holding the same session cookie (stolen, or a second copy)."""
    cookie = http.get_cookie(COOKIE)
    other = app.test_client()
    other.set_cookie(COOKIE, cookie.value)
    return other


def test_a_removed_member_is_disconnected_at_once_and_hears_nothing_more(
    web, bayside, app_container
):
    app, _ = web
    workspace, _, sam = bayside
    cid = visitor_says(app_container, workspace.id, "Hello").conversation.id
    admin_http, token = signed_in(app, ADMIN)
    sam_http, _ = signed_in(app, STAFF)
    admin_live, sam_live = socket(web, admin_http), socket(web, sam_http)
    for live in (admin_live, sam_live):
        assert live.emit("join", {"conversation_id": cid}, namespace=INBOX, callback=True)["ok"]
        live.get_received(INBOX)

    removed = admin_http.post(f"/settings/team/{sam.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert not sam_live.is_connected(INBOX)  # at once, not on the next request

    visitor_says(app_container, workspace.id, "My card number is 4111 1111 1111 1111")
    assert {"message", "conversation"} <= set(names(admin_live))  # the admin still hears
    assert heard(sam_live) == []
    assert not socket_connects(web, sam_http)


def socket_connects(web, http) -> bool:
    app, socketio = web
    return socketio.test_client(app, namespace=INBOX, flask_test_client=http).is_connected(INBOX)


def test_staff_never_hear_of_knowledge_and_a_demoted_admin_is_disconnected(
    web, bayside, app_container
):
    app, _ = web
    workspace, _, sam = bayside
    admin_http, token = signed_in(app, ADMIN)
    sam_http, _ = signed_in(app, STAFF)
    admin_live, sam_live = socket(web, admin_http), socket(web, sam_http)
    assert sam_http.get("/api/knowledge/sources").status_code == 403
    admin_live.get_received(INBOX)
    sam_live.get_received(INBOX)

    app_container.events.publish(KnowledgeSourceUpdated(workspace.id, source_id=4242))
    assert names(admin_live) == ["knowledge"]
    assert names(sam_live) == []  # what staff get 403 for over HTTP, they never hear live

    promoted = admin_http.post(
        f"/settings/team/{sam.id}/role", data={"csrf_token": token, "role": "admin"}
    )
    assert promoted.status_code == 302
    assert not sam_live.is_connected(INBOX)  # rejoins with the rights of the new role
    sam_live = socket(web, sam_http)
    app_container.events.publish(KnowledgeSourceUpdated(workspace.id, source_id=4243))
    assert names(sam_live) == ["knowledge"]

    demoted = admin_http.post(
        f"/settings/team/{sam.id}/role", data={"csrf_token": token, "role": "staff"}
    )
    assert demoted.status_code == 302
    assert not sam_live.is_connected(INBOX)
    assert admin_live.is_connected(INBOX)  # nobody else's sockets are touched
    app_container.events.publish(KnowledgeSourceUpdated(workspace.id, source_id=4244))
    assert heard(sam_live) == []
    sam_live = socket(web, sam_http)  # still signed in, as staff now
    app_container.events.publish(KnowledgeSourceUpdated(workspace.id, source_id=4245))
    assert names(sam_live) == []
    assert [e["args"][0]["id"] for e in heard(admin_live)] == [4243, 4244, 4245]


def test_signing_out_ends_every_copy_of_the_session(web, bayside, app_container):
    app, _ = web
    workspace, _, _ = bayside
    sam_http, token = signed_in(app, STAFF)
    copied = copy_of_cookie(app, sam_http)
    assert copied.get("/api/conversations").status_code == 200  # the copy works, until...
    copy_live = socket(web, copied)

    assert sam_http.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not copy_live.is_connected(INBOX)  # disconnected at once
    assert copied.get("/api/conversations").status_code == 401
    page = copied.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert not socket_connects(web, copied)
    visitor_says(app_container, workspace.id, "Anyone there?")
    assert heard(copy_live) == []

    again, _ = signed_in(app, STAFF)  # signing in again starts a fresh session
    assert again.get("/api/conversations").status_code == 200
    assert socket_connects(web, again)
    assert copied.get("/api/conversations").status_code == 401


def test_a_socket_whose_session_ended_is_refused_on_its_next_event(web, bayside, app_container):
    """Even if a revocation never reached this process, the next event finds it out."""
    app, _ = web
    workspace, _, sam = bayside
    cid = visitor_says(app_container, workspace.id, "Hello").conversation.id
    sam_http, _ = signed_in(app, STAFF)
    sam_live = socket(web, sam_http)
    with app_container.uow() as uow:  # as another process would, with no event here
        uow.workspace(workspace.id).team.get(sam.id).session_version += 1
        uow.commit()
    reply = sam_live.emit("join", {"conversation_id": cid}, namespace=INBOX, callback=True)
    assert reply == {"ok": False, "error": "not allowed"}
    assert not sam_live.is_connected(INBOX)
    assert sam_http.get("/api/conversations").status_code == 401


def test_a_revocation_landing_while_a_socket_connects_still_disconnects_it(
    web, bayside, app_container, monkeypatch
):
    """Removed between the connect handler's check and the end of its connection: the
    member room, joined before the check, lets the revocation find the socket anyway."""
    from inbox import realtime

    app, socketio = web
    workspace, dana, sam = bayside
    sam_http, _ = signed_in(app, STAFF)
    checked = realtime.session_member

    def check_then_lose_access(uow):
        member = checked(uow)  # still allowed when looked up...
        if member is not None and member.id == sam.id:
            TeamService(app_container.uow, app_container.clock, app_container.events).remove(
                workspace.id, dana.id, sam.id
            )  # ...and removed before the connection completes
        return member

    monkeypatch.setattr(realtime, "session_member", check_then_lose_access)
    live = socketio.test_client(app, namespace=INBOX, flask_test_client=sam_http)
    wait_for(lambda: not live.is_connected(INBOX), "the socket outlived the removal")
    visitor_says(app_container, workspace.id, "Hello?")
    assert [e["name"] for e in heard(live)] == []


# -- across web processes, through the Redis message queue --------------------------------


class Browser:
    """A python-socketio client on /inbox with a session cookie, recording what arrives."""

    def __init__(self, url: str, cookie: str) -> None:
        self.events: list[tuple[str, object]] = []
        self.gone = threading.Event()
        self.client = socketio_pkg.Client(reconnection=False)
        for name in ("message", "conversation", "knowledge", "lead", "typing"):
            self.client.on(
                name, lambda data, name=name: self.events.append((name, data)), namespace=INBOX
            )
        self.client.on("disconnect", lambda *reason: self.gone.set(), namespace=INBOX)
        self.client.connect(
            url,
            namespaces=[INBOX],
            headers={"Cookie": f"{COOKIE}={cookie}"},
            transports=["polling"],
            wait_timeout=10,
        )

    def call(self, event: str, data: object) -> object:
        return self.client.call(event, data, namespace=INBOX, timeout=5)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def wait_for(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_revocation_disconnects_sockets_held_by_another_web_process(
    settings, clock, dispatcher, redis_url, redis_conn
):
    """Removed through process A, Sam's socket on process B is cut; so is a signed-out one."""
    settings = settings.ensure_data_dir()
    a = build(settings, clock=clock, dispatcher_override=dispatcher, redis_url=redis_url)
    b = build(settings, clock=clock, dispatcher_override=dispatcher, redis_url=redis_url)
    workspace, _ = make_workspace(a)
    sam = a.workspaces.add_member(workspace.id, NewMember("Sam Staff", STAFF, PASSWORD))
    cid = visitor_says(a, workspace.id, "Hello").conversation.id
    app_a, _ = create_app(a, testing=True)
    app_b, socketio_b = create_app(b, testing=True)
    socketio_b.server.eio.ping_interval = 1  # a closed long-poll ends within a second
    admin_http, token = signed_in(app_a, ADMIN)
    sam_http, _ = signed_in(app_a, STAFF)
    listening = redis_conn.pubsub_numsub(SOCKETIO_CHANNEL)[0][1]  # others may listen too
    browsers = []
    try:
        with LiveServer(app_b) as server_b:
            admin = Browser(server_b.url, admin_http.get_cookie(COOKIE).value)
            browsers.append(admin)
            sam_socket = Browser(server_b.url, sam_http.get_cookie(COOKIE).value)
            browsers.append(sam_socket)
            wait_for(
                lambda: redis_conn.pubsub_numsub(SOCKETIO_CHANNEL)[0][1] > listening,
                "the web process never subscribed",
            )
            for browser in (admin, sam_socket):
                assert browser.call("join", {"conversation_id": cid})["ok"]

            removed = admin_http.post(f"/settings/team/{sam.id}/remove", data={"csrf_token": token})
            assert removed.status_code == 302
            wait_for(sam_socket.gone.is_set, "the removed member's socket stayed connected")

            visitor_says(a, workspace.id, "Sensitive details")
            wait_for(
                lambda: any(name == "message" for name, _ in admin.events),
                "the admin on process B heard nothing",
            )
            assert sam_socket.events == []

            assert admin_http.post("/logout", data={"csrf_token": token}).status_code == 302
            wait_for(admin.gone.is_set, "the signed-out member's socket stayed connected")
    finally:
        for browser in browsers:
            browser.close()
        a.engine.dispose()
        b.engine.dispose()

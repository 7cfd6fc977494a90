"""The staff inbox over HTTP and Socket.IO: sign-in, CSRF, actions, live events, isolation."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest
from sqlalchemy import event

from agent.core.conversations import Inbound
from agent.core.workspaces import NewMember
from frontdesk.web import create_app
from frontdesk.wiring import build
from ingestion.jobs import DeferredIngestQueue
from tests.conftest import make_workspace

PASSWORD = "a long enough passphrase"


@pytest.fixture
def web(app_container):
    app, socketio = create_app(app_container, testing=True)
    return app, socketio


def csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def login(client, email: str, password: str = PASSWORD):
    """Sign in; returns the response and the session's new CSRF token (rotated at login)."""
    token = csrf(client)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    if response.status_code == 302:
        page = client.get("/").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return response, token


@pytest.fixture
def bayside(app_container):
    workspace, admin = make_workspace(app_container)
    staff = app_container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    return workspace, admin, staff


def visitor_says(container, workspace_id: int, body: str, visitor: str = "v1"):
    return container.conversations.receive(
        workspace_id,
        Inbound(channel="webchat", body=body, thread_id=visitor, provider_message_id=None),
    )


def signed_in(web, email: str = "sam@bayside.example"):
    """A test client signed in as ``email``, and the headers its API calls need."""
    client = web[0].test_client()
    _, token = login(client, email)
    return client, {"X-CSRF-Token": token}


def test_pages_and_api_need_a_signed_in_member(web):
    client = web[0].test_client()
    assert client.get("/").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/api/conversations").status_code == 401


def test_sign_in_and_out(web, bayside):
    client = web[0].test_client()
    response, token = login(client, "sam@bayside.example")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "Sam Staff" in page.get_data(as_text=True)
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/conversations").status_code == 401


def test_wrong_password_is_refused_and_repeated_failures_are_throttled(web, bayside):
    client = web[0].test_client()
    for _ in range(5):
        response, _ = login(client, "sam@bayside.example", "wrong password")
        assert response.status_code == 401
        assert "do not match" in response.get_data(as_text=True)
    response, _ = login(client, "sam@bayside.example")  # even the right one, for a while
    assert response.status_code == 429 and "Too many" in response.get_data(as_text=True)


def forwarded_login(client, forwarded_for: str, password: str = PASSWORD) -> int:
    """A sign-in through a reverse proxy that says who the client is; the status code."""
    form = {"email": "sam@bayside.example", "password": password, "csrf_token": csrf(client)}
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    return client.post("/login", data=form, headers=headers).status_code


def test_without_trusted_proxies_x_forwarded_for_is_ignored(web, bayside):
    """A client cannot dodge the throttle by making up a new address for every attempt."""
    client = web[0].test_client()
    for n in range(5):
        assert forwarded_login(client, f"198.51.100.{n}", "wrong password") == 401
    assert forwarded_login(client, "198.51.100.99") == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_throttle(settings, clock, dispatcher):
    container = build(
        replace(settings, trusted_proxies=1).ensure_data_dir(),
        clock=clock,
        dispatcher_override=dispatcher,
    )
    try:
        make_workspace(container)
        container.workspaces.add_member(
            container.workspaces.all()[0].id,
            NewMember("Sam Staff", "sam@bayside.example", PASSWORD),
        )
        app, _ = create_app(container, testing=True)
        proxy = app.test_client()  # every request comes from the proxy's one address
        for _ in range(5):
            assert forwarded_login(proxy, "203.0.113.7", "wrong password") == 401
        assert forwarded_login(proxy, "203.0.113.7") == 429
        # What the client itself wrote is ignored: only the proxy's last entry is trusted.
        assert forwarded_login(proxy, "198.51.100.1, 203.0.113.7") == 429
        assert forwarded_login(app.test_client(), "203.0.113.8") == 302  # another client
    finally:
        container.engine.dispose()


def test_sign_in_still_works_while_redis_is_down(settings, clock, dispatcher, tmp_path, caplog):
    """The throttle's counter is unreachable (a real client, no server): sign-in works,
    unthrottled, and the log says why, once."""
    container = build(
        settings.ensure_data_dir(),
        clock=clock,
        dispatcher_override=dispatcher,
        ingest_queue_override=DeferredIngestQueue(),
        redis_url=f"unix://{tmp_path / 'redis-is-down.sock'}",
    )
    try:
        workspace, _ = make_workspace(container)
        container.workspaces.add_member(
            workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
        )
        client = create_app(container, testing=True)[0].test_client()
        with caplog.at_level(logging.WARNING, logger="web.counters"):
            response, _ = login(client, "sam@bayside.example", "wrong password")
            assert response.status_code == 401
            assert "do not match" in response.get_data(as_text=True)
            response, _ = login(client, "sam@bayside.example")
            assert response.status_code == 302 and response.headers["Location"] == "/"
            assert "Sam Staff" in client.get("/").get_data(as_text=True)
        (warning,) = [r for r in caplog.records if r.name == "web.counters"]
        assert "Redis is unreachable" in warning.getMessage()
    finally:
        container.engine.dispose()


def test_login_redirect_stays_on_this_site(web, bayside):
    client = web[0].test_client()
    token = csrf(client)
    form = {"email": "sam@bayside.example", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data={**form, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_unsafe_requests_need_the_csrf_token(web, bayside, app_container):
    client = web[0].test_client()
    login(client, "sam@bayside.example")
    received = visitor_says(app_container, bayside[0].id, "hello")
    path = f"/api/conversations/{received.conversation.id}/takeover"
    assert client.post(path).status_code == 400
    assert client.post(path, headers={"X-CSRF-Token": "forged"}).status_code == 400


def test_read_markers_only_move_forward(web, bayside, app_container):
    """Two tabs, or a late "read" call, must not bring back an unread badge."""
    workspace = bayside[0]
    client, headers = signed_in(web)
    first = visitor_says(app_container, workspace.id, "Hello?")
    cid = first.conversation.id
    visitor_says(app_container, workspace.id, "Anyone there?")
    client.get(f"/api/conversations/{cid}")  # opening the thread reads both
    late = client.post(
        f"/api/conversations/{cid}/read", json={"message_id": first.message.id}, headers=headers
    )
    assert late.json == {"ok": True}
    assert client.get("/api/conversations").json["conversations"][0]["unread"] == 0
    third = visitor_says(app_container, workspace.id, "Hello again")
    assert client.get("/api/conversations").json["conversations"][0]["unread"] == 1
    elsewhere = visitor_says(app_container, workspace.id, "Hi", visitor="v2")
    stray = client.post(  # another conversation's message id: refused, nothing moves
        f"/api/conversations/{cid}/read", json={"message_id": elsewhere.message.id}, headers=headers
    )
    assert stray.status_code == 404
    unread = {c["id"]: c["unread"] for c in client.get("/api/conversations").json["conversations"]}
    assert unread[cid] == 1
    for _ in range(2):  # the same call twice (two tabs): no clash on the marker's key
        marked = client.post(
            f"/api/conversations/{cid}/read", json={"message_id": third.message.id}, headers=headers
        )
        assert marked.status_code == 200
    unread = {c["id"]: c["unread"] for c in client.get("/api/conversations").json["conversations"]}
    assert unread[cid] == 0


def test_staff_work_a_conversation_end_to_end(web, bayside, app_container):
    workspace = bayside[0]
    client, headers = signed_in(web)
    received = visitor_says(app_container, workspace.id, "Do you whiten teeth?")
    cid = received.conversation.id

    listed = client.get("/api/conversations").json["conversations"]
    assert [(c["id"], c["unread"], c["mode"]) for c in listed] == [(cid, 1, "ai")]
    shown = client.get(f"/api/conversations/{cid}").json
    assert shown["messages"][-1]["body"] == "Do you whiten teeth?"
    assert client.get("/api/conversations").json["conversations"][0]["unread"] == 0

    taken = client.post(f"/api/conversations/{cid}/takeover", headers=headers).json
    assert taken["conversation"]["mode"] == "human"
    assert taken["conversation"]["assignee"] == "Sam Staff"
    sent = client.post(
        f"/api/conversations/{cid}/messages", json={"body": "Yes we do!"}, headers=headers
    )
    assert sent.status_code == 201 and sent.json["message"]["author_name"] == "Sam Staff"
    empty = client.post(f"/api/conversations/{cid}/messages", json={"body": " "}, headers=headers)
    assert empty.status_code == 400 and "error" in empty.json
    released = client.post(f"/api/conversations/{cid}/release", headers=headers).json
    assert released["conversation"]["mode"] == "ai"
    closed = client.post(f"/api/conversations/{cid}/close", headers=headers).json
    assert closed["conversation"]["status"] == "closed"
    assert client.get("/api/conversations?status=open").json["conversations"] == []
    assert len(client.get("/api/conversations?status=closed").json["conversations"]) == 1
    reopened = client.post(f"/api/conversations/{cid}/reopen", headers=headers).json
    assert reopened["conversation"]["status"] == "open"
    bodies = [m["body"] for m in client.get(f"/api/conversations/{cid}").json["messages"]]
    assert "Sam Staff took over the conversation" in bodies
    assert "Sam Staff handed the conversation back to the AI" in bodies


def test_search_and_filters(web, bayside, app_container):
    workspace = bayside[0]
    client = web[0].test_client()
    login(client, "sam@bayside.example")
    visitor_says(app_container, workspace.id, "Is parking free?", visitor="a")
    visitor_says(app_container, workspace.id, "Do you take 100% insurance?", visitor="b")
    found = client.get("/api/conversations?q=PARKING").json["conversations"]
    assert [c["preview"] for c in found] == ["Is parking free?"]
    assert len(client.get("/api/conversations?q=100%25").json["conversations"]) == 1
    assert client.get("/api/conversations?q=_").json["conversations"] == []  # LIKE escaped
    assert len(client.get("/api/conversations?channel=webchat").json["conversations"]) == 2
    assert client.get("/api/conversations?channel=sms").json["conversations"] == []
    assert client.get("/api/conversations?channel=fax").status_code == 400


def test_staff_of_one_workspace_never_see_another(web, bayside, app_container):
    other, _ = make_workspace(app_container, "Harbour Vets")
    theirs = visitor_says(app_container, other.id, "secret question").conversation.id
    client = web[0].test_client()
    _, token = login(client, "sam@bayside.example")
    assert client.get("/api/conversations").json["conversations"] == []
    assert client.get(f"/api/conversations/{theirs}").status_code == 404
    for action in ("takeover", "close", "messages"):
        response = client.post(
            f"/api/conversations/{theirs}/{action}",
            json={"body": "hi"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 404
    with app_container.uow() as uow:
        conversation = uow.workspace(other.id).conversations.get(theirs)
        assert conversation.mode == "ai" and conversation.status == "open"


def test_new_conversations_only_on_connected_channels(web, bayside):
    client = web[0].test_client()
    _, token = login(client, "sam@bayside.example")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<option value="sms" disabled>SMS \(not connected yet', page)
    response = client.post(
        "/api/conversations",
        json={"channel": "sms", "phone": "+16045550142", "body": "Hello"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 400 and "SMS is not connected yet" in response.json["error"]


def test_socket_needs_a_session_and_joins_only_own_conversations(web, bayside, app_container):
    app, socketio = web
    other, _ = make_workspace(app_container, "Harbour Vets")
    theirs = visitor_says(app_container, other.id, "secret").conversation.id
    mine = visitor_says(app_container, bayside[0].id, "hello").conversation.id

    anonymous = socketio.test_client(app, namespace="/inbox")
    assert not anonymous.is_connected("/inbox")

    client = app.test_client()
    login(client, "sam@bayside.example")
    live = socketio.test_client(app, namespace="/inbox", flask_test_client=client)
    assert live.is_connected("/inbox")
    assert live.emit("join", {"conversation_id": theirs}, namespace="/inbox", callback=True) == {
        "ok": False,
        "error": "not allowed",
    }
    assert live.emit("join", {"conversation_id": mine}, namespace="/inbox", callback=True)["ok"]
    live.get_received("/inbox")

    visitor_says(app_container, other.id, "another secret")  # other workspace: nothing arrives
    assert live.get_received("/inbox") == []
    visitor_says(app_container, bayside[0].id, "<img src=x onerror=alert(1)>")
    events = {e["name"]: e["args"] for e in live.get_received("/inbox")}
    events = {k: v[0] if isinstance(v, list) else v for k, v in events.items()}
    assert events["message"]["body"] == "<img src=x onerror=alert(1)>"  # data, rendered as text
    assert events["conversation"]["id"] == mine
    assert events["conversation"]["new_message"]["direction"] == "in"


def test_a_page_of_the_list_costs_the_same_queries_whatever_its_size(web, bayside, app_container):
    """No query per row: listing 30 conversations takes as many statements as listing 5."""
    workspace, _, staff = bayside
    client, _ = signed_in(web)
    engine = app_container.engine
    pages = ("", "?q=question", "?status=open", "?channel=webchat")

    def add(first: int, last: int) -> None:
        for n in range(first, last):
            visitor = f"visitor-{n}"
            received = visitor_says(app_container, workspace.id, f"Question {n}", visitor)
            visitor_says(app_container, workspace.id, f"And question {n}b", visitor)
            if n % 3 == 0:  # assigned rows, with staff activity as their newest message
                app_container.conversations.take_over(
                    workspace.id, received.conversation.id, staff.id
                )
            if n % 2 == 0:  # read markers: some rows read, the others unread
                client.get(f"/api/conversations/{received.conversation.id}")

    def cost(page: str) -> tuple[list[dict], int]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(f"/api/conversations{page}")
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200
        return response.json["conversations"], len(statements)

    add(0, 5)
    small = {page: cost(page) for page in pages}
    add(5, 30)
    large = {page: cost(page) for page in pages}
    for page in pages:
        (few, few_queries), (many, many_queries) = small[page], large[page]
        assert (len(few), len(many)) == (5, 30), page
        assert few_queries > 0 and many_queries == few_queries, page
    rows = large[""][0]
    assert sorted(r["assignee"] or "" for r in rows) == [""] * 20 + ["Sam Staff"] * 10
    assert sorted(r["unread"] for r in rows) == [0] * 15 + [2] * 15
    assert all(r["preview"] and r["contact"] and r["last_message_id"] for r in rows)

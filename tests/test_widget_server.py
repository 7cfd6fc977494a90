"""The widget's server side: public endpoints, the /widget Socket.IO namespace, broadcasts.

Real Flask app, real Socket.IO (the flask_socketio test client; a live server and the
python-socketio client where the Redis message queue is involved), real SQLite.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import replace

import pytest
import socketio as socketio_pkg
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from agent.core.errors import ValidationError
from agent.core.workspaces import clean_widget
from frontdesk.web import SOCKETIO_CHANNEL, attach_worker_broadcaster, create_app
from frontdesk.wiring import build
from ingestion.jobs import DeferredIngestQueue
from tests.browser import LiveServer
from tests.conftest import make_workspace
from tests.test_inbox import login
from widget.identity import FRAME_SALT, frame_token
from widget.origins import normalise_origin, origin_allowed, origin_of
from widget.realtime import TOO_FAST, RateLimits

SITE = "https://www.bayside.example"
REFUSED = "This website is not allowed to show this chat widget."
NS = "/widget"


@pytest.fixture
def web(app_container):
    return create_app(app_container, testing=True)


@pytest.fixture
def bayside(app_container):
    workspace, admin = make_workspace(app_container)
    return allow(app_container, workspace, [SITE]), admin


def allow(container, workspace, origins):
    return container.workspaces.update_profile(
        workspace.id, {"widget": {"allowed_origins": origins}}
    )


def frame_data(app, key: str, host: str = SITE) -> dict:
    page = app.test_client().get(f"/widget/v1/{key}/frame?host={host}")
    assert page.status_code == 200, page.get_data(as_text=True)
    block = re.search(
        r'<script type="application/json" id="frontdesk-frame">(.*?)</script>',
        page.get_data(as_text=True),
        re.S,
    )
    return json.loads(block.group(1))


def visitor(web, token: str, **credentials):
    app, socketio = web
    return socketio.test_client(app, namespace=NS, auth={"frame_token": token, **credentials})


def events(client, namespace: str = NS) -> list[tuple[str, object]]:
    """(name, payload) pairs; the test client keeps a "message" event's payload unwrapped."""
    return [
        (e["name"], e["args"] if e["name"] == "message" else e["args"][0])
        for e in client.get_received(namespace)
    ]


def send(client, body: str, client_id: str) -> dict:
    return client.emit(
        "message", {"body": body, "client_id": client_id}, namespace=NS, callback=True
    )


def staff_socket(web, email: str):
    app, socketio = web
    http = app.test_client()
    login(http, email)
    return socketio.test_client(app, namespace="/inbox", flask_test_client=http)


# -- origins and public endpoints ---------------------------------------------------


def test_origins_are_normalised_and_checked():
    assert normalise_origin(" HTTPS://Shop.Example:443/ ") == "https://shop.example"
    assert normalise_origin("http://localhost:8080") == "http://localhost:8080"
    for bad in ("shop.example", "ftp://shop.example", "https://shop.example/page", "null"):
        with pytest.raises(ValueError):
            normalise_origin(bad)
    assert origin_allowed("https://anything.example", [])
    assert origin_allowed("https://SHOP.example", ["https://shop.example"])
    assert not origin_allowed("https://evil.example", ["https://shop.example"])
    assert origin_of("https://shop.example/a/b?c=1") == "https://shop.example"
    assert origin_of("about:blank") is None
    widget = clean_widget({"allowed_origins": ["https://A.example/", "", "https://a.example"]})
    assert widget["allowed_origins"] == ["https://a.example"]
    with pytest.raises(ValidationError) as refused:
        clean_widget({"allowed_origins": ["https://ok.example", "www.nope.example"]})
    assert refused.value.field == "widget.allowed_origins"
    assert "'www.nope.example'" in refused.value.message


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"primary_color": "red; background:url(x)"}, "widget.primary_color"),
        ({"text_color": "#12345"}, "widget.text_color"),
        ({"accent_color": None}, "widget.accent_color"),
        ({"greeting": 42}, "widget.greeting"),
        ({"mobile_popup": "yes"}, "widget.mobile_popup"),
        ({"position": "top"}, "widget.position"),
        ({"greeting": "x" * 71}, "widget.greeting"),
        ({"initial_message": "x" * 601}, "widget.initial_message"),
    ],
)
def test_widget_settings_refuse_what_the_widget_could_not_draw(values, field):
    with pytest.raises(ValidationError) as refused:
        clean_widget(values)
    assert refused.value.field == field


def test_widget_colours_are_normalised():
    widget = clean_widget({"primary_color": " #a1b2c3 ", "greeting": "  Hi!  "})
    assert widget["primary_color"] == "#a1b2c3" and widget["greeting"] == "Hi!"


def test_loader_config_and_frame_are_served(web, bayside):
    app, key = web[0], bayside[0].widget_key
    client = app.test_client()
    loader = client.get(f"/widget/v1/{key}/loader.js")
    assert loader.status_code == 200
    assert loader.mimetype == "application/javascript"
    assert "public" in loader.headers["Cache-Control"]
    assert "max-age=300" in loader.headers["Cache-Control"]
    config = client.get(f"/widget/v1/{key}/config.json", headers={"Origin": SITE})
    assert config.status_code == 200
    assert config.json == {
        "key": key,
        "business_name": "Bayside Dental",
        "greeting": "Hi there! How can we help?",
        "initial_message": clean_widget({})["initial_message"],
        "primary_color": "#2563EB",
        "accent_color": "#1E40AF",
        "text_color": "#FFFFFF",
        "position": "right",
        "mobile_popup": True,
        "max_message_chars": 10_000,
        "frame_url": f"http://localhost/widget/v1/{key}/frame",
    }
    data = frame_data(app, key)
    assert data["config"] == config.json and data["mode"] == "floating" and data["host"] == SITE
    assert data["frame_token"]
    for path in ("loader.js", "config.json", "frame?host=" + SITE):
        assert client.get(f"/widget/v1/no-such-key/{path}").status_code == 404


def test_config_cors_follows_the_allow_list(web, bayside, app_container):
    client, workspace = web[0].test_client(), bayside[0]
    path = f"/widget/v1/{workspace.widget_key}/config.json"
    allowed = client.get(path, headers={"Origin": SITE})
    assert allowed.headers["Access-Control-Allow-Origin"] == SITE
    assert allowed.headers["Vary"] == "Origin"
    refused = client.get(path, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json == {"error": REFUSED}
    # The refusal itself is readable, so the loader can tell the site owner why.
    assert refused.headers["Access-Control-Allow-Origin"] == "https://evil.example"
    allow(app_container, workspace, [])  # an empty list admits any site
    anyone = client.get(path, headers={"Origin": "https://evil.example"})
    assert anyone.status_code == 200
    assert anyone.headers["Access-Control-Allow-Origin"] == "https://evil.example"


def test_frame_may_be_framed_only_by_its_host(web, bayside):
    client, key = web[0].test_client(), bayside[0].widget_key
    page = client.get(f"/widget/v1/{key}/frame?host={SITE}&mode=embedded")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert csp.endswith(f"frame-ancestors {SITE}") and "script-src 'self';" in csp
    assert "X-Frame-Options" not in page.headers
    assert client.get("/login").headers["X-Frame-Options"] == "DENY"  # the rest of the app
    same = client.get(f"/widget/v1/{key}/frame?host={SITE}", headers={"Referer": SITE + "/x"})
    assert same.status_code == 200
    for query, referer in (
        ("host=https://evil.example", None),  # not on the allow-list
        ("host=javascript:alert(1)", None),  # not an origin at all
        ("", None),
        (f"host={SITE}", "https://evil.example/page"),  # claims a host it is not on
    ):
        headers = {"Referer": referer} if referer else {}
        refused = client.get(f"/widget/v1/{key}/frame?{query}", headers=headers)
        assert refused.status_code == 403 and REFUSED in refused.get_data(as_text=True)


# -- connecting ---------------------------------------------------------------------------


def test_bad_frame_tokens_are_refused_at_connect(web, bayside, app_container):
    workspace = bayside[0]
    secret = app_container.settings.secret_key
    assert not visitor(web, "forged.token.value").is_connected(NS)
    assert not visitor(web, frame_token("another secret", workspace.id, SITE)).is_connected(NS)

    class DayOld(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 24 * 3600 - 5

    expired = URLSafeTimedSerializer(secret, salt=FRAME_SALT, signer=DayOld)
    stale = expired.dumps({"w": workspace.id, "o": SITE})
    assert not visitor(web, stale).is_connected(NS)
    assert visitor(web, frame_token(secret, workspace.id, SITE)).is_connected(NS)
    # The site was removed from the allow-list after the page was loaded.
    token = frame_token(secret, workspace.id, SITE)
    allow(app_container, workspace, ["https://other.example"])
    assert not visitor(web, token).is_connected(NS)


def test_identity_is_minted_once_and_the_visitor_continues_their_conversation(web, bayside):
    token = frame_data(web[0], bayside[0].widget_key)["frame_token"]
    first = visitor(web, token)
    (name, identity), *_ = events(first)
    assert name == "identity" and identity["visitor_id"].startswith("v_")
    sent = send(first, "Do you whiten teeth?", "c-0001-abcd")
    assert sent["ok"] and sent["message"]["role"] == "visitor"
    assert sent["message"]["client_id"] == "c-0001-abcd"

    again = visitor(web, token, **identity)  # a reload: the same credentials
    assert [n for n, _ in events(again)] == []  # nothing new minted
    history = again.emit("history", {"after_id": 0}, namespace=NS, callback=True)
    assert [m["role"] for m in history["messages"]] == ["ai", "visitor"]  # welcome, question
    assert history["messages"][0]["author_name"] == "Bayside Dental"
    cid = history["conversation"]["id"]
    assert send(again, "And the price?", "c-0002-abcd")["ok"]
    assert again.emit("history", {}, namespace=NS, callback=True)["conversation"]["id"] == cid

    forged = visitor(web, token, visitor_id=identity["visitor_id"], visitor_token="0" * 64)
    (name, fresh), *_ = events(forged)
    assert name == "identity" and fresh["visitor_id"] != identity["visitor_id"]
    assert forged.emit("history", {}, namespace=NS, callback=True)["messages"] == []


def test_credentials_of_one_workspace_do_not_open_another(web, bayside, app_container):
    secret = app_container.settings.secret_key
    harbour, _ = make_workspace(app_container, "Harbour Vets")
    mine = visitor(web, frame_token(secret, bayside[0].id, SITE))
    identity = events(mine)[0][1]
    assert send(mine, "my private question", "c-private-1")["ok"]
    elsewhere = visitor(web, frame_token(secret, harbour.id, SITE), **identity)
    name, minted = events(elsewhere)[0]
    assert name == "identity" and minted["visitor_id"] != identity["visitor_id"]
    assert elsewhere.emit("history", {}, namespace=NS, callback=True)["messages"] == []


# -- sending ------------------------------------------------------------------------------


def stored(container, workspace_id: int, visitor_id: str) -> list[str]:
    with container.uow() as uow:
        repo = uow.workspace(workspace_id)
        conversation = repo.conversations.by_thread("webchat", visitor_id)
        return (
            [m.body for m in repo.messages.for_conversation(conversation.id)]
            if conversation
            else []
        )


def test_a_resent_message_is_stored_once(web, bayside, app_container):
    client = visitor(web, frame_data(web[0], bayside[0].widget_key)["frame_token"])
    visitor_id = events(client)[0][1]["visitor_id"]
    first = send(client, "Can I book a cleaning?", "0f1e2d3c-aaaa")
    again = send(client, "Can I book a cleaning?", "0f1e2d3c-aaaa")  # after a reconnect
    assert first == again and first["ok"]
    bodies = stored(app_container, bayside[0].id, visitor_id)
    assert bodies.count("Can I book a cleaning?") == 1
    assert send(client, "Hi", "short")["ok"] is False  # client ids are 8-64 characters


def test_a_too_long_message_is_refused_and_not_stored(web, bayside, app_container):
    client = visitor(web, frame_data(web[0], bayside[0].widget_key)["frame_token"])
    visitor_id = events(client)[0][1]["visitor_id"]
    refused = send(client, "x" * 10_001, "too-long-0001")
    assert refused == {
        "ok": False,
        "error": "Your message is too long: please keep it under 10,000 characters.",
    }
    assert send(client, "   ", "blank-000001") == {
        "ok": False,
        "error": "Please type a message first.",
    }
    assert stored(app_container, bayside[0].id, visitor_id) == []


def test_per_visitor_rate_limit(web, bayside, app_container):
    client = visitor(web, frame_data(web[0], bayside[0].widget_key)["frame_token"])
    visitor_id = events(client)[0][1]["visitor_id"]
    for n in range(10):
        assert send(client, f"message {n}", f"rate-visitor-{n:02d}")["ok"]
    limited = send(client, "one too many", "rate-visitor-10")
    assert limited == {"ok": False, "error": TOO_FAST, "retry_after": 60}
    assert "one too many" not in stored(app_container, bayside[0].id, visitor_id)
    assert send(client, "message 3", "rate-visitor-03")["ok"]  # a resend is answered


def test_per_ip_rate_limit_across_visitors(app_container, bayside):
    web = create_app(app_container, testing=True, widget_limits=RateLimits(per_ip=3))
    token = frame_data(web[0], bayside[0].widget_key)["frame_token"]
    first, second = visitor(web, token), visitor(web, token)
    assert send(first, "one", "ip-limit-0001")["ok"]
    assert send(first, "two", "ip-limit-0002")["ok"]
    assert send(second, "three", "ip-limit-0003")["ok"]
    limited = send(second, "four", "ip-limit-0004")  # same address, another visitor
    assert limited["ok"] is False and limited["error"] == TOO_FAST and limited["retry_after"] == 60


# -- live events ----------------------------------------------------------------------------


def test_a_message_for_the_ai_shows_it_typing(web, bayside, dispatcher):
    client = visitor(web, frame_data(web[0], bayside[0].widget_key)["frame_token"])
    events(client)
    sent = send(client, "Are you open on Saturday?", "typing-ai-0001")
    received = events(client)
    assert ("typing", {"kind": "ai", "name": "Bayside Dental"}) in received
    own = [data for name, data in received if name == "message"]
    assert [m["role"] for m in own] == ["ai", "visitor"]  # the welcome, then the question
    assert own[-1]["id"] == sent["message"]["id"]
    assert dispatcher.turns[-1][2] == sent["message"]["id"]


def test_no_typing_when_the_ai_has_answered_before_the_ack(web, bayside, dispatcher):
    """An inline receptionist (no queue) has replied already: no dots after its answer."""
    dispatcher.replies_inline = True
    client = visitor(web, frame_data(web[0], bayside[0].widget_key)["frame_token"])
    events(client)
    sent = send(client, "Are you open on Saturday?", "typing-ai-0002")
    assert sent["ok"] and dispatcher.turns[-1][2] == sent["message"]["id"]
    assert "typing" not in [name for name, _ in events(client)]


def test_staff_reply_reaches_the_visitor_without_internal_notes(web, bayside, app_container):
    workspace, admin = bayside
    with app_container.uow() as uow:
        uow.workspace(workspace.id).team.get(admin.id).avatar_url = "https://cdn.example/dana.png"
        uow.commit()
    client = visitor(web, frame_data(web[0], workspace.widget_key)["frame_token"])
    events(client)
    cid = send(client, "I need a person", "human-0000001")["message"]["id"]
    with app_container.uow() as uow:
        cid = uow.workspace(workspace.id).messages.get(cid).conversation_id
    events(client)

    app_container.conversations.take_over(workspace.id, cid, admin.id)
    reply = app_container.conversations.reply(workspace.id, cid, admin.id, "Hi, Dana here!")
    received = events(client)
    conversations = [data for name, data in received if name == "conversation"]
    assert conversations[0] == {
        "id": cid,
        "mode": "human",
        "status": "open",
        "agent": {"name": "Dana Admin", "avatar": "https://cdn.example/dana.png"},
    }
    messages = [data for name, data in received if name == "message"]
    assert [m["body"] for m in messages] == ["Hi, Dana here!"]  # no "Dana took over" note
    assert messages[0]["role"] == "staff" and messages[0]["author_name"] == "Dana Admin"
    assert messages[0]["author_avatar"] == "https://cdn.example/dana.png"
    with app_container.uow() as uow:
        assert uow.workspace(workspace.id).messages.get(reply.id).delivery_status == "sent"

    history = client.emit("history", {"after_id": 0}, namespace=NS, callback=True)
    assert "Dana Admin took over the conversation" not in [m["body"] for m in history["messages"]]
    assert history["conversation"]["mode"] == "human"
    after = client.emit("history", {"after_id": reply.id - 1}, namespace=NS, callback=True)
    assert [m["id"] for m in after["messages"]] == [reply.id]


def test_a_visitor_never_receives_another_workspaces_events(web, bayside, app_container):
    secret = app_container.settings.secret_key
    harbour, vet = make_workspace(app_container, "Harbour Vets")
    mine = visitor(web, frame_data(web[0], bayside[0].widget_key)["frame_token"])
    events(mine)
    theirs = visitor(web, frame_token(secret, harbour.id, SITE))
    events(theirs)
    sent = send(theirs, "Is my cat ready?", "harbour-00001")
    with app_container.uow() as uow:
        cid = uow.workspace(harbour.id).messages.get(sent["message"]["id"]).conversation_id
    app_container.conversations.reply(harbour.id, cid, vet.id, "Yes, come by!")
    assert [n for n, _ in events(theirs)] != []
    assert events(mine) == []


def test_typing_flows_between_visitor_and_staff(web, bayside, app_container):
    workspace, admin = bayside
    client = visitor(web, frame_data(web[0], workspace.widget_key)["frame_token"])
    client.emit("typing", {}, namespace=NS)  # no conversation yet: nobody to tell
    sent = send(client, "hello", "typing-0000001")
    with app_container.uow() as uow:
        repo = uow.workspace(workspace.id)
        cid = repo.messages.get(sent["message"]["id"]).conversation_id
        contact_id = repo.conversations.get(cid).contact_id
    staff = staff_socket(web, admin.email)
    assert staff.emit("join", {"conversation_id": cid}, namespace="/inbox", callback=True)["ok"]
    staff.get_received("/inbox")
    events(client)

    client.emit("typing", {}, namespace=NS)
    assert events(staff, "/inbox") == [
        ("typing", {"conversation_id": cid, "who": f"Visitor #{contact_id}", "kind": "visitor"})
    ]
    staff.emit("typing", {"conversation_id": cid}, namespace="/inbox")
    assert events(client) == [("typing", {"kind": "staff", "name": "Dana Admin"})]


def test_worker_emits_reach_a_live_visitor_through_redis(
    sqlite_settings, redis_url, redis_conn, clock, dispatcher
):
    """A reply sent from a worker process reaches the visitor's websocket via Redis."""
    web_container = build(
        sqlite_settings, clock=clock, dispatcher_override=dispatcher, redis_url=redis_url
    )
    workspace, admin = make_workspace(web_container, "Bayside Dental")
    app, _ = create_app(web_container, testing=True)
    worker = build(
        sqlite_settings, clock=clock, dispatcher_override=dispatcher, redis_url=redis_url
    )
    attach_worker_broadcaster(worker)
    token = frame_token(sqlite_settings.secret_key, workspace.id, SITE)
    received: list[tuple[str, dict]] = []
    client = socketio_pkg.Client()
    for name in ("identity", "message", "conversation"):
        client.on(name, lambda data, name=name: received.append((name, data)), namespace=NS)
    listening = redis_conn.pubsub_numsub(SOCKETIO_CHANNEL)[0][1]  # others may listen too
    with LiveServer(app) as server:
        forged, why = socketio_pkg.Client(), []
        forged.on("connect_error", why.append, namespace=NS)
        with pytest.raises(socketio_pkg.exceptions.ConnectionError):
            forged.connect(server.url, namespaces=[NS], auth={"frame_token": "x"}, wait_timeout=15)
        assert why == [{"message": "This chat has expired. Please reload the page."}]
        client.connect(server.url, namespaces=[NS], auth={"frame_token": token}, wait_timeout=15)
        # The web process listens on Redis from its first connection on; wait until it does.
        deadline = time.monotonic() + 10
        while redis_conn.pubsub_numsub(SOCKETIO_CHANNEL)[0][1] <= listening:
            assert time.monotonic() < deadline, "the web process never subscribed"
            time.sleep(0.02)
        try:
            sent = client.call(
                "message", {"body": "Hello?", "client_id": "redis-000001"}, namespace=NS
            )
            with worker.uow() as uow:
                cid = (
                    uow.workspace(workspace.id).messages.get(sent["message"]["id"]).conversation_id
                )
            worker.conversations.reply(workspace.id, cid, admin.id, "From the worker")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                name == "message" and data["body"] == "From the worker" for name, data in received
            ):
                time.sleep(0.05)
        finally:
            client.disconnect()
    bodies = [data["body"] for name, data in received if name == "message"]
    assert bodies and bodies[-1] == "From the worker", received
    web_container.engine.dispose()
    worker.engine.dispose()


def test_frontdesk_own_pages_may_always_show_the_chat(web, app_container):
    """An allow-list for the business's site still lets frontdesk's demo page show it."""
    workspace, _ = make_workspace(
        app_container, widget={"allowed_origins": ["https://bayside.example"]}
    )
    client = web[0].test_client()
    key = workspace.widget_key
    own = client.get(f"/widget/v1/{key}/config.json", headers={"Origin": "http://localhost"})
    assert own.status_code == 200
    assert own.headers["Access-Control-Allow-Origin"] == "http://localhost"
    stranger = client.get(
        f"/widget/v1/{key}/config.json", headers={"Origin": "https://evil.example"}
    )
    assert stranger.status_code == 403
    frame = client.get(f"/widget/v1/{key}/frame?host=http://localhost")
    assert frame.status_code == 200
    assert frame.headers["Content-Security-Policy"].endswith("frame-ancestors http://localhost")


def test_behind_a_trusted_proxy_the_per_ip_limit_counts_each_visitor_address(
    sqlite_settings, clock, dispatcher
):
    """Socket.IO requests pass through the proxy fix too (it wraps the Socket.IO middleware)."""
    container = build(
        replace(sqlite_settings, trusted_proxies=1), clock=clock, dispatcher_override=dispatcher
    )
    workspace, _ = make_workspace(container)
    app, _ = create_app(container, testing=True, widget_limits=RateLimits(per_ip=1))
    token = frame_token(sqlite_settings.secret_key, workspace.id, SITE)
    results = []
    with LiveServer(app) as server:
        for n, address in enumerate(["203.0.113.1", "203.0.113.2", "203.0.113.1"]):
            client = socketio_pkg.Client()
            client.connect(
                server.url,
                namespaces=[NS],
                auth={"frame_token": token},
                headers={"X-Forwarded-For": address},
                wait_timeout=15,
            )
            try:
                message = {"body": f"hello {n}", "client_id": f"proxied-{n:04d}"}
                results.append(client.call("message", message, namespace=NS))
            finally:
                client.disconnect()
    container.engine.dispose()
    assert [r["ok"] for r in results] == [True, True, False]  # one message per address
    assert results[2]["error"] == TOO_FAST


def test_while_redis_is_down_visitors_connect_and_their_messages_go_through(
    sqlite_settings, clock, dispatcher, tmp_path, caplog
):
    """Redis is configured but not running (a real client, no server): the rate-limit
    counter is not reached, so messages are not counted, but not refused either."""
    container = build(
        sqlite_settings,
        clock=clock,
        dispatcher_override=dispatcher,
        ingest_queue_override=DeferredIngestQueue(),
        redis_url=f"unix://{tmp_path / 'redis-is-down.sock'}",
    )
    workspace, _ = make_workspace(container)
    app, _ = create_app(container, testing=True)
    token = frame_token(sqlite_settings.secret_key, workspace.id, SITE)
    identity: list[dict] = []
    client = socketio_pkg.Client()
    client.on("identity", identity.append, namespace=NS)
    with caplog.at_level(logging.WARNING, logger="web.counters"), LiveServer(app) as server:
        client.connect(server.url, namespaces=[NS], auth={"frame_token": token}, wait_timeout=15)
        try:
            sent = [
                client.call(
                    "message", {"body": f"Open today? ({n})", "client_id": f"down-{n:04d}"}, NS
                )
                for n in range(3)
            ]
        finally:
            client.disconnect()
    assert [m["ok"] for m in sent] == [True, True, True], sent
    assert stored(container, workspace.id, identity[0]["visitor_id"])[-1] == "Open today? (2)"
    (warning,) = [r for r in caplog.records if r.name == "web.counters"]
    assert "Redis is unreachable" in warning.getMessage()
    container.engine.dispose()

"""Admin settings over HTTP: the business profile form, the additional instructions and the
try-it chat (a real agent turn with the offline model, kept out of the inbox)."""

from __future__ import annotations

import html

import pytest

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.events import ConversationEvent, Event
from agent.core.workspaces import NewMember
from tests import test_inbox
from tests.conftest import make_workspace
from tests.test_inbox import PASSWORD, csrf, login, visitor_says

# The inbox tests' fixtures: the app around ``app_container``; Bayside with an admin and staff.
web = test_inbox.web
bayside = test_inbox.bayside

HOSTILE = "<img src=x onerror=alert(1)>"
PAGES = ["/settings/", "/settings/profile", "/settings/instructions", "/settings/try-it/messages"]
ACTIONS = [
    "/settings/profile",
    "/settings/instructions",
    "/settings/try-it/messages",
    "/settings/try-it/reset",
]


def admin_client(web, email: str = "dana@bayside-dental.example"):
    client = web[0].test_client()
    response, token = login(client, email)
    assert response.status_code == 302
    return client, token


def workspace_now(container, workspace_id):
    with container.uow() as uow:
        return uow.workspace(workspace_id).workspace()


def profile_form(token: str, **overrides) -> dict:
    form = {
        "csrf_token": token,
        "name": "Bayside Dental",
        "timezone": "America/Vancouver",
        "country": "CA",
        "address": "12 Harbour Rd, Vancouver",
        "phone": "604 555 0100",
        "email": "Hello@Bayside.example",
        "hours_mon": "08:00-12:00, 13:00-17:00",
        "hours_tue": "08:00-17:00",
        "hours_wed": "08:00-17:00",
        "hours_thu": "08:00-17:00",
        "hours_fri": "08:00-15:30",
        "hours_sat": "closed",
        "hours_sun": "",
        "services": "Cleaning\n\n  Whitening  \nImplants\n",
        "appointment_minutes": "45",
        "link_name": ["booking", "Patient forms", "", ""],
        "link_url": ["https://bayside.example/book", "https://bayside.example/forms", "", ""],
    }
    form.update(overrides)
    return form


def drain_ingestion(container):
    queue = container.ingest_queue
    while queue.pending:
        action, workspace_id, source_id = queue.pending.pop(0)
        if action == "ingest":
            container.ingestor.run(workspace_id, source_id)
        else:
            container.ingestor.purge(workspace_id, source_id)


def try_it(client, token, body):
    response = client.post(
        "/settings/try-it/messages", json={"body": body}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


# -- who may see settings ------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(web):
    client = web[0].test_client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    token = csrf(client)
    for path in ACTIONS:
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_staff_are_refused_every_settings_url(web, bayside, app_container):
    workspace = bayside[0]
    before = workspace_now(app_container, workspace.id)
    client = web[0].test_client()
    _, token = login(client, "sam@bayside.example")
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path in ACTIONS:
        response = client.post(path, data=profile_form(token, name="Taken Over", instructions="x"))
        assert response.status_code == 403, path
    response = client.post(
        "/settings/try-it/messages", json={"body": "hi"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 403
    after = workspace_now(app_container, workspace.id)
    assert (after.name, after.instructions) == (before.name, before.instructions)
    assert 'href="/settings/"' not in client.get("/").get_data(as_text=True)


def test_settings_open_on_the_profile_with_the_sub_navigation(web, bayside):
    client, _ = admin_client(web)
    assert 'href="/settings/"' in client.get("/").get_data(as_text=True)  # top bar
    response = client.get("/settings/")
    assert response.status_code == 302 and response.headers["Location"] == "/settings/profile"
    page = client.get("/settings/profile").get_data(as_text=True)
    for path in ("profile", "instructions", "knowledge", "team", "templates"):
        assert f'href="/settings/{path}"' in page
    assert 'href="/settings/profile" aria-current="page"' in page


def test_unsafe_settings_requests_need_the_csrf_token(web, bayside, app_container):
    client, _ = admin_client(web)
    response = client.post("/settings/profile", data=profile_form("forged", name="Forged"))
    assert response.status_code == 400
    assert workspace_now(app_container, bayside[0].id).name == "Bayside Dental"


# -- business profile -------------------------------------------------------------------


def test_profile_round_trips_through_the_form(web, bayside, app_container):
    workspace = bayside[0]
    client, token = admin_client(web)
    response = client.post("/settings/profile", data=profile_form(token))
    assert response.status_code == 302 and response.headers["Location"] == "/settings/profile"
    saved = workspace_now(app_container, workspace.id)
    assert saved.hours == {
        "mon": ["08:00-12:00", "13:00-17:00"],
        "tue": ["08:00-17:00"],
        "wed": ["08:00-17:00"],
        "thu": ["08:00-17:00"],
        "fri": ["08:00-15:30"],
        "sat": [],
        "sun": [],
    }
    assert saved.services == ["Cleaning", "Whitening", "Implants"]
    assert saved.links == {
        "booking": "https://bayside.example/book",
        "patient_forms": "https://bayside.example/forms",
    }
    assert (saved.phone, saved.email, saved.appointment_minutes) == (
        "+16045550100",
        "hello@bayside.example",
        45,
    )
    page = client.get("/settings/profile").get_data(as_text=True)
    assert "Business profile saved" in page
    assert 'value="08:00-12:00, 13:00-17:00"' in page and 'name="hours_sat" value="closed"' in page
    assert "Cleaning\nWhitening\nImplants</textarea>" in page
    assert 'value="patient_forms"' in page and 'value="https://bayside.example/forms"' in page

    # Clearing a link row removes the link; the other fields stay as saved.
    form = profile_form(token, link_name=["booking", ""], link_url=["https://b.example/x", ""])
    assert client.post("/settings/profile", data=form).status_code == 302
    assert workspace_now(app_container, workspace.id).links == {"booking": "https://b.example/x"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "is not a known time zone"),
        ({"hours_wed": "25:00-26:00"}, "has an impossible time"),
        ({"hours_thu": "17:00-09:00"}, "ends before it starts"),
        ({"appointment_minutes": "0"}, "must be between 5 and 480 minutes"),
        ({"appointment_minutes": "soon"}, "is not a number"),
        ({"country": "XX"}, "is not an ISO 3166 alpha-2 country code"),
        ({"phone": "12"}, "is not a valid phone number"),
        ({"email": "not-an-email"}, "is not a valid email address"),
        ({"name": "  "}, "is required"),
        (
            {"link_name": ["booking"], "link_url": ["javascript:alert(1)"]},
            "must be an http(s) URL",
        ),
        ({"link_name": ["booking"], "link_url": ["ftp://files.example/x"]}, "http(s) URL"),
        ({"link_name": ["booking"], "link_url": [""]}, "enter the web address"),
        (
            {
                "link_name": ["booking", "Booking"],
                "link_url": ["https://a.example", "https://b.ex"],
            },
            "is used twice",
        ),
    ],
)
def test_invalid_profile_values_are_shown_and_change_nothing(
    web, bayside, app_container, overrides, message
):
    workspace = bayside[0]
    client, token = admin_client(web)
    before = workspace_now(app_container, workspace.id)
    form = profile_form(token, address="99 Kept Avenue", **overrides)
    response = client.post("/settings/profile", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and "Nothing was saved" in page
    assert 'value="99 Kept Avenue"' in page  # what the admin typed is kept
    after = workspace_now(app_container, workspace.id)
    assert (after.address, after.hours, after.links, after.updated_at) == (
        before.address,
        before.hours,
        before.links,
        before.updated_at,
    )


def test_every_profile_error_is_shown_next_to_its_field(web, bayside):
    client, token = admin_client(web)
    form = profile_form(token, timezone="Nowhere/City", hours_mon="25:00-26:00", hours_fri="9-5")
    page = html.unescape(client.post("/settings/profile", data=form).get_data(as_text=True))
    assert "fix the 3 problems" in page
    assert 'id="timezone-error"' in page and 'id="hours_mon-error"' in page
    assert 'id="hours_fri-error"' in page and "'9-5' is not a range like 09:00-17:30" in page
    assert 'name="hours_mon" value="25:00-26:00" placeholder="closed" aria-invalid="true"' in page


def test_hostile_profile_text_is_escaped(web, bayside):
    client, token = admin_client(web)
    form = profile_form(
        token,
        name=HOSTILE,
        address=HOSTILE,
        services=HOSTILE,
        link_name=["x"],
        link_url=[f'https://x.example/?q="{HOSTILE}'],
    )
    assert client.post("/settings/profile", data=form).status_code == 302
    page = client.get("/settings/profile").get_data(as_text=True)
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    rejected = client.post("/settings/profile", data={**form, "hours_mon": HOSTILE})
    assert rejected.status_code == 400
    assert HOSTILE not in rejected.get_data(as_text=True)


def test_saving_the_profile_does_not_touch_another_workspace(web, bayside, app_container):
    other, _ = make_workspace(app_container, "Harbour Vets")
    client, token = admin_client(web)
    assert client.post("/settings/profile", data=profile_form(token, name="New")).status_code == 302
    assert workspace_now(app_container, other.id).name == "Harbour Vets"
    assert workspace_now(app_container, bayside[0].id).name == "New"


# -- additional instructions ------------------------------------------------------------------


def test_instructions_are_saved_and_escaped(web, bayside, app_container):
    workspace = bayside[0]
    client, token = admin_client(web)
    page = client.get("/settings/instructions").get_data(as_text=True)
    assert "never override safety" in page and "Try it" in page
    text = f"Be warm and brief. {HOSTILE}"
    form = {"csrf_token": token, "instructions": text}
    assert client.post("/settings/instructions", data=form).status_code == 302
    assert workspace_now(app_container, workspace.id).instructions == text
    page = client.get("/settings/instructions").get_data(as_text=True)
    assert "Instructions saved" in page
    assert HOSTILE not in page and "Be warm and brief. &lt;img src=x" in page

    too_long = "x" * 20_001
    response = client.post(
        "/settings/instructions", data={"csrf_token": token, "instructions": too_long}
    )
    assert response.status_code == 400
    assert "must be at most 20,000 characters" in response.get_data(as_text=True)
    assert workspace_now(app_container, workspace.id).instructions == text


# -- the try-it chat -----------------------------------------------------------------------


def test_try_it_answers_from_the_knowledge_inline(web, bayside, app_container, dispatcher):
    workspace = bayside[0]
    app_container.knowledge.add_qa(
        workspace.id, "Do you see children?", "Yes, we see children from age three."
    )
    drain_ingestion(app_container)
    client, token = admin_client(web)
    result = try_it(client, token, "do you see kids?")
    reply = result["reply"]
    assert "age three" in reply["body"]
    assert reply["citations"][0]["source"] == "Q&A: Do you see children?"
    assert "search_knowledge" in [t["name"] for t in reply["tools"]]
    assert [m["role"] for m in result["messages"]] == ["ai", "you", "ai"]  # welcome first
    assert dispatcher.turns == []  # answered in the request, not queued for a worker
    shown = client.get("/settings/try-it/messages").json
    assert shown["messages"] == result["messages"] and shown["mode"] == "ai"
    page = client.get("/settings/instructions").get_data(as_text=True)
    assert "from age three" in page  # the transcript comes back with the page


def test_try_it_follows_the_saved_contact_order(web, bayside):
    client, token = admin_client(web)
    before = try_it(client, token, "Can someone call me back about a cracked tooth?")["reply"]
    assert "phone number" in before["body"] and "email" not in before["body"]  # the default
    order = "Ask for the email address before the phone number."
    form = {"csrf_token": token, "instructions": order}
    assert client.post("/settings/instructions", data=form).status_code == 302
    client.post("/settings/try-it/reset", headers={"X-CSRF-Token": token})
    after = try_it(client, token, "Can someone call me back about a cracked tooth?")["reply"]
    assert "email address" in after["body"] and "phone" not in after["body"]


def test_try_it_chats_stay_out_of_the_inbox_and_notify_nobody(web, bayside, app_container):
    workspace = bayside[0]
    seen: list[Event] = []
    app_container.events.subscribe(Event, seen.append)
    real = app_container.conversations.receive(
        workspace.id,
        Inbound(
            channel="webchat",
            body="Hello from a real visitor",
            thread_id="visitor-1",
            sender=ContactDetails(first_name="Ana", email="ana@silva.example"),
        ),
    )
    client, token = admin_client(web)
    try_it(client, token, "I'm Bo Test, bo@test.example, 604 555 0177. Hello from a test")
    # Telling the AI a real customer's email never rewrites that customer's record.
    try_it(client, token, "Actually I'm Zed, ana@silva.example")
    handed = try_it(client, token, "I want to talk to a real person please")
    assert handed["mode"] == "human"
    assert "Handed over to a person (test chat" in str(handed["reply"]["tools"])
    silent = try_it(client, token, "hello? anyone there?")
    assert silent["reply"] is None and "handed this chat to a person" in silent["notice"]

    for query in ("", "?q=hello", "?q=bo", "?channel=webchat", "?status=open", "?status=closed"):
        listed = client.get("/api/conversations" + query).json["conversations"]
        assert {c["id"] for c in listed} <= {real.conversation.id}, query
    assert [c["id"] for c in client.get("/api/conversations?q=hello").json["conversations"]] == [
        real.conversation.id
    ]
    with app_container.uow() as uow:
        repo = uow.workspace(workspace.id)
        assert repo.notifications.all() == []
        ana = repo.contacts.get(real.conversation.contact_id)
    assert (ana.first_name, ana.email) == ("Ana", "ana@silva.example")
    conversations = {e.conversation_id for e in seen if isinstance(e, ConversationEvent)}
    assert conversations == {real.conversation.id}  # nothing broadcast about the test chat


def test_try_it_bookings_take_no_real_slot(web, bayside, app_container):
    workspace = bayside[0]
    hours = {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    app_container.workspaces.update_profile(workspace.id, {"hours": hours})
    client, token = admin_client(web)
    first = try_it(client, token, "Could I book an appointment for Thursday at 10am?")["reply"]
    assert "Thursday, March 5" in first["body"]
    second = try_it(client, token, "Lee Wong, 604-555-0133")["reply"]
    assert "booked" in second["body"]
    labels = [t["label"] for t in second["tools"]]
    assert "Booking checked (test chat: nothing was booked)" in labels
    with app_container.uow() as uow:
        assert uow.workspace(workspace.id).appointments.list() == []


def test_reset_forgets_the_test_chat(web, bayside, app_container):
    workspace = bayside[0]
    client, token = admin_client(web)
    headers = {"X-CSRF-Token": token}
    try_it(client, token, "My name is Kim Lee")
    with app_container.uow() as uow:
        contacts_before = len(uow.workspace(workspace.id).contacts.recent())
    reset = client.post("/settings/try-it/reset", headers=headers)
    assert reset.json == {"ok": True, "reset": True}
    assert client.get("/settings/try-it/messages").json == {"messages": [], "mode": "ai"}
    with app_container.uow() as uow:
        assert len(uow.workspace(workspace.id).contacts.recent()) == contacts_before - 1
    # A fresh chat: the agent no longer knows the name it was told.
    reply = try_it(client, token, "Can someone call me back?")["reply"]
    assert "your name" in reply["body"]
    assert client.post("/settings/try-it/reset", headers=headers).json["reset"] is True
    assert client.post("/settings/try-it/reset", headers=headers).json["reset"] is False


def test_each_admin_has_a_private_test_chat(web, bayside, app_container):
    workspace = bayside[0]
    app_container.workspaces.add_member(
        workspace.id, NewMember("Lou Admin", "lou@bayside.example", PASSWORD, role="admin")
    )
    dana, dana_token = admin_client(web)
    lou, _ = admin_client(web, "lou@bayside.example")
    try_it(dana, dana_token, "Hello, this is Dana testing")
    assert lou.get("/settings/try-it/messages").json["messages"] == []
    # A visitor guessing the thread id lands in a conversation of their own.
    dana_id = bayside[1].id
    visitor_says(app_container, workspace.id, "let me in", visitor=f"tryit-member-{dana_id}")
    bodies = [m["body"] for m in dana.get("/settings/try-it/messages").json["messages"]]
    assert len(bodies) == 3 and "let me in" not in bodies


def test_try_it_refuses_an_empty_message(web, bayside):
    client, token = admin_client(web)
    response = client.post(
        "/settings/try-it/messages", json={"body": "   "}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 400 and "message is empty" in response.json["error"]


# -- the try-it panel in headless Chromium (see tests/browser.py for when it skips) -----------


@pytest.fixture
def live_settings(sqlite_settings):
    """A real server (SQLite, no Redis) with Bayside's admin and a Q&A holding links."""

    from frontdesk.web import create_app
    from frontdesk.wiring import build
    from tests.browser import LiveServer

    container = build(sqlite_settings, redis_url="")
    app, _ = create_app(container)
    workspace, _ = make_workspace(
        container, links={"booking": "https://bayside.example/book"}, hours={"mon": "08:00-17:00"}
    )
    container.knowledge.add_qa(
        workspace.id,
        "How do I pay my bill?",
        "Pay your bill at [our portal](https://pay.bayside.example/) or "
        f"[the old page](javascript:alert(1)) {HOSTILE}",
    )
    drain_ingestion(container)
    with LiveServer(app) as server:
        yield server.url, container, workspace
    container.engine.dispose()


def test_try_it_panel_renders_replies_as_text_with_safe_links(browser, live_settings):
    from playwright.sync_api import expect

    url, container, workspace = live_settings
    dialogs, errors = [], []
    page = browser.new_context(base_url=url).new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda m: m.type == "error" and "favicon" not in m.location["url"] and errors.append(m),
    )
    page.goto("/settings/instructions")
    page.get_by_label("Email").fill("dana@bayside-dental.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{url}/settings/instructions")
    messages = page.locator("#tryit-messages > li")
    expect(messages).to_have_count(1)  # the widget's welcome, before any chat

    page.locator("#tryit-body").fill("How do I pay my bill?")
    page.locator("#tryit-body").press("Enter")
    reply = messages.nth(2)
    expect(reply).to_contain_text("our portal")
    expect(reply.locator(".body")).to_contain_text(HOSTILE)  # shown as text, not markup
    expect(reply.locator(".body img")).to_have_count(0)
    anchors = reply.locator(".body a")
    expect(anchors).to_have_count(1)
    expect(anchors).to_have_attribute("href", "https://pay.bayside.example/")
    expect(anchors).to_have_attribute("rel", "noopener noreferrer")
    expect(anchors).to_have_attribute("target", "_blank")
    expect(reply.locator(".body")).to_contain_text("[the old page](javascript:alert(1))")
    expect(reply.locator(".citations")).to_contain_text("Q&A: How do I pay my bill?")

    page.locator("#tryit-body").fill("Can I have your booking link?")
    page.locator("#tryit-send").click()
    link = messages.nth(4).locator(".body a")
    expect(link).to_have_attribute("href", "https://bayside.example/book")

    page.locator("#tryit-reset").click()
    expect(messages).to_have_count(1)
    page.reload()
    expect(messages).to_have_count(1)
    assert dialogs == [] and errors == []
    with container.uow() as uow:
        assert uow.workspace(workspace.id).conversations.search() == []

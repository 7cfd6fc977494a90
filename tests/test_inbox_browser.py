"""The staff inbox end to end in headless Chromium: a real server, real websockets.

Visitor messages are injected through the real conversation service while the page is
open, so each live update travels the whole way: domain event -> Socket.IO -> websocket
-> the browser's DOM. AI turns go to a recording dispatcher (the agent is tested on its
own), which keeps every page deterministic. See tests/browser.py for when these skip.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask_socketio import SocketIO
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Route,
    expect,
)

from agent.config import Settings
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.team import TeamService
from agent.core.workspaces import NewMember
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from tests.browser import LiveServer, SocketBlock, drop_connections
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_inbox import PASSWORD

HOSTILE = "<img src=x onerror=alert(1)>"
STAFF = "sam@bayside.example"
ADMIN = "dana@bayside-dental.example"
expect.set_options(timeout=10_000)


@dataclass
class Inbox:
    """One live server with its workspace, and what the test can do behind the page."""

    url: str
    container: Container
    workspace_id: int
    dispatcher: RecordingDispatcher
    socketio: SocketIO

    def visitor_says(self, body: str, thread: str = "v1", **sender: str) -> int:
        inbound = Inbound(
            channel="webchat", body=body, thread_id=thread, sender=ContactDetails(**sender)
        )
        return self.container.conversations.receive(self.workspace_id, inbound).conversation.id


@dataclass
class Seen:
    """Everything the page did that a test may want to rule out."""

    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def inbox(sqlite_settings: Settings) -> Iterator[Inbox]:
    dispatcher = RecordingDispatcher()
    # No Redis: emits go straight from this process's Socket.IO server to the sockets.
    container = build(sqlite_settings, redis_url="", dispatcher_override=dispatcher)
    app, socketio = create_app(container)
    workspace, _ = make_workspace(container)
    container.workspaces.add_member(workspace.id, NewMember("Sam Staff", STAFF, PASSWORD))
    with LiveServer(app) as server:
        yield Inbox(server.url, container, workspace.id, dispatcher, socketio)
    container.engine.dispose()


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def page(browser: Browser, inbox: Inbox, seen: Seen) -> Iterator[Page]:
    context = browser.new_context(base_url=inbox.url)
    page = context.new_page()
    page.set_default_timeout(10_000)

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("websocket", lambda socket: seen.requests.append(socket.url))

    def on_console(message: ConsoleMessage) -> None:
        # Pages declare an SVG icon; a page without it would make Chromium ask for /favicon.ico.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            seen.console_errors.append(f"{message.text} at {message.location['url']}")

    page.on("console", on_console)
    yield page
    context.close()


def sign_in(page: Page, email: str, rows: int = 0) -> None:
    """Through the real form; returns once the socket is live and the list has its rows."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.locator("#conversation-list > li")).to_have_count(rows)
    # The first list load has finished (an event arriving during it could be overwritten).
    expect(page.locator("#list-empty")).to_be_visible(visible=rows == 0)


def test_staff_work_a_live_conversation_from_arrival_to_reopen(
    page: Page, inbox: Inbox, seen: Seen
) -> None:
    sign_in(page, STAFF)
    rows = page.locator("#conversation-list > li")
    expect(rows).to_have_count(0)

    cid = inbox.visitor_says("Do you whiten teeth?")
    expect(rows).to_have_count(1)  # arrived over the websocket: no reload, no polling
    row = page.locator(f'#conversation-list > li[data-id="{cid}"]')
    expect(row.locator(".preview")).to_have_text("Do you whiten teeth?")
    expect(row.locator(".unread")).to_have_text("1")
    expect(page).to_have_title(re.compile(r"^\(1\) "))  # seen from another tab too
    assert [turn[1] for turn in inbox.dispatcher.turns] == [cid]  # routed to the AI

    row.locator("button").click()
    expect(page.locator("#thread")).to_be_visible()
    messages = page.locator("#messages > li")
    expect(messages.last.locator(".body")).to_have_text("Do you whiten teeth?")
    expect(page.locator("#thread-mode")).to_have_text("AI answering")
    expect(row.locator(".unread")).to_have_count(0)
    expect(page).not_to_have_title(re.compile(r"^\("))

    inbox.visitor_says("And is parking free?")  # lands in the open thread, live
    expect(messages.last.locator(".body")).to_have_text("And is parking free?")
    expect(row.locator(".preview")).to_have_text("And is parking free?")
    expect(row.locator(".unread")).to_have_count(0)  # it is open on screen: already read

    page.locator('[data-action="takeover"]').click()
    expect(page.locator("#thread-mode")).to_have_text("Human: Sam Staff")
    expect(row).to_have_attribute("data-mode", "human")
    expect(messages.last.locator(".body")).to_have_text("Sam Staff took over the conversation")

    page.locator("#reply-body").fill("Yes, we do! Parking is free.")
    page.locator("#reply-body").press("Enter")
    expect(messages.last.locator(".body")).to_have_text("Yes, we do! Parking is free.")
    expect(messages.last.locator(".author")).to_have_text("Sam Staff")
    expect(page.locator("#reply-body")).to_have_value("")
    # Shown once, although it comes back both in the reply and over the socket.
    expect(messages.filter(has_text="Yes, we do!")).to_have_count(1)

    page.locator('[data-action="release"]').click()
    expect(page.locator("#thread-mode")).to_have_text("AI answering")
    expect(page.locator('[data-action="takeover"]')).to_be_visible()

    page.locator('[data-action="close"]').click()
    expect(page.locator("#thread-status")).to_have_text("Closed")
    expect(rows).to_have_count(0)  # the Open tab no longer lists it
    expect(page.locator("#list-empty")).to_be_visible()

    page.locator('.tabs [data-status="closed"]').click()
    expect(page.locator('.tabs [data-status="closed"]')).to_have_attribute("aria-selected", "true")
    expect(rows).to_have_count(1)
    expect(row).to_have_attribute("data-status", "closed")

    page.locator('[data-action="reopen"]').click()
    expect(page.locator("#thread-status")).to_have_text("Open")
    expect(rows).to_have_count(0)  # no longer closed
    page.locator('.tabs [data-status="open"]').click()
    expect(row).to_have_attribute("data-status", "open")

    with inbox.container.uow() as uow:
        conversation = uow.workspace(inbox.workspace_id).conversations.get(cid)
    assert (conversation.status, conversation.mode) == ("open", "ai")
    assert seen.dialogs == [] and seen.console_errors == []


def test_a_message_just_after_opening_a_thread_shows_live(page: Page, inbox: Inbox) -> None:
    handlers = inbox.socketio.server.handlers["/inbox"]
    join = handlers["join"]

    def slow_join(*args: object) -> object:
        time.sleep(0.5)  # a busy server: the room is joined well after the thread loads
        return join(*args)

    handlers["join"] = slow_join
    cid = inbox.visitor_says("Do you whiten teeth?")
    sign_in(page, STAFF, rows=1)
    page.locator(f'#conversation-list > li[data-id="{cid}"] button').click()
    messages = page.locator("#messages > li")
    expect(messages.last.locator(".body")).to_have_text("Do you whiten teeth?")
    inbox.visitor_says("And is parking free?")
    expect(messages.last.locator(".body")).to_have_text("And is parking free?")


def test_an_open_thread_catches_up_after_a_dropped_connection(page: Page, inbox: Inbox) -> None:
    cid = inbox.visitor_says("Do you whiten teeth?")
    sign_in(page, STAFF, rows=1)
    page.locator(f'#conversation-list > li[data-id="{cid}"] button').click()
    messages = page.locator("#messages > li")
    expect(messages.last.locator(".body")).to_have_text("Do you whiten teeth?")

    offline = SocketBlock(page)
    offline.on = True  # the page stays offline until the visitor has written
    assert drop_connections(inbox.socketio, "/inbox") == 1
    expect(page.locator("#connection")).not_to_have_text("Live")
    inbox.visitor_says("And is parking free?")  # no socket to bring it: missed live
    offline.on = False

    expect(page.locator("#connection")).to_have_text("Live")  # reconnected by itself
    expect(messages.last.locator(".body")).to_have_text("And is parking free?")
    expect(messages.filter(has_text="Do you whiten teeth?")).to_have_count(1)


def test_a_colleague_sees_the_takeover_live(browser: Browser, page: Page, inbox: Inbox) -> None:
    cid = inbox.visitor_says("Can someone call me?")
    colleague = browser.new_context(base_url=inbox.url)
    try:
        admin = colleague.new_page()
        sign_in(admin, ADMIN, rows=1)
        their_row = admin.locator(f'#conversation-list > li[data-id="{cid}"]')
        expect(their_row).to_have_attribute("data-mode", "ai")

        sign_in(page, STAFF, rows=1)
        page.locator(f'#conversation-list > li[data-id="{cid}"] button').click()
        page.locator('[data-action="takeover"]').click()
        expect(page.locator("#thread-mode")).to_have_text("Human: Sam Staff")

        expect(their_row).to_have_attribute("data-mode", "human")  # pushed to the colleague
        expect(their_row.locator(".badge")).to_have_text("Human")
    finally:
        colleague.close()


def test_hostile_visitor_text_stays_inert_text(page: Page, inbox: Inbox, seen: Seen) -> None:
    sign_in(page, STAFF)
    cid = inbox.visitor_says(HOSTILE, first_name=HOSTILE)
    with inbox.container.uow() as uow:  # the payload really is the contact's name
        repo = uow.workspace(inbox.workspace_id)
        assert repo.contacts.get(repo.conversations.get(cid).contact_id).first_name == HOSTILE

    row = page.locator(f'#conversation-list > li[data-id="{cid}"]')
    expect(row.locator(".name")).to_have_text(HOSTILE)
    expect(row.locator(".preview")).to_have_text(HOSTILE)
    expect(page.locator("#conversation-list img")).to_have_count(0)

    row.locator("button").click()
    expect(page.locator("#thread-title")).to_have_text(HOSTILE)
    expect(page.locator("#messages > li").last.locator(".body")).to_have_text(HOSTILE)
    expect(page.locator("#messages img, #thread-title img")).to_have_count(0)
    assert seen.dialogs == [] and seen.console_errors == []


def test_staff_cannot_open_admin_pages(browser: Browser, page: Page, inbox: Inbox) -> None:
    sign_in(page, STAFF)
    expect(page.locator(".topbar nav")).to_contain_text("Inbox")
    expect(page.locator(".topbar nav").get_by_role("link", name="Settings")).to_have_count(0)
    for path in ("/settings", "/settings/profile"):
        response = page.goto(path)
        assert response is not None and response.status == 403, (path, response and response.status)
        expect(page.locator("h1")).to_have_text("Not allowed")

    # The same pages exist for an admin, so the refusals above are about the role.
    context = browser.new_context(base_url=inbox.url)
    try:
        admin = context.new_page()
        sign_in(admin, ADMIN)
        expect(admin.locator(".topbar nav").get_by_role("link", name="Settings")).to_have_count(1)
        response = admin.goto("/settings")
        assert response is not None and response.status == 200
    finally:
        context.close()


def test_the_page_talks_only_to_its_own_origin_under_a_strict_csp(
    page: Page, inbox: Inbox, seen: Seen
) -> None:
    policies = [page.request.get("/login").headers.get("content-security-policy", "")]
    sign_in(page, STAFF)
    policies.append(page.request.get("/").headers.get("content-security-policy", ""))
    for policy in policies:  # the sign-in page, then the inbox
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy, policy
    inbox.visitor_says("Hello?")
    expect(page.locator("#conversation-list > li")).to_have_count(1)
    page.locator("#conversation-list > li button").click()
    expect(page.locator("#messages > li").last.locator(".body")).to_have_text("Hello?")

    origins = {re.sub(r"^(\w+)://([^/]+).*$", r"\2", url) for url in seen.requests}
    assert origins == {inbox.url.removeprefix("http://")}, seen.requests
    assert any(url.startswith("ws://") for url in seen.requests)  # live over a websocket
    assert seen.console_errors == []  # e.g. no CSP violation from inline code


def test_a_late_answer_for_an_old_filter_does_not_replace_the_list(
    page: Page, inbox: Inbox
) -> None:
    inbox.visitor_says("Still waiting for an answer", thread="a")
    done = inbox.visitor_says("Thanks, all sorted", thread="b")
    inbox.container.conversations.close(inbox.workspace_id, done)
    sign_in(page, STAFF, rows=1)
    rows = page.locator("#conversation-list > li")

    held: list[Route] = []  # the Closed tab's answer, let through after the All tab's
    closed = "**/api/conversations?status=closed*"
    page.route(closed, lambda route: held.append(route))
    with page.expect_request(closed):
        page.locator('.tabs [data-status="closed"]').click()
    page.locator('.tabs [data-status=""]').click()
    expect(rows).to_have_count(2)  # All: the open and the closed one
    assert len(held) == 1

    with page.expect_response(closed) as late:
        held[0].continue_()
    late.value.finished()
    # A round trip of the page's own, sent after the late answer arrived: by its reply the
    # page has handled that answer too.
    page.evaluate("() => fetch('/api/conversations').then((response) => response.json())")
    expect(rows).to_have_count(2)
    expect(page.locator('.tabs [data-status=""]')).to_have_attribute("aria-selected", "true")


def test_a_removed_member_s_open_inbox_goes_to_the_sign_in_page(page: Page, inbox: Inbox) -> None:
    """Revoked access ends the page's live socket at once; the page reloads, signed out."""
    cid = inbox.visitor_says("Do you whiten teeth?")
    sign_in(page, STAFF, rows=1)
    page.locator(f'#conversation-list > li[data-id="{cid}"] button').click()
    expect(page.locator("#messages > li").last.locator(".body")).to_have_text(
        "Do you whiten teeth?"
    )
    with inbox.container.uow() as uow:
        team = uow.workspace(inbox.workspace_id).team
        admin, sam = team.by_email(ADMIN), team.by_email(STAFF)
    service = TeamService(inbox.container.uow, inbox.container.clock, inbox.container.events)
    service.remove(inbox.workspace_id, admin.id, sam.id)  # as the team page does
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    inbox.visitor_says("My card number is 4111 1111 1111 1111")
    expect(page.get_by_text("4111")).to_have_count(0)

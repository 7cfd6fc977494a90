"""Messenger in headless Chromium: connect a Page in Settings > Channels, a customer's
message arrives live through Meta's (signed) webhook, the AI answers, staff take over and
reply, and the reply reaches the local Graph API server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from agent.config import Settings
from agent.core.clock import FixedClock
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests import meta_samples as meta
from tests.browser import LiveServer
from tests.conftest import EchoResponder, RecordingDispatcher, make_workspace
from tests.graph_server import FakeGraph
from tests.test_inbox_browser import ADMIN, Inbox, page, seen, sign_in  # noqa: F401

PAGE_ID = "104938223543921"
PSID = "6243551872423191"
SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

expect.set_options(timeout=10_000)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    server = FakeGraph(profiles={PSID: {"first_name": "Rosa", "last_name": "Delgado"}})
    yield server
    server.close()


@pytest.fixture
def inbox(sqlite_settings: Settings, graph: FakeGraph) -> Iterator[Inbox]:
    """A live server, no Redis: webhook jobs, AI turns (an echoing responder through the
    real service) and deliveries run inline; emits go straight to the page's sockets."""
    responder = EchoResponder()
    container = build(
        replace(sqlite_settings, meta_graph_url=graph.url),
        redis_url="",
        responder_override=responder,
        clock=FixedClock(datetime.now(UTC)),  # moved on to pass Meta's windows
    )
    responder.service, responder.uow = container.conversations, container.uow
    app, socketio = create_app(container)
    workspace, _ = make_workspace(container)
    try:
        with LiveServer(app) as server:
            yield Inbox(server.url, container, workspace.id, RecordingDispatcher(), socketio)
    finally:
        container.engine.dispose()


def test_connect_a_page_receive_live_ai_answers_staff_take_over_and_reply(
    page: Page,  # noqa: F811
    inbox: Inbox,
    graph: FakeGraph,
    seen,  # noqa: F811
) -> None:
    sign_in(page, ADMIN)
    page.goto("/settings/channels/")
    card = page.locator("#channel-messenger")
    expect(card.locator(".badge")).to_have_text("Not connected")
    expect(card.locator(".webhook-url")).to_have_text(re.compile(r"/channels/meta/webhook$"))
    verify_token = card.locator(".verify-token").inner_text()
    card.get_by_label("Page id").fill(PAGE_ID)
    card.get_by_label("Page access token").fill("EAAGm0PX4ZCpsBAKpagetoken")
    card.get_by_label("App secret").fill(SECRET)
    card.get_by_role("button", name="Connect Messenger").click()
    expect(card.locator(".badge")).to_have_text("Connected")
    expect(card.locator(".verify-token")).to_have_text(verify_token)

    # Meta's handshake, then a customer's message, both as Meta sends them.
    hook = inbox.url + "/channels/meta/webhook"
    handshake = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": "42"}
    assert httpx.get(hook, params=handshake).text == "42"
    page.goto("/")
    expect(page.locator("#connection")).to_have_text("Live")
    event = meta.event(meta.MESSAGE, psid=PSID, page_id=PAGE_ID, mid="m_browser_1")
    event["message"]["text"] = "Do you have anything on Saturday?"
    body, headers = meta.signed(meta.payload(PAGE_ID, event), SECRET)
    assert httpx.post(hook, content=body, headers=headers).status_code == 200

    row = page.locator("#conversation-list > li")
    expect(row).to_have_count(1)
    expect(row.locator(".channel")).to_have_text("Messenger")
    expect(row).to_contain_text("Rosa Delgado")
    row.click()
    expect(page.locator("#thread-channel")).to_have_text("Messenger")
    expect(page.locator("#messages li.message.contact .body")).to_have_text(
        "Do you have anything on Saturday?"
    )
    ai = page.locator("#messages li.message.ai")
    expect(ai.locator(".body")).to_have_text(re.compile(r"^echo \d+$"))
    expect(ai.locator(".delivery")).to_have_text("sent")
    assert graph.sends()[0]["messaging_type"] == "RESPONSE"
    expect(page.locator("#composer-window")).to_be_hidden()  # inside the 24 hours

    page.locator('[data-action="takeover"]').click()
    expect(page.locator("#thread-mode")).to_have_text(re.compile("^Human"))
    page.locator("#reply-body").fill("Dana here: Saturday 10am works!")
    page.locator("#reply-body").press("Enter")
    expect(page.locator("#messages li.message.staff .delivery")).to_have_text("sent")
    staff_send = graph.sends()[-1]
    assert staff_send == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Dana here: Saturday 10am works!"},
    }

    # A day later only a person may reply, tagged; a week later nobody may.
    inbox.container.clock.advance(hours=25)
    page.reload()
    page.locator("#conversation-list > li").click()
    window = page.locator("#composer-window")
    expect(window).to_contain_text("only lets a person reply now")
    expect(window).to_contain_text("Replies close")
    page.locator("#reply-body").fill("Still interested?")
    page.locator("#reply-body").press("Enter")
    expect(page.locator("#messages li.message.staff .delivery")).to_have_count(2)
    expect(page.locator("#messages li.message.staff .delivery").last).to_have_text("sent")
    tagged = graph.sends()[-1]
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    inbox.container.clock.advance(days=7)
    page.reload()
    page.locator("#conversation-list > li").click()
    expect(window).to_contain_text("does not allow Messenger replies more than 7 days")
    expect(page.locator("#reply-body")).to_be_disabled()
    expect(page.locator("#composer button[type=submit]")).to_be_disabled()
    assert seen.dialogs == [] and seen.console_errors == []

"""SMS and calls in the inbox, in headless Chromium: the composer counts characters and
segments as staff type, and a call shows its status, duration, summary and transcript."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from agent.config import Settings
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.browser import LiveServer
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_inbox_browser import ADMIN, Inbox, page, seen, sign_in  # noqa: F401

expect.set_options(timeout=10_000)


@pytest.fixture
def inbox(sqlite_settings: Settings) -> Iterator[Inbox]:
    dispatcher = RecordingDispatcher()
    container = build(
        replace(sqlite_settings, twilio_api_url="http://127.0.0.1:9"),
        redis_url="",
        dispatcher_override=dispatcher,
    )
    app, socketio = create_app(container)
    workspace, _ = make_workspace(container)
    container.channels.connect_twilio(
        workspace.id, account_sid="AC" + "3f" * 16, auth_token="9b2c4e6f8a0d1c3e5f7a9b1d3e5f7a9b",
        number="+16045550100",
    )  # fmt: skip
    try:
        with LiveServer(app) as server:
            yield Inbox(server.url, container, workspace.id, dispatcher, socketio)
    finally:
        container.engine.dispose()


def test_the_sms_composer_counts_segments_and_a_call_shows_its_summary(
    page: Page,  # noqa: F811
    inbox: Inbox,
    seen,  # noqa: F811
) -> None:
    service = inbox.container.conversations
    text = Inbound(channel="sms", body="Hi, are you open?", thread_id="+16045550142",
                   provider_message_id="SM1")  # fmt: skip
    service.receive(inbox.workspace_id, text)
    ring = Inbound(
        channel="phone", body="Incoming call from +16045550143", thread_id="+16045550143",
        provider_message_id="CA1", meta={"live": True, "call": {"sid": "CA1"}},
        sender=ContactDetails(phone="+16045550143"),
    )  # fmt: skip
    service.receive(inbox.workspace_id, ring)
    service.update_call(
        inbox.workspace_id, "CA1",
        {"status": "completed", "duration": 52, "summary": "Call summary: Rosa called.",
         "transcript": [{"who": "caller", "text": "Are you open Thursday?"},
                        {"who": "ai", "text": "Yes, from 8 AM."}]},
    )  # fmt: skip
    sign_in(page, ADMIN, rows=2)
    page.locator("#conversation-list > li", has_text="SMS").click()
    box = page.locator("#reply-body")
    box.fill("a" * 161)
    expect(page.locator("#composer-count")).to_have_text("161 characters · 2 segments (GSM-7)")
    box.fill("See you soon \U0001f600")
    expect(page.locator("#composer-count")).to_have_text("14 characters · 1 segment (UCS-2)")

    page.locator("#conversation-list > li", has_text="Phone").click()
    expect(page.locator("#composer-count")).to_be_hidden()
    call = page.locator("#messages .call")
    expect(call.locator(".call-facts")).to_have_text("Call · completed · 52 s")
    expect(call.locator(".call-summary")).to_have_text("Call summary: Rosa called.")
    call.locator("summary").click()
    expect(call.locator(".call-transcript li")).to_have_text(
        ["Caller: Are you open Thursday?", "AI: Yes, from 8 AM."]
    )
    # A call carries no written reply: the composer offers SMS instead.
    expect(page.locator("#composer-window")).to_contain_text("text the caller by SMS instead")
    expect(page.locator("#composer-window")).to_contain_text("Write by SMS instead")
    assert seen.dialogs == [] and seen.console_errors == []

"""WhatsApp in headless Chromium: a customer's message arrives live through the signed
webhook, the AI answers; a day later the composer offers only approved templates, and a
template with parameters reaches the local Graph API server. The admin side too: connect
the number and submit a template, which Meta's review webhook then approves."""

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
from tests import whatsapp_samples as wa
from tests.browser import LiveServer
from tests.conftest import EchoResponder, RecordingDispatcher, make_workspace
from tests.graph_server import FakeGraph
from tests.meta_samples import signed
from tests.test_inbox_browser import ADMIN, Inbox, page, seen, sign_in  # noqa: F401

SECRET = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
expect.set_options(timeout=10_000)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    server = FakeGraph()
    yield server
    server.close()


@pytest.fixture
def inbox(sqlite_settings: Settings, graph: FakeGraph) -> Iterator[Inbox]:
    responder = EchoResponder()
    container = build(
        replace(sqlite_settings, meta_graph_url=graph.url),
        redis_url="",
        responder_override=responder,
        clock=FixedClock(datetime.now(UTC)),
    )
    responder.service, responder.uow = container.conversations, container.uow
    app, socketio = create_app(container)
    workspace, _ = make_workspace(container, country="US")
    try:
        with LiveServer(app) as server:
            yield Inbox(server.url, container, workspace.id, RecordingDispatcher(), socketio)
    finally:
        container.engine.dispose()


def _post(inbox: Inbox, *changes: dict) -> None:
    body, headers = signed(wa.envelope(*changes), SECRET)
    response = httpx.post(inbox.url + "/channels/whatsapp/webhook", content=body, headers=headers)
    assert response.status_code == 200


def test_connect_template_review_live_message_ai_then_a_template_after_24_hours(
    page: Page,  # noqa: F811
    inbox: Inbox,
    graph: FakeGraph,
    seen,  # noqa: F811
) -> None:
    sign_in(page, ADMIN)
    page.goto("/settings/channels/")
    card = page.locator("#channel-whatsapp")
    expect(card.locator(".webhook-url")).to_have_text(re.compile(r"/channels/whatsapp/webhook$"))
    card.get_by_label("Phone number id").fill(wa.PHONE_NUMBER_ID)
    card.get_by_label("WhatsApp Business Account id").fill(wa.WABA_ID)
    card.get_by_label("Display number").fill("+1 650 253 0000")
    card.get_by_label("Access token").fill("EAAJB0wa0cloudapitoken")
    card.get_by_label("App secret").fill(SECRET)
    card.get_by_role("button", name="Connect WhatsApp").click()
    expect(card.locator(".badge")).to_have_text("Connected")

    # The default follow-up template is offered; submit it, then Meta approves it.
    card.get_by_role("link", name="Message templates").click()
    form = page.locator("#new-template")
    expect(form.get_by_label("Name")).to_have_value("enquiry_follow_up")
    form.get_by_role("button", name="Save and submit for review").click()
    row = page.locator("tr.wa-template")
    expect(row.locator(".badge")).to_have_text("Pending")
    assert graph.requests[-1].path == f"/v21.0/{wa.WABA_ID}/message_templates"
    _post(inbox, wa.template_update("enquiry_follow_up", "APPROVED"))
    page.reload()
    expect(row.locator(".badge")).to_have_text("Approved")

    # A customer writes: live in the inbox, and the AI answers.
    page.goto("/")
    expect(page.locator("#connection")).to_have_text("Live")
    now = inbox.container.clock()
    text = wa.message("text", {"body": "Can I bring my bike Friday?"}, wamid="wamid.b1", at=now)
    _post(inbox, text)
    item = page.locator("#conversation-list > li")
    expect(item.locator(".channel")).to_have_text("WhatsApp")
    expect(item).to_contain_text("Kerry Fisher")
    item.click()
    expect(page.locator("#messages li.message.ai .delivery")).to_have_text("sent")
    assert graph.sends()[-1]["context"] == {"message_id": "wamid.b1"}
    expect(page.locator("#composer-templates")).to_be_hidden()

    # A day later: free text is off, only the approved template, with its parameters.
    inbox.container.clock.advance(hours=24, minutes=1)
    page.reload()
    page.locator("#conversation-list > li").click()
    expect(page.locator("#composer-window")).to_contain_text("only allows an approved template")
    expect(page.locator("#reply-body")).to_be_disabled()
    templates = page.locator("#composer-templates")
    expect(templates).to_be_visible()
    expect(templates.locator("#template-choice option")).to_have_text(["enquiry_follow_up (en)"])
    params = templates.locator("#template-params input")
    expect(params).to_have_count(2)
    params.nth(0).fill("Kerry")
    params.nth(1).fill("Bayside Dental")
    templates.get_by_role("button", name="Send template").click()
    staff = page.locator("#messages li.message.staff")
    expect(staff.locator(".body")).to_have_text(
        "Hi Kerry, this is Bayside Dental following up on your enquiry."
    )
    expect(staff.locator(".delivery")).to_have_text("sent")
    sent = graph.sends()[-1]
    assert sent["type"] == "template" and sent["to"] == wa.CUSTOMER
    parameters = sent["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["Kerry", "Bayside Dental"]

    # A new WhatsApp conversation starts with the template too, never free text.
    page.locator("#new-conversation").click()
    dialog = page.locator("#new-dialog")
    dialog.get_by_label("First name").fill("Lee")
    dialog.locator("input[name=phone]").fill("+1 650 555 0111")
    dialog.locator("#send-via").select_option("whatsapp")
    expect(dialog.locator("#new-body")).to_be_hidden()
    fields = dialog.locator("#new-template-params input")
    expect(fields).to_have_count(2)
    fields.nth(0).fill("Lee")
    fields.nth(1).fill("Bayside Dental")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#thread-title")).to_have_text("Lee")
    started = graph.sends()[-1]
    assert (started["type"], started["to"]) == ("template", "16505550111")
    assert seen.dialogs == [] and seen.console_errors == []

"""Settings > Channels and a failed delivery, end to end in headless Chromium.

A live server with a recording email sender (the email provider is tested on its own):
the admin connects email and sends a test from the card, then a message that the
provider refuses shows its reason in the thread and goes out on "Retry".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from agent.config import Settings
from agent.core.contacts import ContactDetails
from agent.core.errors import PermanentSendError
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.browser import LiveServer
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_delivery import RecordingSender
from tests.test_inbox_browser import ADMIN, Inbox, page, seen, sign_in  # noqa: F401

expect.set_options(timeout=10_000)


@pytest.fixture
def inbox(sqlite_settings: Settings) -> Iterator[Inbox]:
    dispatcher = RecordingDispatcher()
    sender = RecordingSender()
    # No Redis: deliveries run inline, emits go straight to the page's sockets.
    container = build(
        replace(sqlite_settings, email_domain="reply.example.com"),
        redis_url="",
        dispatcher_override=dispatcher,
        senders_override={"email": sender},
    )
    app, socketio = create_app(container)
    workspace, _ = make_workspace(container)
    with LiveServer(app) as server:
        found = Inbox(server.url, container, workspace.id, dispatcher, socketio)
        found.sender = sender  # type: ignore[attr-defined]
        yield found
    container.engine.dispose()


def test_connect_email_send_a_test_and_retry_a_failed_message(
    page: Page,  # noqa: F811
    inbox: Inbox,
    seen,  # noqa: F811
) -> None:
    sign_in(page, ADMIN)
    page.goto("/settings/channels/")
    card = page.locator("#channel-email")
    expect(card.locator(".badge")).to_have_text("Not connected")
    expect(page.locator("#channel-sms")).to_contain_text("not available yet")
    card.get_by_label("Public address (optional)").fill("hello@bayside.example")
    card.get_by_role("button", name="Connect email").click()
    expect(card.locator(".badge")).to_have_text("Connected")
    address = card.locator(".inbound-address").inner_text()
    assert re.fullmatch(r"bayside-dental-[0-9a-f]{6}@reply\.example\.com", address)
    expect(card).to_contain_text(
        f"Forward your public address (hello@bayside.example) to {address}"
    )

    card.get_by_label("Send a test to").fill("me@dana.example")
    card.get_by_role("button", name="Send a test").click()
    expect(page.locator(".flash-success")).to_have_text("Test message sent to me@dana.example.")
    assert inbox.sender.sent[0][3].email == "me@dana.example"  # type: ignore[attr-defined]

    # A message the provider refuses: the reason in the thread, then "Retry".
    inbox.sender.fail = [PermanentSendError("550 5.1.1 mailbox unavailable")]  # type: ignore[attr-defined]
    with inbox.container.uow() as uow:
        admin = uow.workspace(inbox.workspace_id).team.all()[0]
    conversation = inbox.container.conversations.start_conversation(
        inbox.workspace_id,
        admin.id,
        "email",
        "Your crown is ready.",
        new_contact=ContactDetails(first_name="Ann", email="ann@example.com"),
    )
    page.goto(f"/?conversation={conversation.id}")
    message = page.locator("#messages li.message.staff")
    expect(message.locator(".delivery")).to_have_text("failed")
    expect(message.locator(".delivery-failure")).to_contain_text(
        "Not delivered: 550 5.1.1 mailbox unavailable"
    )
    message.get_by_role("button", name="Retry").click()
    expect(message.locator(".delivery")).to_have_text("sent")
    expect(message.locator(".delivery-failure")).to_have_count(0)
    assert inbox.sender.sent[-1][2].body == "Your crown is ready."  # type: ignore[attr-defined]
    assert seen.dialogs == [] and seen.console_errors == []

"""Settings > Channels and a failed delivery, end to end in headless Chromium.

A live server with a recording email sender (the email provider is tested on its own):
the admin connects email and sends a test from the card, then a message that the
provider refuses shows its reason in the thread and goes out on "Retry".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage

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
from tests.test_email_channel import relay  # noqa: F401  (the fixture)
from tests.test_inbox_browser import ADMIN, Inbox, page, seen, sign_in  # noqa: F401

expect.set_options(timeout=10_000)


@contextmanager
def serving(settings: Settings, **overrides: object) -> Iterator[Inbox]:
    """A live server on ``settings`` (email on reply.example.com) and its workspace.
    No Redis: deliveries run inline, emits go straight to the page's sockets."""
    dispatcher = RecordingDispatcher()
    container = build(
        replace(settings, email_domain="reply.example.com"),
        redis_url="",
        dispatcher_override=dispatcher,
        **overrides,
    )
    app, socketio = create_app(container)
    workspace, _ = make_workspace(container)
    try:
        with LiveServer(app) as server:
            yield Inbox(server.url, container, workspace.id, dispatcher, socketio)
    finally:
        container.engine.dispose()


@pytest.fixture
def inbox(sqlite_settings: Settings) -> Iterator[Inbox]:
    sender = RecordingSender()
    with serving(sqlite_settings, senders_override={"email": sender}) as found:
        found.sender = sender  # type: ignore[attr-defined]
        yield found


def test_connect_email_send_a_test_and_retry_a_failed_message(
    page: Page,  # noqa: F811
    inbox: Inbox,
    seen,  # noqa: F811
) -> None:
    sign_in(page, ADMIN)
    page.goto("/settings/channels/")
    card = page.locator("#channel-email")
    expect(card.locator(".badge")).to_have_text("Not connected")
    expect(page.locator("#channel-sms")).to_contain_text("Connect Twilio")
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


@pytest.fixture
def mail_inbox(sqlite_settings: Settings, relay) -> Iterator[Inbox]:  # noqa: F811
    """The real email adapter, its relay an aiosmtpd sink; customers' mail arrives through
    the inbound service (its SMTP server is tested in tests/test_email_channel.py)."""
    sink, port = relay
    with serving(replace(sqlite_settings, smtp_url=f"smtp://127.0.0.1:{port}")) as found:
        found.sink = sink  # type: ignore[attr-defined]
        yield found


def test_connect_email_send_a_real_test_and_reply_to_a_mail_from_the_inbox(
    browser,
    mail_inbox: Inbox,
) -> None:
    context = browser.new_context(base_url=mail_inbox.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_in(tab, ADMIN)
        tab.goto("/settings/channels/")
        card = tab.locator("#channel-email")
        card.get_by_label("Public address (optional)").fill("hello@bayside.example")
        card.get_by_role("button", name="Connect email").click()
        address = card.locator(".inbound-address").inner_text()
        expect(card).to_contain_text(f"to {address}, or point your domain's MX record")
        card.get_by_label("Send a test to").fill("me@dana.example")
        card.get_by_role("button", name="Send a test").click()
        expect(tab.locator(".flash-success")).to_have_text("Test message sent to me@dana.example.")
        sink = mail_inbox.sink  # type: ignore[attr-defined]
        assert sink.mails()[0]["To"] == "me@dana.example"

        message = EmailMessage()
        message["From"] = "Ann Lee <ann@customer.example>"
        message["To"] = "hello@bayside.example"
        message["Subject"] = "Crown"
        message["Message-ID"] = "<crown-1@customer.example>"
        message.set_content("Is my crown ready?\n\n> an old quote\n")
        received = mail_inbox.container.email_inbound.receive(address, message.as_bytes())
        tab.goto(f"/?conversation={received.conversation_id}")
        expect(tab.locator("#messages li.message.contact .body")).to_have_text("Is my crown ready?")
        tab.locator("#messages li.message.contact summary").click()  # "Show original"
        expect(tab.locator(".original-text")).to_contain_text("> an old quote")
        tab.locator("#reply-body").fill("Yes, come by after 2.")
        tab.locator("#reply-body").press("Enter")
        expect(tab.locator("#messages li.message.staff .delivery")).to_have_text("sent")
        answer = sink.mails()[-1]
        assert answer["From"] == "Dana Admin at Bayside Dental <hello@bayside.example>"
        assert answer["In-Reply-To"] == "<crown-1@customer.example>"
        assert answer["Subject"] == "Re: Crown"
        assert errors == []
    finally:
        context.close()

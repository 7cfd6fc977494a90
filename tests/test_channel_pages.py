"""Settings > Channels and the inbox's side of delivery, over HTTP against the real app."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from agent.core.contacts import ContactDetails
from agent.core.errors import PermanentSendError
from agent.core.workspaces import NewMember
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_delivery import RecordingQueue, RecordingSender
from tests.test_inbox import PASSWORD, login

DOMAIN = "reply.example.com"
SAMPLES = Path(__file__).parent / "email_samples"


@pytest.fixture
def site(settings, clock):
    """The app with an email domain and a recording email sender; an admin and a staff
    member of Bayside Dental, and an admin of another workspace."""
    sender, queue = RecordingSender(), RecordingQueue()
    container = build(
        replace(settings, email_domain=DOMAIN).ensure_data_dir(),
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
        delivery_queue_override=queue,
        senders_override={"email": sender},
    )
    app, _ = create_app(container, testing=True)
    workspace, admin = make_workspace(container)
    container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    make_workspace(container, "Harbour Physio")
    yield app, container, workspace, admin, sender, queue
    container.engine.dispose()


def _client(app, address="dana@bayside-dental.example"):
    client = app.test_client()
    response, token = login(client, address)
    assert response.status_code == 302
    return client, token


def _card(page: str, channel: str) -> str:
    match = re.search(
        rf'<section class="channel-card" id="channel-{channel}".*?</section>', page, re.S
    )
    assert match, f"no {channel} card"
    return match.group(0)


def test_admins_see_a_card_per_channel_and_staff_are_forbidden(site):
    app = site[0]
    client, _ = _client(app)
    page = client.get("/settings/channels/").get_data(as_text=True)
    for channel in ("email", "messenger", "instagram", "whatsapp", "sms", "phone"):
        assert 'data-state="not_connected"' in _card(page, channel)
    assert "Connect email" in _card(page, "email")
    assert "Connect Twilio" in _card(page, "sms") and "/channels/twilio/voice" in _card(
        page, "phone"
    )
    assert 'href="/settings/channels"' in page  # in the settings navigation
    staff, _ = _client(app, "sam@bayside.example")
    assert staff.get("/settings/channels/").status_code == 403
    assert staff.post("/settings/channels/email/connect").status_code in (400, 403)
    assert app.test_client().get("/settings/channels/").status_code == 302  # sign in first


def test_connect_email_shows_the_inbound_address_then_disconnect(site):
    app, container, workspace = site[0], site[1], site[2]
    client, token = _client(app)
    response = client.post(
        "/settings/channels/email/connect",
        data={"address": "Hello@Bayside.example", "csrf_token": token},
    )
    assert response.status_code == 302
    page = client.get("/settings/channels/").get_data(as_text=True)
    card = _card(page, "email")
    inbound = container.channels.account(workspace.id, "email").external_id
    assert re.fullmatch(rf"bayside-dental-[0-9a-f]{{6}}@{re.escape(DOMAIN)}", inbound)
    assert inbound in card and "hello@bayside.example" in card
    assert 'data-state="connected"' in card and "Email is connected" in page
    assert "Send a test" in card and "automatically" in card
    assert "Disconnect Email" in card

    # The inbox's "send via" now offers email, and only the connected channels.
    inbox = client.get("/").get_data(as_text=True)
    assert re.search(r'<option value="email" >Email</option>', inbox)
    assert re.search(r'<option value="sms" disabled>SMS \(not connected yet', inbox)

    client.post("/settings/channels/email/disconnect", data={"csrf_token": token})
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert 'data-state="not_connected"' in _card(page, "email")
    assert container.channels.account(workspace.id, "email") is None
    inbox = client.get("/").get_data(as_text=True)
    assert re.search(r'<option value="email" disabled>', inbox)


def test_a_bad_public_address_is_refused_with_a_note(site):
    app, container, workspace = site[0], site[1], site[2]
    client, token = _client(app)
    client.post(
        "/settings/channels/email/connect", data={"address": "not an address", "csrf_token": token}
    )
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert "Email was not connected" in page and "not a valid email address" in page
    assert container.channels.account(workspace.id, "email") is None


def test_auto_reply_toggle_and_send_a_test(site):
    app, container, workspace, _, sender, _ = site
    client, token = _client(app)
    container.channels.connect_email(workspace.id, "hello@bayside.example")
    client.post("/settings/channels/email/auto-reply", data={"csrf_token": token})
    assert container.channels.account(workspace.id, "email").settings["ai_auto_reply"] is False
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert 'name="enabled" checked' not in _card(page, "email")
    client.post("/settings/channels/email/auto-reply", data={"enabled": "on", "csrf_token": token})
    assert container.channels.account(workspace.id, "email").settings["ai_auto_reply"] is True

    client.post("/settings/channels/email/test", data={"to": "me@dana.example", "csrf_token": ""})
    assert sender.sent == []  # CSRF refused
    client.post(
        "/settings/channels/email/test", data={"to": "me@dana.example", "csrf_token": token}
    )
    (account, _, message, contact) = sender.sent[0]
    assert contact.email == "me@dana.example" and "test message" in message.body
    assert account.business_name == "Bayside Dental"
    assert "Test message sent to me@dana.example" in client.get("/settings/channels/").get_data(
        as_text=True
    )
    # A provider refusing the account: the card shows the error.
    sender.fail = [PermanentSendError("535 authentication failed")]
    client.post(
        "/settings/channels/email/test", data={"to": "me@dana.example", "csrf_token": token}
    )
    card = _card(client.get("/settings/channels/").get_data(as_text=True), "email")
    assert 'data-state="error"' in card and "535 authentication failed" in card


def test_a_failed_message_shows_its_reason_and_staff_retry_it(site):
    app, container, workspace, admin, sender, queue = site
    container.channels.connect_email(workspace.id)
    conversation = container.conversations.start_conversation(
        workspace.id, admin.id, "email", "Hello", new_contact=ContactDetails(email="a@b.example")
    )
    with container.uow() as uow:
        (message,) = [
            m
            for m in uow.workspace(workspace.id).messages.for_conversation(conversation.id)
            if m.direction == "out"
        ]
    sender.fail = [PermanentSendError("550 5.1.1 mailbox unavailable")]
    container.delivery.deliver(workspace.id, message.id)
    client, token = _client(app, "sam@bayside.example")
    thread = client.get(f"/api/conversations/{conversation.id}").json["messages"]
    (shown,) = [m for m in thread if m["id"] == message.id]
    assert shown["delivery_status"] == "failed" and shown["can_retry"]
    assert shown["delivery_error"] == "550 5.1.1 mailbox unavailable"

    queue.jobs.clear()
    url = f"/api/conversations/{conversation.id}/messages/{message.id}/retry"
    response = client.post(url, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.json["message"]["delivery_status"] == "queued"
    assert not response.json["message"]["can_retry"]
    assert queue.jobs == [(workspace.id, message.id, 0)]
    assert client.post(url, headers={"X-CSRF-Token": token}).status_code == 400  # not failed
    # Another conversation's id in the URL, or another workspace's member: not found.
    wrong = f"/api/conversations/{conversation.id + 99}/messages/{message.id}/retry"
    assert client.post(wrong, headers={"X-CSRF-Token": token}).status_code == 404
    rival, rival_token = _client(app, "dana@harbour-physio.example")
    assert rival.post(url, headers={"X-CSRF-Token": rival_token}).status_code == 404


def test_staff_see_status_changes_live(site):
    app, container, workspace, admin, _, _ = site
    socketio = app.extensions["socketio"]
    container.channels.connect_email(workspace.id)
    conversation = container.conversations.start_conversation(
        workspace.id, admin.id, "email", "Hello", new_contact=ContactDetails(email="a@b.example")
    )
    client, _ = _client(app, "sam@bayside.example")
    live = socketio.test_client(app, namespace="/inbox", flask_test_client=client)
    live.emit("join", {"conversation_id": conversation.id}, namespace="/inbox", callback=True)
    live.get_received("/inbox")
    with container.uow() as uow:
        message = uow.workspace(workspace.id).messages.for_conversation(conversation.id)[-1]
    container.delivery.deliver(workspace.id, message.id)
    container.delivery.update_status("email", "prov-1", "delivered")
    statuses = [
        e["args"][0]["delivery_status"]
        for e in live.get_received("/inbox")
        if e["name"] == "message_status"
    ]
    assert statuses == ["sent", "delivered"]


def test_the_thread_says_whether_replies_can_go_out(site):
    app, container, workspace, admin, _, _ = site
    conversation = container.conversations.start_conversation(
        workspace.id, admin.id, "email", "Hello", new_contact=ContactDetails(email="a@b.example")
    )
    client, _ = _client(app, "sam@bayside.example")
    via = client.get(f"/api/conversations/{conversation.id}").json["reply_via"]
    assert via == {
        "channel": "email",
        "label": "Email",
        "connected": False,
        "window": {
            "state": "open",
            "reason": "",
            "tag": "",
            "until": None,
            "closed_at": None,
            "alternatives": [],
        },
        "templates": [],
    }
    container.channels.connect_email(workspace.id)
    assert client.get(f"/api/conversations/{conversation.id}").json["reply_via"]["connected"]


def test_a_forwarding_confirmation_shows_on_the_email_card_with_code_and_link(site):
    app, container, workspace = site[0], site[1], site[2]
    inbound = container.channels.connect_email(workspace.id, "hello@bayside.example").external_id
    raw = (SAMPLES / "gmail_forwarding_confirmation.eml").read_bytes()
    assert container.email_inbound.receive(inbound, raw).outcome == "confirmation"
    client, _ = _client(app)
    card = _card(client.get("/settings/channels/").get_data(as_text=True), "email")
    assert "Confirm forwarding from hello@bayview.example" in card
    assert '<code class="confirmation-code">581204736</code>' in card
    assert 'href="https://mail-settings.google.com/mail/vf-' in card
    assert 'rel="noopener noreferrer"' in card
    # Another workspace's admin never sees it.
    with container.uow() as uow:
        assert len(uow.workspaces()) == 2


def test_mail_attachments_download_and_the_original_and_loop_reason_show(site):
    app, container, workspace = site[0], site[1], site[2]
    inbound = container.channels.connect_email(workspace.id).external_id
    stored = container.email_inbound.receive(inbound, (SAMPLES / "attachments.eml").read_bytes())
    looped = container.email_inbound.receive(inbound, (SAMPLES / "out_of_office.eml").read_bytes())
    quoted = container.email_inbound.receive(inbound, (SAMPLES / "gmail_reply.eml").read_bytes())
    client, _ = _client(app)
    thread = client.get(f"/api/conversations/{stored.conversation_id}").get_json()["messages"]
    files = thread[0]["attachments"]
    downloadable = [f for f in files if f["url"]]
    assert downloadable, files
    response = client.get(downloadable[0]["url"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(response.data) == downloadable[0]["size"]
    # Not for another workspace's admin, nor under another conversation's path.
    other, _ = _client(app, "dana@harbour-physio.example")
    assert other.get(downloadable[0]["url"]).status_code == 404
    wrong = downloadable[0]["url"].replace(
        f"/conversations/{stored.conversation_id}/", "/conversations/999999/"
    )
    assert client.get(wrong).status_code == 404

    ooo = client.get(f"/api/conversations/{looped.conversation_id}").get_json()["messages"]
    assert "sent automatically" in ooo[-1]["no_auto_reply"]
    reply = client.get(f"/api/conversations/{quoted.conversation_id}").get_json()["messages"]
    assert reply[-1]["original"].startswith(reply[-1]["body"][:20])
    assert len(reply[-1]["original"]) > len(reply[-1]["body"])


def test_connect_a_facebook_page_from_its_card(site):
    app, container = site[0], site[1]
    client, token = _client(app)
    card = _card(client.get("/settings/channels/").get_data(as_text=True), "messenger")
    assert "/channels/meta/webhook" in card and "Connect Messenger" in card
    suggested = re.search(r'<code class="verify-token">([^<]+)</code>', card).group(1)
    form = {
        "account_id": "104938223543921",
        "access_token": "EAAGm0PX4ZCpsBAKpagetoken",
        "app_secret": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "verify_token": suggested,
        "csrf_token": token,
    }
    bad = client.post("/settings/channels/messenger/connect", data=form | {"account_id": "x"})
    assert bad.status_code == 302
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert "Messenger was not connected" in page and "Page id is a number" in page
    client.post("/settings/channels/messenger/connect", data=form)
    page = client.get("/settings/channels/").get_data(as_text=True)
    card = _card(page, "messenger")
    assert 'data-state="connected"' in card and "Messenger is connected" in page
    assert f'<code class="verify-token">{suggested}</code>' in card  # kept, to paste
    assert "EAAGm0PX4ZCpsBAKpagetoken" not in page and "••••oken" in card
    assert container.channels.verify_token_matches(suggested)
    staff, staff_token = _client(app, "sam@bayside.example")
    response = staff.post(
        "/settings/channels/instagram/connect", data=form | {"csrf_token": staff_token}
    )
    assert response.status_code == 403


def test_the_composer_says_when_meta_s_window_closed_and_offers_another_channel(site):
    app, container, workspace = site[0], site[1], site[2]
    clock = container.clock
    container.channels.connect_email(workspace.id)
    container.channels.connect_meta(
        workspace.id, "messenger", "1049382", access_token="EAAGm0PX4ZCp",
        app_secret="0f1e2d3c4b5a6978", verify_token="verify-123",
    )  # fmt: skip
    container.channels.set_auto_reply(workspace.id, "messenger", False)
    from agent.core.conversations import Inbound

    received = container.conversations.receive(
        workspace.id,
        Inbound(
            "messenger", "Hi", thread_id="6243551", provider_message_id="m_1",
            sender=ContactDetails(first_name="Rosa", email="rosa@example.com"),
        ),
    )  # fmt: skip
    client, token = _client(app, "sam@bayside.example")
    url = f"/api/conversations/{received.conversation.id}"
    clock.advance(hours=25)
    window = client.get(url).json["reply_via"]["window"]
    assert window["state"] == "human_only" and window["tag"] == "HUMAN_AGENT"
    assert window["alternatives"] == [] and window["until"]
    clock.advance(days=7)
    window = client.get(url).json["reply_via"]["window"]
    assert window["state"] == "closed" and "more than 7 days" in window["reason"]
    assert window["alternatives"] == [{"channel": "email", "label": "Email"}]
    response = client.post(
        url + "/messages", json={"body": "Hello?"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 400 and "more than 7 days" in response.json["error"]


def test_connect_whatsapp_and_manage_its_templates(site):
    app, container, workspace = site[0], site[1], site[2]
    client, token = _client(app)
    card = _card(client.get("/settings/channels/").get_data(as_text=True), "whatsapp")
    assert "/channels/whatsapp/webhook" in card and "Connect WhatsApp" in card
    form = {
        "phone_number_id": "106540352242922",
        "waba_id": "102290129340398",
        "display_number": "+1 604 555 0199",
        "access_token": "EAAJB0wa0cloudapitoken",
        "app_secret": "9a8b7c6d5e4f3021",
        "verify_token": "wa-verify-77",
        "tier": "1000",
        "csrf_token": token,
    }
    client.post("/settings/channels/whatsapp/connect", data=form | {"display_number": "call me"})
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert "WhatsApp was not connected" in page and "not a phone number" in page
    client.post("/settings/channels/whatsapp/connect", data=form)
    card = _card(client.get("/settings/channels/").get_data(as_text=True), "whatsapp")
    assert 'data-state="connected"' in card and "+16045550199" in card and "1,000" in card

    templates = client.get("/settings/channels/whatsapp/templates").get_data(as_text=True)
    assert 'value="enquiry_follow_up"' in templates  # the default, offered
    draft = {
        "name": "pickup_ready",
        "category": "UTILITY",
        "language": "en",
        "body": "Hi {{1}}, your bike is ready for pickup.",
        "submit": "no",
        "csrf_token": token,
    }
    client.post("/settings/channels/whatsapp/templates", data=draft | {"name": "Pickup Ready"})
    page = client.get("/settings/channels/whatsapp/templates").get_data(as_text=True)
    assert "The template was not saved" in page and "lowercase" in page
    client.post("/settings/channels/whatsapp/templates", data=draft)
    page = client.get("/settings/channels/whatsapp/templates").get_data(as_text=True)
    assert 'data-name="pickup_ready" data-status="DRAFT"' in page
    assert 'value="enquiry_follow_up"' not in page  # no longer offered
    (found,) = container.whatsapp_templates.all(workspace.id)
    staff, staff_token = _client(app, "sam@bayside.example")
    assert staff.get("/settings/channels/whatsapp/templates").status_code == 403
    forbidden = staff.post(
        f"/settings/channels/whatsapp/templates/{found.id}/delete", data={"csrf_token": staff_token}
    )
    assert forbidden.status_code == 403
    client.post(
        f"/settings/channels/whatsapp/templates/{found.id}/delete", data={"csrf_token": token}
    )
    assert container.whatsapp_templates.all(workspace.id) == []


def test_connect_twilio_then_call_and_sms_settings(site):
    app, container, workspace = site[0], site[1], site[2]
    client, token = _client(app)
    form = {
        "account_sid": "AC" + "3f" * 16,
        "auth_token": "9b2c4e6f8a0d1c3e5f7a9b1d3e5f7a9b",
        "number": "+1 604 555 0100",
        "csrf_token": token,
    }
    client.post("/settings/channels/twilio/connect", data=form | {"account_sid": "nope"})
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert "Twilio was not connected" in page and "AC and 32 hex digits" in page
    client.post("/settings/channels/twilio/connect", data=form)
    page = client.get("/settings/channels/").get_data(as_text=True)
    phone = _card(page, "phone")
    assert 'data-state="connected"' in _card(page, "sms") and 'data-state="connected"' in phone
    assert "+16045550100" in phone and "*92" in phone  # carrier forwarding codes
    settings = {"calls": "forward", "forward_to": "", "text_back": "always", "csrf_token": token}
    client.post("/settings/channels/phone/settings", data=settings)
    assert "give the number calls are forwarded to" in client.get("/settings/channels/").get_data(
        as_text=True
    )
    client.post("/settings/channels/phone/settings", data=settings | {"forward_to": "604 555 0177"})
    account = container.channels.account(workspace.id, "phone")
    assert (account.settings["calls"], account.settings["forward_to"]) == (
        "forward",
        "+16045550177",
    )
    sms = {"a2p_registered": "on", "daily_segments": "500", "csrf_token": token}
    client.post("/settings/channels/sms/settings", data=sms)
    account = container.channels.account(workspace.id, "sms")
    assert account.settings == account.settings | {"a2p_registered": True, "daily_segments": 500}
    staff, staff_token = _client(app, "sam@bayside.example")
    forbidden = staff.post(
        "/settings/channels/phone/settings", data=settings | {"csrf_token": staff_token}
    )
    assert forbidden.status_code == 403

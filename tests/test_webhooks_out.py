"""Outgoing webhooks: real triggers, a real local receiver over HTTP, real rq and Redis.

Each test points endpoints at a receiver served in a thread on 127.0.0.1, so the
container allows private URLs unless the test is about refusing them. Without Redis the
container attempts a delivery at once (inline); the retry test runs the real rq queue and
moves the frozen clock instead of sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.config import Settings
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import ValidationError
from agent.core.events import (
    ConversationUpdated,
    LeadCaptured,
    MessageCreated,
    MessageStatusChanged,
)
from agent.core.outgoing_webhooks import AttemptOutcome
from agent.core.webhook_payloads import EVENT_TYPES, event_types, webhook_types
from agent.core.workspaces import NewMember
from frontdesk.cli import main
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.conftest import RecordingDispatcher, make_workspace
from tests.receiver import Receiver
from tests.test_inbox import PASSWORD, login

README = Path(__file__).resolve().parents[1] / "README.md"
SIGNATURE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


def _readme_snippet(language: str) -> str:
    section = README.read_text(encoding="utf-8").split("## Outgoing webhooks", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def _ping(container, workspace, receiver):
    endpoint, secret = container.outgoing_webhooks.add(workspace.id, receiver.url, "ping")
    delivery = container.outgoing_webhooks.test(workspace.id, endpoint.id)
    return endpoint, secret, delivery, receiver.requests[-1]


# -- signing and the payload ------------------------------------------------------------


def test_deliveries_are_signed_and_the_readme_python_snippet_verifies_them(wired, receiver, clock):
    workspace, _ = make_workspace(wired)
    _, secret, delivery, request = _ping(wired, workspace, receiver)
    assert delivery.status == "delivered" and delivery.response_code == 200
    assert secret.startswith("whsec_")
    header = request["headers"]["X-Frontdesk-Signature"]
    timestamp, given = SIGNATURE.match(header).groups()
    assert int(timestamp) == int(clock.now.timestamp())
    signed = timestamp.encode() + b"." + request["body"]
    assert given == hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()

    namespace: dict = {}
    exec(_readme_snippet("python"), namespace)
    verify, now = namespace["verify"], clock.now.timestamp()
    assert verify(secret, header, request["body"], now=now)
    assert not verify(secret, header, request["body"] + b" ", now=now)  # tampered body
    assert not verify("whsec_another", header, request["body"], now=now)
    assert not verify(secret, header, request["body"], now=now + 301)  # a replay, later
    assert not verify(secret, "v1=" + given, request["body"], now=now)  # no timestamp


def test_the_readme_javascript_snippet_verifies_a_produced_signature(
    wired, receiver, clock, tmp_path
):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript verification snippet cannot run")
    workspace, _ = make_workspace(wired)
    _, secret, _, request = _ping(wired, workspace, receiver)
    (tmp_path / "body.json").write_bytes(request["body"])
    script = tmp_path / "verify.js"
    script.write_text(
        _readme_snippet("js")
        + """
const fs = require("fs");
const [secret, header, path, now] = process.argv.slice(2);
const body = fs.readFileSync(path);
console.log(JSON.stringify([
  verify(secret, header, body, Number(now)),
  verify(secret, header, Buffer.concat([body, Buffer.from(" ")]), Number(now)),
  verify(secret, header, body, Number(now) + 301),
]));
"""
    )
    header = request["headers"]["X-Frontdesk-Signature"]
    now = str(int(clock.now.timestamp()))
    result = subprocess.run(
        [node, str(script), secret, header, str(tmp_path / "body.json"), now],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, False, False]


def test_the_payload_has_the_documented_shape_and_headers(wired, receiver, clock):
    workspace, _ = make_workspace(wired)
    endpoint, _, delivery, request = _ping(wired, workspace, receiver)
    payload = json.loads(request["body"])
    assert list(payload) == ["id", "type", "created", "workspace", "data"]
    assert payload["type"] == "ping" and payload["id"].startswith("evt_")
    assert payload["id"] == delivery.event_id
    assert payload["created"] == int(clock.now.timestamp())
    assert payload["workspace"] == {"id": workspace.id, "name": "Bayside Dental"}
    assert payload["data"]["endpoint"] == {"id": endpoint.id, "url": receiver.url}
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Frontdesk-Webhook-Version"] == "1"
    assert headers["X-Frontdesk-Event"] == "ping"
    assert headers["X-Frontdesk-Delivery"] == str(delivery.id)
    assert headers["User-Agent"] == "frontdesk-webhooks/1"
    assert request["path"] == "/hook"


# -- each event from its real trigger ---------------------------------------------------


def test_each_event_type_is_sent_by_its_real_trigger(wired, receiver):
    hours = {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}
    workspace, dana = make_workspace(wired, hours=hours)
    wired.outgoing_webhooks.add(workspace.id, receiver.url, EVENT_TYPES)

    received = wired.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Do you whiten teeth?", thread_id="v-1")
    )
    conversation_id = received.conversation.id
    assert receiver.types() == ["conversation.created", "message.received"]
    created, message = receiver.payloads()
    assert created["data"]["conversation"]["id"] == conversation_id
    assert created["data"]["conversation"]["channel"] == "webchat"
    assert message["data"]["message"]["body"] == "Do you whiten teeth?"
    assert message["data"]["message"]["id"] == received.message.id

    wired.conversations.record_contact(
        workspace.id,
        conversation_id,
        ContactDetails(first_name="Sam", last_name="Lee", email="sam@example.com"),
    )
    assert receiver.types()[-1] == "lead.captured"
    contact = receiver.payloads()[-1]["data"]["contact"]
    assert contact["name"] == "Sam Lee" and contact["email"] == "sam@example.com"
    assert contact["is_lead"] is True

    slot = wired.booking.availability(workspace.id).slots[0]
    booked = wired.booking.book(workspace.id, conversation_id, slot, notes="cleaning")
    assert booked.booked
    assert receiver.types()[-1] == "appointment.booked"
    appointment = receiver.payloads()[-1]["data"]["appointment"]
    assert appointment["id"] == booked.appointment_id and appointment["status"] == "booked"
    assert datetime.fromisoformat(appointment["start"]) == slot  # in UTC
    assert appointment["start"].endswith("+00:00") and appointment["notes"] == "cleaning"
    assert appointment["contact"]["email"] == "sam@example.com"

    wired.booking.cancel(workspace.id, booked.appointment_id)
    assert receiver.types()[-1] == "appointment.cancelled"
    assert receiver.payloads()[-1]["data"]["appointment"]["status"] == "cancelled"
    wired.booking.cancel(workspace.id, booked.appointment_id)  # already cancelled: no event
    assert receiver.types()[-1] == "appointment.cancelled" and len(receiver.requests) == 5

    wired.conversations.hand_off(workspace.id, conversation_id, "wants to talk about a refund")
    assert receiver.types()[-1] == "handoff.requested"
    assert receiver.payloads()[-1]["data"]["reason"] == "wants to talk about a refund"

    wired.conversations.reply(workspace.id, conversation_id, dana.id, "Hi Sam!")  # no event
    wired.conversations.close(workspace.id, conversation_id, dana.id)
    assert receiver.types()[-1] == "conversation.closed"
    closed = receiver.payloads()[-1]["data"]["conversation"]
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert len(receiver.requests) == 7
    assert len({p["id"] for p in receiver.payloads()}) == 7  # one id per event


def test_an_endpoint_gets_only_the_events_it_chose(wired, receiver):
    workspace, _ = make_workspace(wired)
    wired.outgoing_webhooks.add(workspace.id, receiver.url, ["lead.captured"])
    other_workspace, _ = make_workspace(wired, "Harbour Physio")
    received = wired.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hello", thread_id="v-2")
    )
    wired.conversations.receive(  # another workspace's lead: not this endpoint's business
        other_workspace.id, Inbound(channel="webchat", body="Hello", thread_id="v-3")
    )
    assert receiver.requests == []
    wired.conversations.record_contact(
        workspace.id,
        received.conversation.id,
        ContactDetails(first_name="Ana", phone="+16045550142"),
    )
    assert receiver.types() == ["lead.captured"]
    assert receiver.payloads()[0]["workspace"]["id"] == workspace.id


def test_domain_events_map_to_webhook_types():
    assert webhook_types(MessageCreated(1, 2, 3, "contact")) == ["message.received"]
    assert webhook_types(MessageCreated(1, 2, 3, "ai")) == []
    assert webhook_types(MessageCreated(1, 2, 3, "staff")) == []
    assert webhook_types(MessageStatusChanged(1, 2, 3, "sent")) == []
    assert webhook_types(LeadCaptured(1, 2, 4)) == ["lead.captured"]
    assert webhook_types(ConversationUpdated(1, 2, {"created": True})) == ["conversation.created"]
    assert webhook_types(ConversationUpdated(1, 2, {"mode": "human", "handoff": ""})) == [
        "handoff.requested"
    ]
    assert webhook_types(ConversationUpdated(1, 2, {"status": "closed"})) == ["conversation.closed"]
    assert webhook_types(ConversationUpdated(1, 2, {"status": "open", "mode": "ai"})) == []
    assert event_types(" lead.captured, ping,lead.captured") == ["lead.captured", "ping"]
    for bad in ("", "lead.captured,lead.lost"):
        with pytest.raises(ValidationError, match="events"):
            event_types(bad)


# -- retries ----------------------------------------------------------------------------


def test_retries_with_backoff_until_the_receiver_succeeds(settings, clock, redis_conn, redis_url):
    """The real rq queue: a receiver fails twice, then answers 200. The retries are due
    30 s and then 1 min later; moving the clock makes each due (no sleeping)."""
    receiver = Receiver()
    receiver.statuses = [500, 503]
    container = build(
        replace(settings, allow_private_urls=True).ensure_data_dir(),
        redis_url=redis_url,
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
    )
    service = container.outgoing_webhooks
    try:
        workspace, _ = make_workspace(container)
        endpoint, _ = service.add(workspace.id, receiver.url, "message.received")
        container.conversations.receive(
            workspace.id, Inbound(channel="sms", body="Still open?", thread_id="+16045550142")
        )
        assert receiver.requests == []  # queued, not sent in the caller's thread
        container.worker(["default"]).work(burst=True)
        (delivery,) = service.deliveries(workspace.id, endpoint.id)
        assert (delivery.status, delivery.response_code, delivery.attempts) == ("pending", 500, 1)
        assert delivery.last_error == "HTTP 500: receiver is down"
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=30)
        assert service.sweep(grace=timedelta(0)) == []  # not due yet

        clock.advance(seconds=30)
        assert service.sweep(grace=timedelta(0)) == [delivery.id]
        container.worker(["default"]).work(burst=True)
        (delivery,) = service.deliveries(workspace.id, endpoint.id)
        assert (delivery.status, delivery.response_code, delivery.attempts) == ("pending", 503, 2)
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=60)

        clock.advance(seconds=59)
        assert service.sweep(grace=timedelta(0)) == []
        clock.advance(seconds=1)
        assert service.sweep(grace=timedelta(0)) == [delivery.id]
        container.worker(["default"]).work(burst=True)
        (delivery,) = service.deliveries(workspace.id, endpoint.id)
        assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 3)
        assert delivery.last_error == "" and delivery.next_attempt_at is None

        assert len(receiver.requests) == 3
        assert len({p["id"] for p in receiver.payloads()}) == 1  # the same event each time
        stamps = [
            SIGNATURE.match(r["headers"]["X-Frontdesk-Signature"]).group(1)
            for r in receiver.requests
        ]
        start = int((clock.now - timedelta(seconds=90)).timestamp())
        assert stamps == [str(start), str(start + 30), str(start + 90)]  # signed afresh
        container.worker(["default"]).work(burst=True)  # a late duplicate job: nothing sent
        assert len(receiver.requests) == 3
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        container.engine.dispose()


def test_a_delivery_that_keeps_failing_is_given_up_after_a_day(wired, receiver, clock):
    workspace, _ = make_workspace(wired)
    endpoint, _ = wired.outgoing_webhooks.add(workspace.id, receiver.url, "message.received")
    receiver.statuses = [500] * 100
    start = clock.now
    wired.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hi", thread_id="v-4")
    )
    (delivery,) = wired.outgoing_webhooks.deliveries(workspace.id, endpoint.id)
    while delivery.status == "pending":
        clock.now = delivery.next_attempt_at
        outcome = wired.outgoing_webhooks.attempt(workspace.id, delivery.id)
        assert outcome in (AttemptOutcome.RETRYING, AttemptOutcome.FAILED)
        (delivery,) = wired.outgoing_webhooks.deliveries(workspace.id, endpoint.id)
    assert delivery.status == "failed"
    assert clock.now - start <= timedelta(hours=24)
    assert clock.now - start > timedelta(hours=22)
    assert (
        delivery.last_error
        == f"gave up after {delivery.attempts} attempts: HTTP 500: receiver is down"
    )
    assert len(receiver.requests) == delivery.attempts
    stamps = [
        int(SIGNATURE.match(r["headers"]["X-Frontdesk-Signature"]).group(1))
        for r in receiver.requests
    ]
    gaps = [later - earlier for earlier, later in pairwise(stamps)]
    assert gaps[:8] == [30, 60, 120, 240, 480, 960, 1920, 3600]  # the documented schedule
    assert set(gaps[8:]) == {3600}


# -- SSRF -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "a loopback address"),
        ("http://localhost:8080/hook", "a loopback address"),  # 127.0.0.1 (or ::1)
        ("http://10.0.0.5/hook", "a private network address"),
        ("http://169.254.169.254/latest/meta-data", "a cloud metadata address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://2130706433/hook", "a loopback address"),
        ("ftp://example.com/hook", "is not an http(s) address"),
    ],
)
def test_private_addresses_are_refused_when_added(container, url, reason):
    workspace, _ = make_workspace(container)
    with pytest.raises(ValidationError) as refused:
        container.outgoing_webhooks.add(workspace.id, url, "ping")
    assert reason in str(refused.value)
    assert "webhooks are only sent to public addresses" in str(refused.value)
    assert container.outgoing_webhooks.endpoints(workspace.id) == []


def test_a_host_that_resolves_to_loopback_is_refused_at_delivery(settings, clock, receiver):
    """Added while private URLs were allowed (or while the name resolved elsewhere), the
    endpoint's host now resolves to 127.0.0.1: the delivery is refused, never retried."""
    permissive = build(replace(settings, allow_private_urls=True).ensure_data_dir(), clock=clock)
    strict = build(
        settings.ensure_data_dir(), clock=clock, dispatcher_override=RecordingDispatcher()
    )
    try:
        workspace, _ = make_workspace(strict)
        url = f"http://localhost:{receiver.port}/hook"
        endpoint, _ = permissive.outgoing_webhooks.add(workspace.id, url, "message.received")
        strict.conversations.receive(
            workspace.id, Inbound(channel="webchat", body="Hi", thread_id="v-5")
        )
        (delivery,) = strict.outgoing_webhooks.deliveries(workspace.id, endpoint.id)
        assert delivery.status == "failed" and delivery.attempts == 1
        assert delivery.response_code is None and delivery.next_attempt_at is None
        assert re.fullmatch(
            rf"refused: {re.escape(url)} resolves to (127\.0\.0\.1|::1), a loopback address; "
            "webhooks are only sent to public addresses",
            delivery.last_error,
        )
        assert strict.outgoing_webhooks.test(workspace.id, endpoint.id).status == "failed"
        assert receiver.requests == []
    finally:
        permissive.engine.dispose()
        strict.engine.dispose()


# -- the CLI ----------------------------------------------------------------------------


def test_cli_adds_lists_pings_and_removes(tmp_path, monkeypatch, receiver):
    data = tmp_path / "data"
    setup = build(Settings.from_values({"data_dir": data}).ensure_data_dir())
    setup.migrate()
    make_workspace(setup)
    setup.engine.dispose()
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(data))
    for var in ("DATABASE_URL", "REDIS_URL", "FRONTDESK_CONFIG", "FRONTDESK_ALLOW_PRIVATE_URLS"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["webhooks", *args], catch_exceptions=False)

    refused = run("add", receiver.url, "--events", "lead.captured")
    assert refused.exit_code == 1 and "a loopback address" in refused.output
    monkeypatch.setenv("FRONTDESK_ALLOW_PRIVATE_URLS", "1")
    assert "not an event name" in run("add", receiver.url, "--events", "lead.lost").output

    added = run("add", receiver.url, "--events", "lead.captured,ping")
    assert added.exit_code == 0, added.output
    endpoint_id = re.search(r"^id: (\d+)$", added.output, re.M).group(1)
    secret = re.search(r"^secret: (whsec_\S+)$", added.output, re.M).group(1)
    listed = run("list")
    assert f"#{endpoint_id}" in listed.output and receiver.url in listed.output
    assert "lead.captured, ping" in listed.output

    pinged = run("test", endpoint_id)
    assert pinged.exit_code == 0 and "Response code: 200" in pinged.output
    request = receiver.requests[-1]
    timestamp, given = SIGNATURE.match(request["headers"]["X-Frontdesk-Signature"]).groups()
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256)
    assert given == expected.hexdigest()
    assert "last delivery: ping delivered, HTTP 200" in run("list").output

    receiver.statuses = [410]
    failed = run("test", endpoint_id)
    assert failed.exit_code == 1 and "Response code: 410" in failed.output
    assert "HTTP 410" in failed.output

    assert run("remove", endpoint_id).exit_code == 0
    assert "No webhook endpoints yet" in run("list").output
    assert run("remove", endpoint_id).exit_code == 1
    for command in ("add", "list", "test", "remove"):
        assert run(command, "--help").exit_code == 0


# -- Settings > Webhooks ------------------------------------------------------------------


@pytest.fixture
def site(wired):
    app, _ = create_app(wired, testing=True)
    workspace, _ = make_workspace(wired)
    wired.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    return app, wired, workspace


def _admin(app, email="dana@bayside-dental.example"):
    client = app.test_client()
    response, token = login(client, email)
    assert response.status_code == 302
    return client, token


def test_admins_add_ping_read_the_log_and_resend(site, receiver):
    app, container, workspace = site
    client, token = _admin(app)
    page = client.get("/settings/webhooks/").get_data(as_text=True)
    assert "No endpoints yet" in page and 'href="/settings/webhooks"' in page
    for event in EVENT_TYPES:
        assert f'value="{event}"' in page

    form = {"csrf_token": token, "url": receiver.url, "events": ["lead.captured", "ping"]}
    response = client.post("/settings/webhooks/", data=form)
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', page).group(1)
    (endpoint,) = container.outgoing_webhooks.endpoints(workspace.id)
    assert endpoint.events == ["lead.captured", "ping"]
    assert secret not in client.get("/settings/webhooks/").get_data(as_text=True)  # once

    refused = client.post(
        "/settings/webhooks/",
        data={"csrf_token": token, "url": "http://169.254.169.254/", "events": ["ping"]},
    )
    assert refused.status_code == 400
    assert "a cloud metadata address" in refused.get_data(as_text=True)
    assert len(container.outgoing_webhooks.endpoints(workspace.id)) == 1

    response = client.post(f"/settings/webhooks/{endpoint.id}/test", data={"csrf_token": token})
    assert response.status_code == 302
    log = client.get(f"/settings/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "Test ping sent: the endpoint answered 200." in log
    (row,) = re.findall(r'<tr class="webhook-delivery".*?</tr>', log, re.S)
    assert 'data-status="delivered"' in row and "<code>ping</code>" in row
    assert '<td class="response-code">200</td>' in row

    (delivery,) = container.outgoing_webhooks.deliveries(workspace.id, endpoint.id)
    resend = f"/settings/webhooks/{endpoint.id}/deliveries/{delivery.id}/resend"
    assert client.post(resend, data={"csrf_token": token}).status_code == 302
    log = client.get(f"/settings/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "The ping event is being sent again." in log
    assert len(re.findall(r'<tr class="webhook-delivery"', log)) == 2
    first, again = receiver.payloads()
    assert first["id"] == again["id"]  # the same event, so a receiver can skip a repeat

    assert (
        client.post(
            f"/settings/webhooks/{endpoint.id}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert container.outgoing_webhooks.endpoints(workspace.id) == []
    assert client.get(f"/settings/webhooks/{endpoint.id}").status_code == 404


def test_staff_and_other_workspaces_are_refused(site, receiver):
    app, container, workspace = site
    endpoint, _ = container.outgoing_webhooks.add(workspace.id, receiver.url, "ping")
    staff, token = _admin(app, "sam@bayside.example")
    assert staff.get("/settings/webhooks/").status_code == 403
    assert staff.get(f"/settings/webhooks/{endpoint.id}").status_code == 403
    form = {"csrf_token": token, "url": receiver.url, "events": ["ping"]}
    assert staff.post("/settings/webhooks/", data=form).status_code == 403
    assert (
        staff.post(
            f"/settings/webhooks/{endpoint.id}/remove", data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert len(container.outgoing_webhooks.endpoints(workspace.id)) == 1
    assert app.test_client().get("/settings/webhooks/").status_code == 302  # sign in first

    make_workspace(container, "Harbour Physio")
    other, token = _admin(app, "dana@harbour-physio.example")
    assert other.get(f"/settings/webhooks/{endpoint.id}").status_code == 404
    assert (
        other.post(f"/settings/webhooks/{endpoint.id}/test", data={"csrf_token": token}).status_code
        == 404
    )
    assert receiver.requests == []

"""`frontdesk channels ...` as a user runs it (click's runner, a real SQLite data dir)."""

from __future__ import annotations

import json
import re

import pytest

from tests.test_cli import run  # noqa: F401  (the fixture)
from tests.test_email_channel import relay  # noqa: F401  (the fixture)

PASSWORD = "a long enough passphrase"


@pytest.fixture
def workspace(run, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FRONTDESK_EMAIL_DOMAIN", "reply.example.com")
    result = run(
        "init", "--workspace", "Acme Dental", "--admin-email", "dana@acme.example",
        "--admin-password", PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return run


@pytest.mark.parametrize("command", ["", "list", "connect", "disconnect", "test"])
def test_every_channels_command_has_help(run, command):  # noqa: F811
    result = run("channels", *command.split(), "--help")
    assert result.exit_code == 0 and "Usage: " in result.output


def test_list_json_shape(workspace):
    result = workspace("channels", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["channel"] for r in rows] == [
        "email", "messenger", "instagram", "whatsapp", "sms", "phone",
    ]  # fmt: skip
    email = rows[0]
    assert email == {
        "channel": "email",
        "label": "Email",
        "state": "not_connected",
        "connectable": True,
        "external_id": "",
        "last_error": "",
        "ai_auto_reply": True,
        "credentials": {},
        "inbound_address": "",
        "public_address": "",
        "forwarding_confirmation": None,
        "last_notice": None,
    }
    assert {r["state"] for r in rows} == {"not_connected"}
    assert [r["connectable"] for r in rows] == [True, True, True, True, True, True]


def test_connect_email_prints_the_inbound_address_and_list_shows_it(workspace):
    result = workspace("channels", "connect", "email", "--address", "hello@acme.example")
    assert result.exit_code == 0, result.output
    inbound = re.search(r"Inbound address: (\S+)", result.output).group(1)
    assert re.fullmatch(r"acme-dental-[0-9a-f]{6}@reply\.example\.com", inbound)
    email = json.loads(workspace("channels", "list", "--json").output)[0]
    assert email["state"] == "connected"
    assert (email["inbound_address"], email["public_address"]) == (inbound, "hello@acme.example")
    # Connecting again keeps the inbound address (mail is already forwarded to it).
    again = workspace("channels", "connect", "email")
    assert f"Inbound address: {inbound}" in again.output
    plain = workspace("channels", "list").output
    assert re.search(rf"^email\s+connected\s+{re.escape(inbound)}", plain, re.M)

    assert "email is disconnected" in workspace("channels", "disconnect", "email").output
    assert json.loads(workspace("channels", "list", "--json").output)[0]["state"] == (
        "not_connected"
    )
    assert "was not connected" in workspace("channels", "disconnect", "email").output


def test_clear_errors(workspace, monkeypatch):
    result = workspace("channels", "connect", "sms")
    assert result.exit_code == 2 and "connect together: frontdesk channels connect twilio" in (
        result.output
    )
    result = workspace("channels", "connect", "email", "--address", "nope")
    assert result.exit_code == 1 and "not a valid email address" in result.output
    result = workspace("channels", "test", "email", "--to", "me@acme.example")
    assert result.exit_code == 1 and "Email is not connected" in result.output
    workspace("channels", "connect", "email")
    result = workspace("channels", "test", "email", "--to", "me@acme.example")
    assert result.exit_code == 1 and "no Email sender" in result.output
    monkeypatch.delenv("FRONTDESK_EMAIL_DOMAIN")
    workspace("channels", "disconnect", "email")
    result = workspace("channels", "connect", "email")
    assert result.exit_code == 1 and "FRONTDESK_EMAIL_DOMAIN" in result.output


def test_channels_test_email_sends_a_real_mail_through_the_relay(workspace, monkeypatch, relay):  # noqa: F811
    sink, port = relay
    monkeypatch.setenv("FRONTDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    inbound = re.search(
        r"Inbound address: (\S+)",
        workspace("channels", "connect", "email", "--address", "hello@acme.example").output,
    ).group(1)
    result = workspace("channels", "test", "email", "--to", "me@acme.example")
    assert result.exit_code == 0, result.output
    [mail] = sink.mails()
    assert "Test message sent to me@acme.example" in result.output
    assert mail["Message-ID"] in result.output
    assert mail["From"] == "Acme Dental <hello@acme.example>" and mail["To"] == "me@acme.example"
    assert sink.envelopes[0].mail_from == inbound
    # A relay that refuses: the reason, and the card shows the error.
    sink.data_reply = "554 5.7.1 relaying denied"
    result = workspace("channels", "test", "email", "--to", "me@acme.example")
    assert result.exit_code == 1 and "554 5.7.1 relaying denied" in result.output
    email = json.loads(workspace("channels", "list", "--json").output)[0]
    assert email["state"] == "error" and "relaying denied" in email["last_error"]


def test_connect_messenger_and_instagram_as_the_contract_says(workspace, monkeypatch):
    monkeypatch.setenv("FRONTDESK_PUBLIC_URL", "https://desk.acme.example")
    result = workspace(
        "channels", "connect", "messenger", "--page-id", "104938223543921",
        "--access-token", "EAAGm0PX4ZCpsBAKpagetoken", "--app-secret", "0f1e2d3c4b5a6978",
        "--verify-token", "acme-verify-123",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Webhook URL: https://desk.acme.example/channels/meta/webhook" in result.output
    assert "Verify token: acme-verify-123" in result.output
    result = workspace(
        "channels", "connect", "instagram", "--account-id", "17841405822304914",
        "--access-token", "IGQWRPageTokenForIG", "--app-secret", "0f1e2d3c4b5a6978",
        "--verify-token", "acme-verify-123",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["channel"]: r for r in json.loads(workspace("channels", "list", "--json").output)}
    assert rows["messenger"]["state"] == "connected"
    assert rows["messenger"]["external_id"] == "104938223543921"
    assert rows["instagram"]["external_id"] == "17841405822304914"
    shown = json.dumps(rows["messenger"]["credentials"], ensure_ascii=False)
    assert "EAAGm0PX4ZCpsBAKpagetoken" not in shown and "••••" in shown  # masked


def test_connect_messenger_says_what_is_missing_or_wrong(workspace):
    result = workspace("channels", "connect", "messenger", "--page-id", "123")
    assert result.exit_code == 2
    assert "--access-token, --app-secret, --verify-token" in result.output
    result = workspace(
        "channels", "connect", "messenger", "--page-id", "my-page", "--access-token",
        "EAAGm0PX4ZCpsBAK", "--app-secret", "0f1e2d3c4b5a6978", "--verify-token", "verify-123",
    )  # fmt: skip
    assert result.exit_code == 1 and "Page id is a number" in result.output


def test_connect_whatsapp_as_the_contract_says(workspace):
    result = workspace(
        "channels", "connect", "whatsapp", "--phone-number-id", "106540352242922",
        "--waba-id", "102290129340398", "--display-number", "+16502530000",
        "--access-token", "EAAJB0wa0cloudapitoken", "--app-secret", "9a8b7c6d5e4f3021",
        "--verify-token", "wa-verify-77",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Webhook URL: " in result.output and "/channels/whatsapp/webhook" in result.output
    rows = {r["channel"]: r for r in json.loads(workspace("channels", "list", "--json").output)}
    whatsapp = rows["whatsapp"]
    assert (whatsapp["state"], whatsapp["phone_number_id"], whatsapp["waba_id"]) == (
        "connected",
        "106540352242922",
        "102290129340398",
    )
    assert (whatsapp["display_number"], whatsapp["tier"]) == ("+16502530000", 250)
    result = workspace("channels", "connect", "whatsapp", "--phone-number-id", "1")
    assert result.exit_code == 2 and "--waba-id, --display-number" in result.output


def test_connect_twilio_as_the_contract_says(workspace, monkeypatch):
    monkeypatch.setenv("FRONTDESK_PUBLIC_URL", "https://desk.acme.example")
    result = workspace(
        "channels", "connect", "twilio", "--account-sid", "AC" + "3f" * 16,
        "--auth-token", "9b2c4e6f8a0d1c3e5f7a9b1d3e5f7a9b", "--number", "+16045550100",
        "--calls", "forward", "--forward-to", "+16045550177", "--text-back", "always",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for path in ("/channels/twilio/sms", "/channels/twilio/status", "/channels/twilio/voice"):
        assert f"https://desk.acme.example{path}" in result.output
    rows = {r["channel"]: r for r in json.loads(workspace("channels", "list", "--json").output)}
    assert rows["sms"]["state"] == rows["phone"]["state"] == "connected"
    assert rows["sms"]["external_id"] == "+16045550100"
    assert (rows["phone"]["calls"], rows["phone"]["forward_to"]) == ("forward", "+16045550177")
    assert rows["phone"]["text_back"] == "always"
    result = workspace(
        "channels", "connect", "twilio", "--account-sid", "AC" + "3f" * 16, "--auth-token",
        "9b2c4e6f8a0d1c3e5f7a9b1d3e5f7a9b", "--number", "+16045550100", "--calls", "forward",
    )  # fmt: skip
    assert result.exit_code == 1 and "give the number calls are forwarded to" in result.output

"""Phone calls through Twilio: each flow as Twilio drives it (signed voice webhooks with
the forms of its docs), the TwiML checked as Twilio reads it, the offline model as the
voice receptionist, texts after calls going out through the REST stand-in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from agent.config import Settings
from agent.core.conversations.calls import CALL
from agent.core.models import AuthorKind, Direction
from tests.test_twilio_channel import CALLER, NUMBER, SID, STAFF, TOKEN, Hub, _hub
from tests.twilio_server import FakeTwilio

CALL_SID = "CA" + "5e" * 16


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(SID, TOKEN)
    yield server
    server.close()


def _phone(sqlite_settings: Settings, twilio: FakeTwilio, **connect) -> Hub:
    return _hub(sqlite_settings, twilio, **connect)


def _form(**extra: str) -> dict[str, str]:
    return {
        "CallSid": CALL_SID, "AccountSid": SID, "From": CALLER, "To": NUMBER,
        "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01",
        "Caller": CALLER, "Called": NUMBER, "FromCountry": "CA", "ToCountry": "CA", **extra,
    }  # fmt: skip


def twiml(response) -> ET.Element:
    assert response.status_code == 200 and response.mimetype == "text/xml", response.data
    return ET.fromstring(response.get_data(as_text=True))


def call(hub: Hub, step: str = "", **extra: str):
    path = "/channels/twilio/voice" + (f"/{step}?to=%2B16045550100" if step else "")
    return hub.post(path, _form(**extra))


def call_details(hub: Hub) -> dict:
    with hub.container.uow() as uow:
        found = uow.workspace(hub.workspace_id).messages.by_provider_id("phone", CALL_SID)
    return dict(found.meta[CALL])


def texts(twilio: FakeTwilio) -> list[str]:
    return [m["Body"] for m in twilio.messages()]


def test_end_the_call_and_text_back_once(sqlite_settings, twilio):
    hub = _phone(sqlite_settings, twilio, calls="end", text_back="missed",
                 end_message="Thanks for calling Bayside! Please text us instead.")  # fmt: skip
    try:
        root = twiml(call(hub))
        assert [(e.tag, e.text) for e in root] == [
            ("Say", "Thanks for calling Bayside! Please text us instead."),
            ("Hangup", None),
        ]
        twiml(call(hub))  # Twilio retried the webhook
        done = {"CallStatus": "completed", "CallDuration": "4"}
        for _ in range(2):  # the status callback, retried
            assert call(hub, "status", **done).status_code == 204
        assert texts(twilio) == ["Sorry we missed your call! How can we help? - Bayside Dental"]
        details = call_details(hub)
        assert (details["status"], details["duration"], details["text_back"]) == (
            "completed", 4, "sent",
        )  # fmt: skip
        assert (
            "Outcome: missed" in details["summary"]
            and "Follow-up needed: yes" in details["summary"]
        )
        conversation, messages = hub.thread("sms")  # the text began an SMS conversation
        assert messages[-1].author_kind == AuthorKind.AI and conversation.mode == "ai"
    finally:
        hub.container.engine.dispose()


def test_forward_answered_is_not_missed(sqlite_settings, twilio):
    hub = _phone(sqlite_settings, twilio, calls="forward", forward_to=STAFF, text_back="missed")
    try:
        (dial,) = twiml(call(hub))
        assert dial.tag == "Dial" and dial.get("timeout") == "20"
        assert dial.get("record") == "record-from-answer"
        assert dial.get("action").endswith("/channels/twilio/voice/dial?to=%2B16045550100")
        assert [(n.tag, n.text) for n in dial] == [("Number", STAFF)]
        assert [e.tag for e in twiml(call(hub, "dial", DialCallStatus="completed"))] == ["Hangup"]
        call(hub, "status", CallStatus="completed", CallDuration="95")
        assert texts(twilio) == []
        assert "Outcome: answered" in call_details(hub)["summary"]
    finally:
        hub.container.engine.dispose()


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_forward_not_answered_is_missed_and_texted_back_once(sqlite_settings, twilio, status):
    hub = _phone(sqlite_settings, twilio, calls="forward", forward_to=STAFF, text_back="missed")
    try:
        call(hub)
        root = twiml(call(hub, "dial", DialCallStatus=status))
        assert "We'll text you shortly" in root.find("Say").text
        twiml(call(hub, "dial", DialCallStatus=status))  # retried
        call(hub, "status", CallStatus="completed", CallDuration="25")
        assert len(texts(twilio)) == 1
        assert "Outcome: missed" in call_details(hub)["summary"]
    finally:
        hub.container.engine.dispose()


def test_the_ai_answers_a_three_turn_call_and_books(sqlite_settings, twilio):
    hub = _phone(sqlite_settings, twilio, calls="ai", text_back="missed")
    try:
        root = twiml(call(hub))
        gather = root.find("Gather")
        assert gather.get("input") == "speech"
        assert "How can I help" in gather.find("Say").text
        recordings = [r for r in twilio.requests if "/Recordings.json" in r.path]
        assert recordings and recordings[0].path.endswith(f"/Calls/{CALL_SID}/Recordings.json")
        said = []
        for words in (
            "Hi, are you open on Thursday?",
            "Could I book an appointment for Thursday at 10am?",
            "It's Rosa Delgado.",
        ):
            root = twiml(call(hub, "gather", SpeechResult=words, Confidence="0.93"))
            said.append(root.find("Gather/Say").text)
        assert all("http" not in s and "*" not in s for s in said)
        # The call's own record is not read as the caller's words (no "details noted").
        assert "noted your details" not in said[0]
        assert "booked" in said[-1].lower()
        assert [e.tag for e in twiml(call(hub, "gather", SpeechResult="No thanks, bye!"))] == [
            "Say", "Hangup",
        ]  # fmt: skip
        recording = {"RecordingSid": "RE" + "1" * 32, "RecordingStatus": "completed",
                     "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/RE1",
                     "RecordingDuration": "48"}  # fmt: skip
        call(hub, "recording", **recording)
        call(hub, "status", CallStatus="completed", CallDuration="52")
        details = call_details(hub)
        assert details["recording"]["duration"] == 48
        transcript = details["transcript"]
        assert [t["who"] for t in transcript][:2] == ["caller", "ai"]
        assert transcript[0]["text"] == "Hi, are you open on Thursday?"
        assert "Outcome: an appointment was booked" in details["summary"]
        assert texts(twilio) == []  # answered: no missed-call text
        with hub.container.uow() as uow:
            repo = uow.workspace(hub.workspace_id)
            (appointment,) = repo.appointments.list()
            contact = repo.contacts.get(appointment.contact_id)
        assert appointment.start.isoformat() == "2026-03-05T18:00:00+00:00"
        assert (contact.first_name, contact.phone) == ("Rosa", CALLER)  # the caller id
        _, messages = hub.thread("phone")
        assert any("Call summary" in m.body for m in messages if m.direction == Direction.INTERNAL)
    finally:
        hub.container.engine.dispose()


def test_asking_for_a_person_transfers_the_call_and_stops_recording(sqlite_settings, twilio):
    hub = _phone(sqlite_settings, twilio, calls="ai", forward_to=STAFF)
    try:
        call(hub)
        root = twiml(call(hub, "gather", SpeechResult="Can I talk to a real person please?"))
        assert [e.tag for e in root][-1] == "Dial"
        assert root.find("Dial/Number").text == STAFF
        assert any("Twilio.CURRENT" in r.path and r.form.get("Status") == "stopped"
                   for r in twilio.requests)  # fmt: skip
        call(hub, "dial", DialCallStatus="completed")
        call(hub, "status", CallStatus="completed", CallDuration="120")
        assert "they asked for a person" in call_details(hub)["summary"]
    finally:
        hub.container.engine.dispose()


def test_with_an_llm_the_call_summary_is_written_by_it(sqlite_settings, twilio, monkeypatch):
    from dataclasses import replace

    from tests.openai_server import FakeOpenAI, Reply

    def brain(messages):
        if "Summarise this phone call" in str(messages[0]["content"]):
            assert "Transcript:" in messages[-1]["content"]
            return Reply("Rosa asked about Thursday hours; told 8 to 6. Follow-up needed: no.")
        return Reply("We're open from 8 to 6 on Thursday.")

    with FakeOpenAI(brain) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        settings = replace(sqlite_settings, model="openai:test-model")
        hub = _phone(settings, twilio, calls="ai")
        try:
            call(hub)
            root = twiml(call(hub, "gather", SpeechResult="Are you open on Thursday?"))
            assert "open from 8 to 6" in root.find("Gather/Say").text
            call(hub, "status", CallStatus="completed", CallDuration="30")
            assert call_details(hub)["summary"] == (
                "Call summary: Rosa asked about Thursday hours; told 8 to 6. Follow-up needed: no."
            )
        finally:
            hub.container.engine.dispose()

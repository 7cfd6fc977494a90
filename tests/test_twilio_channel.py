"""SMS and calls through Twilio, end to end: signed webhooks in (the ``twilio``
package's own validator), texts out through its REST client to ``FakeTwilio``, calls
answered with TwiML built by its builders. No Redis: webhook jobs, AI turns and
deliveries run inline; the offline model answers the calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from twilio.request_validator import RequestValidator

from agent.config import Settings
from agent.core.clock import FixedClock
from agent.core.errors import Conflict
from agent.core.models import AuthorKind, DeliveryStatus
from agent.core.sms import keyword, segments
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from tests.conftest import NOW, EchoResponder, make_workspace
from tests.twilio_server import FakeTwilio

SID = "AC" + "3f" * 16
TOKEN = "9b2c4e6f8a0d1c3e5f7a9b1d3e5f7a9b"
NUMBER = "+16045550100"  # the business's Twilio number (Canada)
CALLER = "+16045550142"
STAFF = "+16045550177"
PUBLIC = "https://desk.bayside.example"


@dataclass
class Hub:
    container: Container
    client: object
    twilio: FakeTwilio
    clock: FixedClock
    workspace_id: int
    member_id: int

    def post(self, path: str, form: dict[str, str], *, token: str = TOKEN, url: str = ""):
        signature = RequestValidator(token).compute_signature(url or PUBLIC + path, form)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})

    def text(self, body: str, sid: str, sender: str = CALLER, **extra: str):
        form = {
            "MessageSid": sid, "SmsSid": sid, "AccountSid": SID, "MessagingServiceSid": "",
            "From": sender, "To": NUMBER, "Body": body, "NumMedia": "0", "NumSegments": "1",
            "FromCountry": "CA", "ToCountry": "CA", "ApiVersion": "2010-04-01", **extra,
        }  # fmt: skip
        return self.post("/channels/twilio/sms", form)

    def thread(self, channel: str = "sms", who: str = CALLER):
        with self.container.uow() as uow:
            repo = uow.workspace(self.workspace_id)
            conversation = repo.conversations.by_thread(channel, who)
            messages = list(repo.messages.for_conversation(conversation.id))
        return conversation, messages


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(SID, TOKEN, media={"photo.jpg": ("image/jpeg", b"\xff\xd8jpeg" * 50)})
    yield server
    server.close()


def _hub(settings: Settings, twilio: FakeTwilio, responder=None, **connect) -> Hub:
    clock = FixedClock(NOW)
    settings = replace(settings, twilio_api_url=twilio.url, public_url=PUBLIC)
    overrides = {"responder_override": responder} if responder else {}
    container = build(settings, redis_url="", clock=clock, **overrides)
    if responder:
        responder.service, responder.uow = container.conversations, container.uow
    app, _ = create_app(container, testing=True)
    workspace, member = make_workspace(
        container, hours={d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    values = {"account_sid": SID, "auth_token": TOKEN, "number": NUMBER} | connect
    container.channels.connect_twilio(workspace.id, **values)
    return Hub(container, app.test_client(), twilio, clock, workspace.id, member.id)


@pytest.fixture
def hub(sqlite_settings: Settings, twilio: FakeTwilio) -> Iterator[Hub]:
    found = _hub(sqlite_settings, twilio, EchoResponder())
    yield found
    found.container.engine.dispose()


# -- signatures ---------------------------------------------------------------------------


def test_signature_vectors(hub: Hub):
    form = {"MessageSid": "SM1", "From": CALLER, "To": NUMBER, "Body": "Hi", "NumMedia": "0"}
    path = "/channels/twilio/sms"
    assert hub.post(path, form, token="0" * 32).status_code == 403  # wrong token
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
    changed = form | {"Body": "Hi there"}  # a parameter changed after signing
    response = hub.client.post(path, data=changed, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    other = hub.post(path, form, url="https://elsewhere.example" + path)  # URL mismatch
    assert other.status_code == 403
    assert hub.client.post(path, data=form).status_code == 403  # no signature
    assert hub.text("Hi", "SM1").status_code == 200  # valid
    _, messages = hub.thread()
    assert messages[0].body == "Hi"


# -- SMS ---------------------------------------------------------------------------------


def test_a_text_is_stored_once_answered_and_its_status_follows(hub: Hub):
    response = hub.text("Are you open today?", "SM100")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "<Response" in response.get_data(as_text=True)
    hub.text("Are you open today?", "SM100")  # Twilio retried
    _conversation, messages = hub.thread()
    assert [(m.author_kind, m.body) for m in messages] == [
        (AuthorKind.CONTACT, "Are you open today?"),
        (AuthorKind.AI, f"echo {messages[0].id}"),
    ]
    (sent,) = hub.twilio.messages()
    assert (sent["To"], sent["From"], sent["Body"]) == (CALLER, NUMBER, f"echo {messages[0].id}")
    assert sent["StatusCallback"] == PUBLIC + "/channels/twilio/status"
    with hub.container.uow() as uow:
        reply = uow.workspace(hub.workspace_id).messages.get(messages[1].id)
    assert reply.provider_message_id.startswith("SM")
    status = {"MessageSid": reply.provider_message_id, "From": NUMBER, "To": CALLER,
              "AccountSid": SID, "ApiVersion": "2010-04-01"}  # fmt: skip
    assert (
        hub.post("/channels/twilio/status", status | {"MessageStatus": "delivered"}).status_code
        == 204
    )
    hub.post("/channels/twilio/status", status | {"MessageStatus": "sent"})  # late: no effect
    _, messages = hub.thread()
    assert messages[1].delivery_status == DeliveryStatus.DELIVERED


def test_a_failed_text_says_what_the_error_code_means(hub: Hub):
    hub.container.channels.set_auto_reply(hub.workspace_id, "sms", False)
    hub.text("hello", "SM200")
    conversation, _ = hub.thread()
    message = hub.container.conversations.reply(
        hub.workspace_id, conversation.id, hub.member_id, "Hi!"
    )
    with hub.container.uow() as uow:
        sid = uow.workspace(hub.workspace_id).messages.get(message.id).provider_message_id
    form = {"MessageSid": sid, "From": NUMBER, "To": CALLER, "MessageStatus": "undelivered",
            "ErrorCode": "30007"}  # fmt: skip
    hub.post("/channels/twilio/status", form)
    with hub.container.uow() as uow:
        failed = uow.workspace(hub.workspace_id).messages.get(message.id)
    assert failed.delivery_status == DeliveryStatus.FAILED
    assert (
        "30007" in failed.meta["delivery"]["error"] and "spam" in failed.meta["delivery"]["error"]
    )


def test_mms_media_are_stored(hub: Hub):
    media = {"NumMedia": "1", "MediaUrl0": hub.twilio.url + "/media/photo.jpg",
             "MediaContentType0": "image/jpeg"}  # fmt: skip
    hub.text("", "MM300", **media)
    _, messages = hub.thread()
    assert messages[0].body == "(sent 1 file)" and "cannot see" in messages[0].meta["no_auto_reply"]
    (entry,) = messages[0].meta["attachments"]
    path = hub.container.attachments.path(hub.workspace_id, entry["stored"])
    assert path.read_bytes() == b"\xff\xd8jpeg" * 50 and entry["content_type"] == "image/jpeg"


def test_stop_blocks_texts_and_start_allows_them_again(hub: Hub):
    hub.text("Hi", "SM400")
    conversation, _ = hub.thread()
    sent = len(hub.twilio.messages())
    hub.text("Stop", "SM401")
    _, messages = hub.thread()
    assert "texted STOP" in messages[-1].meta["no_auto_reply"]
    assert len(hub.twilio.messages()) == sent  # the AI stays silent
    with pytest.raises(Conflict, match="texted STOP"):
        hub.container.conversations.reply(hub.workspace_id, conversation.id, hub.member_id, "?")
    window = hub.container.conversations.reply_window(hub.workspace_id, conversation.id)
    assert window.state == "closed"
    hub.text("START", "SM402")
    hub.container.conversations.reply(
        hub.workspace_id, conversation.id, hub.member_id, "Welcome back"
    )
    assert hub.twilio.messages()[-1]["Body"] == "Welcome back"


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),  # 153 per part
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("Bonjour ! Ça coûte 45 €.", "UCS-2", 1),  # ç and û are not GSM-7
        ("See you soon \U0001f600", "UCS-2", 1),  # an emoji takes two units
        ("\U0001f600" * 35, "UCS-2", 1),
        ("\U0001f600" * 36, "UCS-2", 2),  # 72 units: 67 per part
        ("{}" * 40, "GSM-7", 1),  # extended characters count twice: 160
        ("{}" * 41, "GSM-7", 2),
    ],
)
def test_segments(text, encoding, parts):
    found = segments(text)
    assert (found.encoding, found.parts) == (encoding, parts)


def test_opt_out_keywords():
    assert [keyword(w) for w in ("STOP", "stop all", "Unsubscribe", "quit.", "START", "yes",
                                 "help", "info", "stop please", "hi")] == [
        "stop", "stop", "stop", "stop", "start", "start", "help", "help", None, None,
    ]  # fmt: skip


def test_country_rules_and_the_daily_cap(sqlite_settings: Settings, twilio: FakeTwilio):
    us = _hub(sqlite_settings, twilio, number="+12125550123", daily_segments=3)
    try:
        service = us.container.conversations
        from agent.core.contacts import ContactDetails

        def start(phone: str, body: str = "Hello"):
            return service.start_conversation(
                us.workspace_id, us.member_id, "sms", body,
                new_contact=ContactDetails(phone=phone),
            )  # fmt: skip

        with pytest.raises(Conflict, match="A2P 10DLC"):
            start("+12125550199")
        start("+16045550142")  # a Canadian number: no A2P needed
        us.container.channels.connect_twilio(
            us.workspace_id, account_sid=SID, auth_token=TOKEN, number="+12125550123",
            a2p_registered=True, daily_segments=3,
        )  # fmt: skip
        start("+12125550199", "a" * 200)  # 2 segments: 3 today
        with pytest.raises(Conflict, match="daily limit of 3 SMS segments"):
            start("+12125550198")
        assert len(twilio.messages()) == 2  # refused before calling Twilio
    finally:
        us.container.engine.dispose()
    ca = _hub(sqlite_settings, twilio)
    try:
        from agent.core.contacts import ContactDetails

        with pytest.raises(Conflict, match="only text US and Canadian numbers"):
            ca.container.conversations.start_conversation(
                ca.workspace_id, ca.member_id, "sms", "Hi",
                new_contact=ContactDetails(phone="+442071838750"),
            )  # fmt: skip
    finally:
        ca.container.engine.dispose()


def test_ai_texts_are_kept_to_two_segments_when_sentences_allow():
    from agent.core.sms import brief

    long = " ".join(["We are open from nine to five on weekdays."] * 12)
    short = brief(long)
    assert segments(short).parts <= 2 and long.startswith(short)
    assert brief("Short.") == "Short."


def test_a_conversation_staff_start_by_sms_is_where_the_answer_lands(hub: Hub):
    from agent.core.contacts import ContactDetails

    service = hub.container.conversations
    started = service.start_conversation(
        hub.workspace_id, hub.member_id, "sms", "Your bike is ready!",
        new_contact=ContactDetails(first_name="Lee", phone="604 555 0142"),
    )  # fmt: skip
    hub.text("Great, coming at 5", "SM900")
    conversation, messages = hub.thread()
    assert conversation.id == started.id  # the answer joined it
    assert [m.body for m in messages] == ["Your bike is ready!", "Great, coming at 5"]
    again = service.start_conversation(
        hub.workspace_id, hub.member_id, "sms", "See you then", contact_id=started.contact_id
    )
    assert again.id == started.id  # one thread per number, not a second conversation

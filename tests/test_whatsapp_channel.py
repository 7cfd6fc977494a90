"""WhatsApp (Cloud API) end to end: signed webhooks in, messages and templates out.

The real Flask app (its test client) receives signed webhook bodies in the Cloud API's
shapes; no Redis, so the webhook job, the AI turn (an echoing responder through the
real service) and the delivery run inline. ``FakeGraph`` plays the Graph API.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from agent.config import Settings
from agent.core.clock import FixedClock
from agent.core.contacts import ContactDetails
from agent.core.errors import Conflict, ValidationError
from agent.core.models import AuthorKind, DeliveryStatus, Direction, Mode, TemplateStatus
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from tests import whatsapp_samples as wa
from tests.conftest import NOW, EchoResponder, make_workspace
from tests.graph_server import FakeGraph
from tests.meta_samples import signed

SECRET = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
VERIFY = "wa-verify-token-77"
TOKEN = "EAAJB0wa0cloudapitoken"
HOOK = "/channels/whatsapp/webhook"
JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 100


@dataclass
class Hub:
    container: Container
    client: object
    graph: FakeGraph
    clock: FixedClock
    workspace_id: int
    member_id: int

    def post(self, *changes: dict, secret: str = SECRET):
        raw, headers = signed(wa.envelope(*changes), secret)
        return self.client.post(HOOK, data=raw, headers=headers)

    def says(self, text: str, wamid: str, **kw):
        return self.post(wa.message("text", {"body": text}, wamid=wamid, at=self.clock(), **kw))

    def thread(self, wa_id: str = wa.CUSTOMER):
        with self.container.uow() as uow:
            repo = uow.workspace(self.workspace_id)
            conversation = repo.conversations.by_thread("whatsapp", wa_id)
            messages = list(repo.messages.for_conversation(conversation.id))
            contact = repo.contacts.get(conversation.contact_id)
        return conversation, messages, contact

    def approved(self, body: str = "Hi {{1}}, this is {{2}} following up on your enquiry."):
        templates = self.container.whatsapp_templates
        template = templates.create(
            self.workspace_id,
            {"name": "enquiry_follow_up", "category": "UTILITY", "language": "en", "body": body},
        )
        templates.submit(self.workspace_id, template.id)
        self.post(wa.template_update("enquiry_follow_up", "APPROVED"))
        return templates.get(self.workspace_id, template.id)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    server = FakeGraph(media={"1037543291543636": ("image/jpeg", JPEG)}, token=TOKEN)
    yield server
    server.close()


def _connect(container: Container, workspace_id: int, tier: int = 250) -> None:
    container.channels.connect_whatsapp(
        workspace_id,
        phone_number_id=wa.PHONE_NUMBER_ID,
        waba_id=wa.WABA_ID,
        display_number="+1 650 253 0000",
        access_token=TOKEN,
        app_secret=SECRET,
        verify_token=VERIFY,
        tier=tier,
    )


@pytest.fixture
def hub(sqlite_settings: Settings, graph: FakeGraph) -> Iterator[Hub]:
    clock = FixedClock(NOW)
    responder = EchoResponder()
    settings = replace(sqlite_settings, meta_graph_url=graph.url)
    container = build(settings, redis_url="", clock=clock, responder_override=responder)
    responder.service, responder.uow = container.conversations, container.uow
    app, _ = create_app(container, testing=True)
    workspace, member = make_workspace(container, country="US")
    _connect(container, workspace.id)
    try:
        yield Hub(container, app.test_client(), graph, clock, workspace.id, member.id)
    finally:
        container.engine.dispose()


def _stored(hub: Hub, message_id: int):
    with hub.container.uow() as uow:
        return uow.workspace(hub.workspace_id).messages.get(message_id)


# -- the webhook --------------------------------------------------------------------------


def test_signatures_and_the_handshake(hub: Hub):
    change = wa.message("text", {"body": "Hi"}, wamid="wamid.sig", at=NOW)
    raw, headers = signed(wa.envelope(change), SECRET)
    assert hub.client.post(HOOK, data=raw, headers={}).status_code == 403  # missing
    assert hub.post(change, secret="some-other-secret").status_code == 403  # wrong secret
    tampered = raw.replace(b'"Hi"', b'"Ho"')
    assert hub.client.post(HOOK, data=tampered, headers=headers).status_code == 403  # changed
    assert hub.client.post(HOOK, data=raw, headers=headers).status_code == 200
    ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "8812"}
    assert hub.client.get(HOOK, query_string=ok).get_data(as_text=True) == "8812"
    assert hub.client.get(HOOK, query_string=ok | {"hub.verify_token": "x"}).status_code == 403
    # Messenger's verify token does not open WhatsApp's webhook, nor the reverse.
    assert hub.client.get("/channels/meta/webhook", query_string=ok).status_code == 403


def test_a_text_is_stored_answered_once_quoting_it(hub: Hub):
    assert hub.says("Do you open on Sundays?", "wamid.in.1").status_code == 200
    assert hub.says("Do you open on Sundays?", "wamid.in.1").status_code == 200  # a retry
    conversation, messages, contact = hub.thread()
    assert [(m.author_kind, m.body) for m in messages] == [
        (AuthorKind.CONTACT, "Do you open on Sundays?"),
        (AuthorKind.AI, f"echo {messages[0].id}"),
    ]
    assert (contact.first_name, contact.last_name, contact.phone) == (
        "Kerry",
        "Fisher",
        "+16505551234",
    )
    assert conversation.provider_thread_id == wa.CUSTOMER
    (send,) = hub.graph.requests
    assert send.path == f"/v21.0/{wa.PHONE_NUMBER_ID}/messages"
    assert send.headers["authorization"] == f"Bearer {TOKEN}"
    assert send.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa.CUSTOMER,
        "type": "text",
        "text": {"preview_url": False, "body": f"echo {messages[0].id}"},
        "context": {"message_id": "wamid.in.1"},
    }
    assert _stored(hub, messages[1].id).provider_message_id.startswith("wamid.")


def test_every_inbound_type(hub: Hub):
    at = hub.clock()
    hub.says("Hello", "wamid.t0")
    _, messages, _ = hub.thread()
    ours = _stored(hub, messages[1].id).provider_message_id
    changes = [
        wa.message("image", {"id": "1037543291543636", "mime_type": "image/jpeg", "sha256": "x",
                             "caption": "Is this part in stock?"}, wamid="wamid.t1", at=at),
        wa.message("document", {"id": "404", "mime_type": "application/pdf",
                                "filename": "quote.pdf"}, wamid="wamid.t2", at=at),
        wa.message("location", {"latitude": 38.9, "longitude": -77.03, "name": "Philz Coffee",
                                "address": "1 Main St"}, wamid="wamid.t3", at=at),
        wa.message("contacts", None, wamid="wamid.t4", at=at, extra={"contacts": [
            {"name": {"formatted_name": "Ana Lopez", "first_name": "Ana"},
             "phones": [{"phone": "+1 555 010 0200", "type": "CELL"}]}]}),
        wa.message("interactive", {"type": "button_reply",
                                   "button_reply": {"id": "slot-9", "title": "9:00 am"}},
                   wamid="wamid.t5", at=at),
        wa.message("interactive", {"type": "list_reply", "list_reply": {
            "id": "svc-2", "title": "Tune-up", "description": "A standard service"}},
                   wamid="wamid.t6", at=at),
        wa.message("button", {"payload": "STOP_PROMOS", "text": "Stop promotions"},
                   wamid="wamid.t7", at=at),
        wa.message("reaction", {"message_id": ours, "emoji": "\U0001f44d"}, wamid="wamid.t8",
                   at=at),
        wa.message("unsupported", None, wamid="wamid.t9", at=at, extra={"errors": [
            {"code": 131051, "title": "Message type unknown"}]}),
        wa.message("text", {"body": "thanks!"}, wamid="wamid.t10", at=at, context=ours),
    ]  # fmt: skip
    assert hub.post(*changes).status_code == 200
    _, messages, _ = hub.thread()
    got = {m.provider_message_id: m for m in messages if m.direction == Direction.INBOUND}
    photo = got["wamid.t1"]
    assert photo.body == "Is this part in stock?" and "no_auto_reply" not in photo.meta
    (attachment,) = photo.meta["attachments"]
    assert attachment["size"] == len(JPEG) and attachment["content_type"] == "image/jpeg"
    path = hub.container.attachments.path(hub.workspace_id, attachment["stored"])
    assert path.read_bytes() == JPEG
    pdf = got["wamid.t2"]  # Meta does not know media 404: kept, with why it is missing
    assert pdf.body == "(sent a document)" and "not stored" in pdf.meta["attachments"][0]["note"]
    assert "cannot see" in pdf.meta["no_auto_reply"]
    assert got["wamid.t3"].body == "Location: Philz Coffee, 1 Main St (38.9, -77.03)"
    assert got["wamid.t3"].meta["location"]["latitude"] == 38.9
    assert "leaves to your team" in got["wamid.t3"].meta["no_auto_reply"]
    assert got["wamid.t4"].body == "Shared contact: Ana Lopez +1 555 010 0200"
    assert (got["wamid.t5"].body, got["wamid.t5"].meta["quick_reply"]) == ("9:00 am", "slot-9")
    assert (got["wamid.t6"].body, got["wamid.t6"].meta["quick_reply"]) == ("Tune-up", "svc-2")
    assert got["wamid.t7"].body == "Stop promotions"
    assert "wamid.t8" not in got  # a reaction is not a message...
    assert _stored(hub, messages[1].id).meta["reactions"] == {wa.CUSTOMER: "\U0001f44d"}
    assert got["wamid.t9"].body == "(a message WhatsApp does not support here)"
    assert got["wamid.t10"].meta["reply_to"]["excerpt"] == messages[1].body
    # ...and taking it back removes it.
    hub.post(wa.message("reaction", {"message_id": ours, "emoji": ""}, wamid="wamid.t11", at=at))
    assert _stored(hub, messages[1].id).meta["reactions"] == {}


def test_media_over_the_limit_is_not_downloaded(hub: Hub):
    hub.graph.media["77"] = ("video/mp4", b"v" * 2048)
    hub.container.whatsapp_inbound._max_media_bytes = 1024
    video = {"id": "77", "mime_type": "video/mp4"}
    hub.post(wa.message("video", video, wamid="wamid.big", at=hub.clock()))
    _, messages, _ = hub.thread()
    (entry,) = messages[0].meta["attachments"]
    assert "stored" not in entry and "over 1,024 bytes" in entry["note"]
    assert not [r for r in hub.graph.requests if r.path.startswith("/files/")]


def test_statuses_move_forward_only_and_failures_say_why(hub: Hub):
    hub.says("first", "wamid.s1")
    _, messages, _ = hub.thread()
    ours = _stored(hub, messages[1].id).provider_message_id
    at = hub.clock()
    for state in ("read", "delivered", "sent"):  # out of order: read arrives first
        hub.post(wa.status(ours, state, at=at))
    assert _stored(hub, messages[1].id).delivery_status == DeliveryStatus.READ
    hub.clock.advance(minutes=1)
    hub.says("second", "wamid.s2")
    _, messages, _ = hub.thread()
    second = _stored(hub, messages[-1].id)
    hub.post(wa.status(second.provider_message_id, "failed", at=at, errors=[wa.RE_ENGAGEMENT]))
    second = _stored(hub, second.id)
    assert second.delivery_status == DeliveryStatus.FAILED
    error = second.meta["delivery"]["error"]
    assert "Re-engagement message (131047)" in error and "send a template" in error
    hub.post(wa.status(second.provider_message_id, "delivered", at=at))  # late: no effect
    assert _stored(hub, second.id).delivery_status == DeliveryStatus.FAILED


# -- the 24-hour window, templates and the cap -------------------------------------------


EDGES = [(timedelta(hours=23, minutes=59), True), (timedelta(hours=24, minutes=1), False)]


@pytest.mark.parametrize(("after", "inside"), EDGES)
def test_the_window_edges_with_a_frozen_clock(hub: Hub, after, inside):
    template = hub.approved()
    hub.container.channels.set_auto_reply(hub.workspace_id, "whatsapp", False)
    hub.says("Is my bike ready?", "wamid.w1")
    conversation, _, _ = hub.thread()
    hub.container.channels.set_auto_reply(hub.workspace_id, "whatsapp", True)
    hub.clock.advance(seconds=after.total_seconds())
    service = hub.container.conversations
    posted = service.post_ai_reply(hub.workspace_id, conversation.id, "AI: yes it is")
    window = service.reply_window(hub.workspace_id, conversation.id)
    if inside:
        assert posted is not None and window.state == "open"
        service.reply(hub.workspace_id, conversation.id, hub.member_id, "Yes, ready!")
        assert hub.graph.sends()[-1]["text"]["body"] == "Yes, ready!"
        return
    assert posted is None and window.state == "templates_only"
    assert window.closed_at == NOW + timedelta(hours=24)
    conversation, messages, _ = hub.thread()
    assert conversation.mode == Mode.HUMAN and "too late for the AI" in messages[-1].body
    sends = len(hub.graph.sends())
    with pytest.raises(Conflict, match="only allows an approved template"):
        service.reply(hub.workspace_id, conversation.id, hub.member_id, "Yes, ready!")
    assert len(hub.graph.sends()) == sends
    sent = service.send_template(
        hub.workspace_id, conversation.id, hub.member_id, template.id, ["Kerry", "Bayside"]
    )
    assert sent.body == "Hi Kerry, this is Bayside following up on your enquiry."
    assert hub.graph.sends()[-1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa.CUSTOMER,
        "type": "template",
        "template": {
            "name": "enquiry_follow_up",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Kerry"},
                        {"type": "text", "text": "Bayside"},
                    ],
                }
            ],
        },
    }
    assert _stored(hub, sent.id).meta["template"]["business_initiated"] is True


def test_template_lifecycle_from_draft_to_approved_rejected_paused(hub: Hub):
    templates = hub.container.whatsapp_templates
    with pytest.raises(ValidationError, match="lowercase"):
        templates.create(hub.workspace_id, {"name": "Hello There", "category": "UTILITY",
                                            "language": "en", "body": "Hi"})  # fmt: skip
    with pytest.raises(ValidationError, match="no gaps"):
        templates.create(hub.workspace_id, {"name": "gap", "category": "UTILITY",
                                            "language": "en", "body": "Hi {{2}}"})  # fmt: skip
    template = templates.create(
        hub.workspace_id,
        {"name": "spring_offer", "category": "MARKETING", "language": "en_US",
         "body": "Hi {{1}}, spring tune-ups are {{2}} off!", "header": "Spring",
         "buttons": "Book now\nNo thanks"},
    )  # fmt: skip
    assert template.status == TemplateStatus.DRAFT
    submitted = templates.submit(hub.workspace_id, template.id)
    assert submitted.status == TemplateStatus.PENDING and submitted.provider_id
    request = hub.graph.requests[-1]
    assert request.path == f"/v21.0/{wa.WABA_ID}/message_templates"
    assert request.body == {
        "name": "spring_offer",
        "category": "MARKETING",
        "language": "en_US",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Spring"},
            {"type": "BODY", "text": "Hi {{1}}, spring tune-ups are {{2}} off!",
             "example": {"body_text": [["example 1", "example 2"]]}},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Book now"},
                                            {"type": "QUICK_REPLY", "text": "No thanks"}]},
        ],
    }  # fmt: skip
    hub.says("hi", "wamid.l1")
    conversation, _, _ = hub.thread()
    service = hub.container.conversations
    with pytest.raises(Conflict, match="pending"):
        service.send_template(hub.workspace_id, conversation.id, hub.member_id, template.id,
                              ["Kerry", "20%"])  # fmt: skip
    for event, reason, status in [
        ("APPROVED", "NONE", TemplateStatus.APPROVED),
        ("PAUSED", "Low quality", TemplateStatus.PAUSED),
        ("DISABLED", "NONE", TemplateStatus.DISABLED),
        ("REJECTED", "INVALID_FORMAT", TemplateStatus.REJECTED),
    ]:
        hub.post(wa.template_update("spring_offer", event, reason, language="en_US"))
        found = templates.get(hub.workspace_id, template.id)
        assert found.status == status
        assert found.reason == ("" if reason == "NONE" else reason)


def test_the_business_initiated_cap_refuses_before_calling_the_api(hub: Hub):
    _connect(hub.container, hub.workspace_id, tier=2)
    template = hub.approved()
    service = hub.container.conversations
    for n in range(2):
        service.start_conversation(
            hub.workspace_id, hub.member_id, "whatsapp", "",
            new_contact=ContactDetails(first_name=f"C{n}", phone=f"+1 650 555 010{n}"),
            template_id=template.id, values=[f"C{n}", "Bayside"],
        )  # fmt: skip
    sends = len(hub.graph.sends())
    with pytest.raises(Conflict, match=r"limit of 2 business-initiated .* frees up at 18:00 UTC"):
        service.start_conversation(
            hub.workspace_id, hub.member_id, "whatsapp", "",
            new_contact=ContactDetails(first_name="C3", phone="+1 650 555 0109"),
            template_id=template.id, values=["C3", "Bayside"],
        )  # fmt: skip
    assert len(hub.graph.sends()) == sends
    hub.clock.advance(hours=24, seconds=1)  # the moving 24 hours passed
    service.start_conversation(
        hub.workspace_id, hub.member_id, "whatsapp", "",
        new_contact=ContactDetails(first_name="C3", phone="+1 650 555 0109"),
        template_id=template.id, values=["C3", "Bayside"],
    )  # fmt: skip
    assert hub.graph.sends()[-1]["to"] == "16505550109"


def test_a_new_whatsapp_conversation_starts_only_with_a_template(hub: Hub):
    with pytest.raises(ValidationError, match="only start with an approved template"):
        hub.container.conversations.start_conversation(
            hub.workspace_id, hub.member_id, "whatsapp", "Hello!",
            new_contact=ContactDetails(phone="+1 650 555 0111"),
        )  # fmt: skip
    template = hub.approved()
    conversation = hub.container.conversations.start_conversation(
        hub.workspace_id, hub.member_id, "whatsapp", "",
        new_contact=ContactDetails(first_name="Lee", phone="+1 650 555 0111"),
        template_id=template.id, values=["Lee", "Bayside"],
    )  # fmt: skip
    hub.says("Yes please, call me", "wamid.back", wa_id="16505550111", name="Lee Park")
    joined, messages, _ = hub.thread("16505550111")
    assert joined.id == conversation.id  # the answer joins the conversation we started
    assert [m.author_kind for m in messages][:2] == [AuthorKind.STAFF, AuthorKind.CONTACT]


def test_cloud_api_errors_become_the_right_send_errors():
    from agent.core.errors import PermanentSendError, TransientSendError
    from channels.meta.graph import GraphError
    from channels.whatsapp.sender import send_error

    expired = send_error(GraphError(401, code=190, message="Error validating access token"))
    assert isinstance(expired, PermanentSendError) and expired.account_problem
    limited = send_error(GraphError(400, code=131056, message="(#131056) Pair rate limit hit"))
    assert isinstance(limited, TransientSendError) and "wait a moment" in limited.reason
    window = send_error(GraphError(400, code=131047, message="Re-engagement message"))
    assert isinstance(window, PermanentSendError) and not window.account_problem
    assert "send a template" in window.reason
    assert isinstance(send_error(GraphError(0, message="connection refused")), TransientSendError)
    assert isinstance(send_error(GraphError(503, code=0, message="down")), TransientSendError)


def test_garbage_payloads_read_as_nothing():
    from channels.whatsapp.events import parse

    for garbage in (None, [], {"object": "page"}, {"object": "whatsapp_business_account",
                    "entry": [None, {"changes": "x"}, {"changes": [{"field": "messages",
                    "value": {"metadata": {}, "messages": [{"type": "text"}]}}]}]}):  # fmt: skip
        read = parse(garbage)
        assert read.messages == [] and read.statuses == [] and read.templates == []

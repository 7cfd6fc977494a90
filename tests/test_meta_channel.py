"""Messenger and Instagram end to end: Meta's webhook in, the Send API out.

A real Flask app (its test client) receives signed webhook bodies in Meta's shapes; no
Redis, so the webhook job, the AI turn (an echoing responder through the real service)
and the delivery run inline. Replies go to ``FakeGraph``, a local HTTP server speaking
the Graph API, which records every request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from agent.config import Settings
from agent.core.clock import FixedClock
from agent.core.errors import Conflict
from agent.core.models import AuthorKind, DeliveryStatus, Direction, Mode
from channels.meta.signature import sign, verify
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from tests import meta_samples as meta
from tests.conftest import NOW, EchoResponder, make_workspace
from tests.graph_server import FakeGraph

PAGE_ID = "104938223543921"
IG_ID = "17841405822304914"
PSID = "6243551872423191"
SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
VERIFY = "frontdesk-verify-3k29x"
TOKEN = "EAAGm0PX4ZCpsBAKmessengerpagetoken"
HOOK = "/channels/meta/webhook"
TAGGED = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
# Graph API errors as Meta's reference gives them.
OUTSIDE_WINDOW = {
    "message": "(#10) This message is sent outside of allowed window.",
    "code": 10,
    "error_subcode": 2018278,
}
EXPIRED = {
    "message": "Error validating access token: Session has expired on Tuesday.",
    "code": 190,
    "error_subcode": 463,
}
UNAVAILABLE = {
    "message": "(#551) This person isn't available right now.",
    "code": 551,
    "error_subcode": 1545041,
}


@dataclass
class Meta:
    container: Container
    client: object
    graph: FakeGraph
    clock: FixedClock
    responder: EchoResponder
    workspace_id: int
    member_id: int

    def post(self, body: dict | bytes, secret: str = SECRET, headers: dict | None = None):
        raw, signed = meta.signed(body, secret)
        return self.client.post(HOOK, data=raw, headers=headers if headers is not None else signed)

    def thread(self, channel: str = "messenger", user: str = PSID):
        with self.container.uow() as uow:
            repo = uow.workspace(self.workspace_id)
            conversation = repo.conversations.by_thread(channel, user)
            messages = list(repo.messages.for_conversation(conversation.id))
            contact = repo.contacts.get(conversation.contact_id)
        return conversation, messages, contact


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    server = FakeGraph(profiles={PSID: {"first_name": "Rosa", "last_name": "Delgado"}})
    yield server
    server.close()


@pytest.fixture
def hub(sqlite_settings: Settings, graph: FakeGraph) -> Iterator[Meta]:
    clock = FixedClock(NOW)
    responder = EchoResponder()
    settings = replace(sqlite_settings, meta_graph_url=graph.url)
    container = build(settings, redis_url="", clock=clock, responder_override=responder)
    responder.service, responder.uow = container.conversations, container.uow
    app, _ = create_app(container, testing=True)
    workspace, member = make_workspace(container)
    container.channels.connect_meta(
        workspace.id,
        "messenger",
        PAGE_ID,
        access_token=TOKEN,
        app_secret=SECRET,
        verify_token=VERIFY,
    )
    try:
        yield Meta(container, app.test_client(), graph, clock, responder, workspace.id, member.id)
    finally:
        container.engine.dispose()


def text(mid: str, words: str, user: str = PSID, account: str = PAGE_ID, **kw) -> dict:
    return meta.event(meta.MESSAGE, psid=user, page_id=account, mid=mid, **kw) | {
        "message": {"mid": mid, "text": words}
    }


# -- signatures and the handshake ---------------------------------------------------------


def test_signature_vectors():
    body = b'{"object":"page","entry":[]}'
    good = sign(body, SECRET)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify(body, good, SECRET)
    assert not verify(body, None, SECRET) and not verify(body, "", SECRET)  # missing
    assert not verify(body, sign(body, "another-app-secret"), SECRET)  # wrong secret
    assert not verify(body + b" ", good, SECRET)  # the body changed after signing
    assert not verify(body, good.replace("sha256=", "sha1="), SECRET)
    assert not verify(body, good.upper(), SECRET)


def test_webhook_refuses_what_is_not_signed_by_the_connected_app(hub: Meta):
    body = meta.payload(PAGE_ID, text("m_1", "Hi"))
    raw, headers = meta.signed(body, SECRET)
    assert hub.client.post(HOOK, data=raw, headers={}).status_code == 403  # missing
    assert hub.post(body, secret="not-the-app-secret").status_code == 403  # wrong secret
    changed = raw.replace(b"Hi", b"Ho")  # the body changed after signing
    assert hub.client.post(HOOK, data=changed, headers=headers).status_code == 403
    other_page = meta.payload("999999", text("m_2", "Hi"))  # nobody's Page here
    assert hub.post(other_page).status_code == 403
    with hub.container.uow() as uow:
        assert not uow.workspace(hub.workspace_id).conversations.search(limit=5)
    assert hub.post(body).status_code == 200  # the real thing
    assert hub.graph.sends()  # answered


def test_handshake_echoes_the_challenge_only_for_a_connected_verify_token(hub: Meta):
    ok = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = hub.client.get(HOOK, query_string=ok)
    assert response.status_code == 200 and response.get_data(as_text=True) == "1158201444"
    for wrong in (
        {"hub.verify_token": "guess"},
        {"hub.mode": "unsubscribe"},
        {"hub.challenge": ""},
    ):
        assert hub.client.get(HOOK, query_string=ok | wrong).status_code == 403


def test_oversized_and_malformed_bodies_are_refused(hub: Meta):
    raw = b"{" + b" " * (1024 * 1024) + b"}"
    assert (
        hub.client.post(
            HOOK, data=raw, headers={"X-Hub-Signature-256": sign(raw, SECRET)}
        ).status_code
        == 413
    )
    raw = b"not json"
    assert (
        hub.client.post(
            HOOK, data=raw, headers={"X-Hub-Signature-256": sign(raw, SECRET)}
        ).status_code
        == 400
    )


# -- inbound ------------------------------------------------------------------------------


def test_a_message_is_stored_with_the_profile_name_and_answered_once(hub: Meta):
    body = meta.payload(PAGE_ID, text("m_in_1", "Do you take walk-ins?"))
    assert hub.post(body).status_code == 200
    assert hub.post(body).status_code == 200  # Meta retries: the same mid again
    conversation, messages, contact = hub.thread()
    assert [(m.author_kind, m.body) for m in messages] == [
        (AuthorKind.CONTACT, "Do you take walk-ins?"),
        (AuthorKind.AI, f"echo {messages[0].id}"),
    ]
    assert conversation.channel == "messenger" and conversation.provider_thread_id == PSID
    assert (contact.first_name, contact.last_name) == ("Rosa", "Delgado")
    profile_reads = [r for r in hub.graph.requests if r.method == "GET"]
    assert len(profile_reads) == 1 and profile_reads[0].path.endswith(f"/{PSID}")
    assert profile_reads[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in profile_reads[0].query  # never in a URL
    (send,) = [r for r in hub.graph.requests if r.method == "POST"]
    assert send.path == f"/v21.0/{PAGE_ID}/messages"
    assert send.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": f"echo {messages[0].id}"},
    }
    with hub.container.uow() as uow:
        sent = uow.workspace(hub.workspace_id).messages.get(messages[1].id)
    assert sent.delivery_status == DeliveryStatus.SENT
    assert sent.provider_message_id.startswith("m_0001")

    hub.post(meta.payload(PAGE_ID, text("m_in_2", "And on Sundays?")))
    assert len([r for r in hub.graph.requests if r.method == "GET"]) == 1  # fetched once


def test_no_profile_permission_still_stores_the_message(hub: Meta):
    hub.post(meta.payload(PAGE_ID, text("m_x", "hello", user="7000000000000001")))
    _, messages, contact = hub.thread(user="7000000000000001")
    assert messages[0].body == "hello" and contact.first_name == ""


def test_attachments_quick_replies_and_reply_to(hub: Meta):
    hub.post(meta.payload(PAGE_ID, text("m_a", "Hello")))
    _, messages, _ = hub.thread()
    ours = messages[1].provider_message_id
    with hub.container.uow() as uow:
        ours = uow.workspace(hub.workspace_id).messages.get(messages[1].id).provider_message_id
    events = [
        meta.event(meta.QUICK_REPLY, psid=PSID, page_id=PAGE_ID, mid="m_b"),
        meta.event(meta.REPLY_TO, psid=PSID, page_id=PAGE_ID, mid="m_c", reply_to_mid=ours),
        meta.event(meta.ATTACHMENT, psid=PSID, page_id=PAGE_ID, mid="m_d"),
    ]
    assert hub.post(meta.payload(PAGE_ID, *events)).status_code == 200
    _, messages, _ = hub.thread()
    inbound = {m.provider_message_id: m for m in messages if m.direction == Direction.INBOUND}
    assert inbound["m_b"].body == "Red"
    assert inbound["m_b"].meta["quick_reply"] == "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED"
    assert inbound["m_c"].meta["reply_to"] == {
        "mid": ours,
        "message_id": messages[1].id,
        "excerpt": messages[1].body,
    }
    photo = inbound["m_d"]
    assert photo.body == "(sent image)"
    assert photo.meta["attachments"] == [
        {
            "name": "image",
            "content_type": "image",
            "link": "https://scontent.xx.fbcdn.net/v/photo.jpg",
        }
    ]
    assert "cannot see" in photo.meta["no_auto_reply"]
    # The AI answered the texts (one reply covers the quick reply and the reply_to), never
    # the bare photo.
    answered = {m.reply_to_id for m in messages if m.author_kind == AuthorKind.AI}
    assert photo.id not in answered


def test_echoes_of_our_sends_are_skipped_and_a_persons_are_recorded_as_staff(hub: Meta):
    hub.post(meta.payload(PAGE_ID, text("m_q", "Is the shop open?")))
    _, messages, _ = hub.thread()
    with hub.container.uow() as uow:
        ours = uow.workspace(hub.workspace_id).messages.get(messages[1].id)
    echo_of_ours = meta.event(
        meta.ECHO, psid=PSID, page_id=PAGE_ID, mid=ours.provider_message_id, text=ours.body
    )
    person = meta.event(
        meta.ECHO, psid=PSID, page_id=PAGE_ID, mid="m_app_1", text="Yes, until 6pm! - Dana"
    )
    assert hub.post(meta.payload(PAGE_ID, echo_of_ours, person)).status_code == 200
    assert hub.post(meta.payload(PAGE_ID, person)).status_code == 200  # retried
    conversation, messages, _ = hub.thread()
    staff = [m for m in messages if m.author_kind == AuthorKind.STAFF]
    assert [(m.body, m.delivery_status, m.meta.get("echo")) for m in staff] == [
        ("Yes, until 6pm! - Dana", DeliveryStatus.SENT, True)
    ]
    assert conversation.mode == Mode.HUMAN  # a person is answering in Meta's app
    assert any(
        "replied from the Messenger app" in m.body
        for m in messages
        if m.direction == Direction.INTERNAL
    )
    sends = len(hub.graph.sends())
    hub.post(meta.payload(PAGE_ID, text("m_r", "Great, thanks")))
    assert len(hub.graph.sends()) == sends  # the AI stays silent; the echo was never sent


def test_deliveries_and_reads_move_status_forward_only(hub: Meta):
    hub.post(meta.payload(PAGE_ID, text("m_1", "first")))
    hub.clock.advance(minutes=1)
    hub.post(meta.payload(PAGE_ID, text("m_2", "second")))
    _, messages, _ = hub.thread()
    replies = [m for m in messages if m.author_kind == AuthorKind.AI]
    with hub.container.uow() as uow:
        repo = uow.workspace(hub.workspace_id)
        first, second = (repo.messages.get(m.id).provider_message_id for m in replies)
    read_first = meta.event(meta.READ, psid=PSID, page_id=PAGE_ID, at=replies[0].created_at)
    delivered = meta.event(meta.DELIVERY, psid=PSID, page_id=PAGE_ID, mid=first)
    # Out of order: the read arrives before the delivery of the same message.
    hub.post(meta.payload(PAGE_ID, read_first))
    hub.post(meta.payload(PAGE_ID, delivered))
    hub.post(
        meta.payload(PAGE_ID, meta.event(meta.DELIVERY, psid=PSID, page_id=PAGE_ID, mid=second))
    )
    _, messages, _ = hub.thread()
    statuses = [m.delivery_status for m in messages if m.author_kind == AuthorKind.AI]
    assert statuses == [DeliveryStatus.READ, DeliveryStatus.DELIVERED]


def test_instagram_dms_in_comments_and_standby_out(hub: Meta):
    hub.container.channels.connect_meta(
        hub.workspace_id,
        "instagram",
        IG_ID,
        access_token=TOKEN,
        app_secret=SECRET,
        verify_token=VERIFY,
    )
    hub.graph.profiles["5566778899"] = {"name": "Ana Sousa", "username": "ana.s"}
    dm = text("ig_m_1", "Olá! Do you ship to Portugal?", user="5566778899", account=IG_ID)
    comment = json.loads(json.dumps(meta.INSTAGRAM_COMMENT).replace("<PSID>", "5566778899"))
    standby = text("ig_m_2", "handled by another app", user="5566778899", account=IG_ID)
    body = meta.payload(IG_ID, dm, instagram=True, changes=[comment], standby=[standby])
    assert hub.post(body).status_code == 200
    _, messages, contact = hub.thread("instagram", "5566778899")
    assert [m.body for m in messages if m.direction == Direction.INBOUND] == [
        "Olá! Do you ship to Portugal?"
    ]
    assert (contact.first_name, contact.last_name) == ("Ana", "Sousa")
    send = hub.graph.sends()[-1]
    assert hub.graph.requests[-1].path == f"/v21.0/{IG_ID}/messages"
    assert send["recipient"] == {"id": "5566778899"} and send["messaging_type"] == "RESPONSE"
    seen = meta.event(
        meta.INSTAGRAM_SEEN, psid="5566778899", page_id=IG_ID, mid=_sent_id(hub, messages)
    )
    hub.post(meta.payload(IG_ID, seen, instagram=True))
    _, messages, _ = hub.thread("instagram", "5566778899")
    assert [m.delivery_status for m in messages if m.author_kind == AuthorKind.AI] == [
        DeliveryStatus.READ
    ]


def _sent_id(hub: Meta, messages) -> str:
    ai = next(m for m in messages if m.author_kind == AuthorKind.AI)
    with hub.container.uow() as uow:
        return uow.workspace(hub.workspace_id).messages.get(ai.id).provider_message_id


# -- the windows --------------------------------------------------------------------------


def _customer_wrote(hub: Meta) -> int:
    hub.container.channels.set_auto_reply(hub.workspace_id, "messenger", False)
    hub.post(meta.payload(PAGE_ID, text("m_w", "Can I change my booking?")))
    conversation, _, _ = hub.thread()
    return conversation.id


@pytest.mark.parametrize(
    ("after", "ai", "staff", "sent_as"),
    [
        (timedelta(hours=23, minutes=59), True, True, {"messaging_type": "RESPONSE"}),
        (timedelta(hours=24, minutes=1), False, True, TAGGED),
        (timedelta(days=6, hours=23), False, True, TAGGED),
        (timedelta(days=7, minutes=1), False, False, None),
    ],
)  # fmt: skip
def test_who_may_reply_and_how_with_a_frozen_clock(hub: Meta, after, ai, staff, sent_as):
    conversation_id = _customer_wrote(hub)
    hub.container.channels.set_auto_reply(hub.workspace_id, "messenger", True)
    hub.clock.advance(seconds=after.total_seconds())
    service = hub.container.conversations
    posted = service.post_ai_reply(hub.workspace_id, conversation_id, "An AI answer")
    assert (posted is not None) == ai
    conversation, messages, _ = hub.thread()
    if not ai:  # handed to staff with a note, nothing sent by the AI
        assert conversation.mode == Mode.HUMAN
        assert "too late for the AI" in messages[-1].body
    before = len(hub.graph.sends())
    if staff:
        service.reply(hub.workspace_id, conversation_id, hub.member_id, "Dana here, yes!")
        sent = hub.graph.sends()[-1]
        expected = {k: v for k, v in sent.items() if k in ("messaging_type", "tag")}
        assert expected == sent_as and sent["message"] == {"text": "Dana here, yes!"}
    else:
        with pytest.raises(Conflict, match="more than 7 days"):
            service.reply(hub.workspace_id, conversation_id, hub.member_id, "Dana here")
        assert len(hub.graph.sends()) == before
    window = service.reply_window(hub.workspace_id, conversation_id)
    assert (window.ai, window.staff) == (ai, staff)


def test_a_late_retry_is_checked_against_the_window_again(hub: Meta):
    conversation_id = _customer_wrote(hub)
    hub.graph.errors.append((503, {"message": "Service temporarily unavailable", "code": 2}))
    message = hub.container.conversations.reply(
        hub.workspace_id, conversation_id, hub.member_id, "Hi!"
    )
    hub.clock.advance(days=8)
    with hub.container.uow() as uow:
        stored = uow.workspace(hub.workspace_id).messages.get(message.id)
    assert stored.delivery_status == DeliveryStatus.QUEUED  # waiting for its retry
    hub.container.delivery.deliver(hub.workspace_id, message.id)
    with hub.container.uow() as uow:
        stored = uow.workspace(hub.workspace_id).messages.get(message.id)
    assert stored.delivery_status == DeliveryStatus.FAILED
    assert "more than 7 days" in stored.meta["delivery"]["error"]


# -- Send API errors and limits -----------------------------------------------------------


def _staff_reply(hub: Meta, body: str = "Sure!") -> object:
    conversation_id = _customer_wrote(hub)
    message = hub.container.conversations.reply(
        hub.workspace_id, conversation_id, hub.member_id, body
    )
    with hub.container.uow() as uow:
        return uow.workspace(hub.workspace_id).messages.get(message.id)


def test_outside_the_window_error_fails_the_message_with_an_explanation(hub: Meta):
    hub.graph.errors.append(
        (
            400,
            {
                "message": "(#10) This message is sent outside of allowed window.",
                "code": 10,
                "error_subcode": 2018278,
            },
        )
    )
    stored = _staff_reply(hub)
    assert stored.delivery_status == DeliveryStatus.FAILED
    assert "outside of the allowed window" in stored.meta["delivery"]["error"]
    state = {s.channel: s for s in hub.container.channels.states(hub.workspace_id)}["messenger"]
    assert state.state == "connected" and state.last_error == ""


def test_an_expired_token_shows_on_the_channel_card(hub: Meta):
    hub.graph.errors.append(
        (
            400,
            {
                "message": "Error validating access token: Session has expired on Tuesday.",
                "code": 190,
                "error_subcode": 463,
            },
        )
    )
    stored = _staff_reply(hub)
    assert stored.delivery_status == DeliveryStatus.FAILED
    state = {s.channel: s for s in hub.container.channels.states(hub.workspace_id)}["messenger"]
    assert state.state == "error" and "access token no longer works" in state.last_error
    assert TOKEN not in state.last_error


def test_an_unavailable_person_is_noted_on_the_card_without_breaking_the_account(hub: Meta):
    hub.graph.errors.append(
        (
            400,
            {
                "message": "(#551) This person isn't available right now.",
                "code": 551,
                "error_subcode": 1545041,
            },
        )
    )
    stored = _staff_reply(hub)
    assert stored.delivery_status == DeliveryStatus.FAILED
    state = {s.channel: s for s in hub.container.channels.states(hub.workspace_id)}["messenger"]
    assert state.state == "connected"
    assert "not available" in state.as_dict()["last_notice"]["text"]


def test_a_long_reply_goes_as_several_messages_within_the_limit(hub: Meta):
    long = " ".join(f"Line {n} of our detailed price list." for n in range(120))  # ~4,300 chars
    stored = _staff_reply(hub, long)
    parts = [s["message"]["text"] for s in hub.graph.sends()]
    assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
    assert " ".join(parts) == long
    assert stored.delivery_status == DeliveryStatus.SENT
    assert len(stored.meta["delivery"]["part_ids"]) == 3


def test_the_ai_is_told_to_keep_it_short_on_messaging_apps():
    from agent.core.models import Workspace
    from agent.graph.prompts import parse_context, system_prompt

    workspace = Workspace(name="Bayside Dental", timezone="America/Vancouver", country="CA")
    for channel in ("messenger", "instagram"):
        prompt = system_prompt(workspace, NOW, None, channel)
        assert "a few short sentences" in prompt and parse_context(prompt)["channel"] == channel
    assert "a few short sentences" not in system_prompt(workspace, NOW, None, "webchat")


def test_a_bad_event_is_dropped_without_losing_the_rest_of_the_batch(hub: Meta):
    empty = text("m_empty", "   ")  # nothing to show: skipped
    huge = text("m_huge", "x" * 10_001)  # over the message limit: refused, logged
    body = meta.payload(PAGE_ID, empty, huge, text("m_ok", "Still there?"))
    assert hub.post(body).status_code == 200
    _, messages, _ = hub.thread()
    assert [m.body for m in messages if m.direction == Direction.INBOUND] == ["Still there?"]


def test_with_redis_the_webhook_answers_at_once_and_a_worker_applies_it(
    sqlite_settings: Settings, graph: FakeGraph, redis_url: str, redis_conn
):
    settings = replace(sqlite_settings, meta_graph_url=graph.url)
    container = build(settings, redis_url=redis_url, clock=FixedClock(NOW))
    try:
        app, _ = create_app(container, testing=True)
        workspace, _ = make_workspace(container)
        container.channels.connect_meta(
            workspace.id, "messenger", PAGE_ID, access_token=TOKEN, app_secret=SECRET,
            verify_token=VERIFY,
        )  # fmt: skip
        container.channels.set_auto_reply(workspace.id, "messenger", False)
        raw, headers = meta.signed(meta.payload(PAGE_ID, text("m_rq", "Hello from rq")), SECRET)
        client = app.test_client()
        assert client.post(HOOK, data=raw, headers=headers).status_code == 200
        assert client.post(HOOK, data=raw, headers=headers).status_code == 200  # a retry
        with container.uow() as uow:
            assert not uow.workspace(workspace.id).conversations.search(limit=5)  # not yet
        container.worker(["default"]).work(burst=True)
        with container.uow() as uow:
            repo = uow.workspace(workspace.id)
            (conversation,) = repo.conversations.search(limit=5)
            messages = repo.messages.for_conversation(conversation.id)
        assert [m.body for m in messages] == ["Hello from rq"]  # once
    finally:
        container.engine.dispose()


@pytest.mark.parametrize(
    "garbage",
    [
        None, [], "page", {"object": "page"}, {"object": "page", "entry": "x"},
        {"object": "page", "entry": [None, 1, {"id": None}, {"id": "1", "messaging": "x"}]},
        {"object": "page", "entry": [{"id": "1", "messaging": [None, {"message": "x"},
            {"message": {"mid": 5}}, {"delivery": {"mids": "x"}}, {"read": {}}]}]},
        {"object": "whatsapp_business_account", "entry": [{"id": "1"}]},
    ],
)  # fmt: skip
def test_malformed_payloads_read_as_nothing(garbage):
    from channels.meta.events import parse

    read = parse(garbage)
    assert read.messages == [] and read.statuses == []


def test_postbacks_read_as_the_button_title():
    from channels.meta.events import parse

    postback = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1527459824,
        "postback": {"mid": "m_pb", "title": "Book a table", "payload": "BOOK"},
    }
    (message,) = parse(meta.payload(PAGE_ID, postback)).messages
    assert (message.text, message.quick_reply, message.mid) == ("Book a table", "BOOK", "m_pb")

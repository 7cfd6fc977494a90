"""Spam: the detection signals, blocked and known-good senders on the real inbound path
(SQLite and PostgreSQL), the Spam view and its actions over HTTP, and the labelled sample."""

from __future__ import annotations

import pytest

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.conversations.base import SENDER_RULES_TTL
from agent.core.errors import Conflict, ValidationError
from agent.core.events import ConversationUpdated, LeadCaptured, MessageCreated
from agent.core.models import ConversationStatus, SenderRule, SenderRuleKind, SenderVerdict
from agent.core.recent import PerWorkspace
from agent.core.spam import (
    Candidate,
    detect,
    is_bulk_sms_sender,
    is_disposable,
    judge,
    known_phrases,
    spam_phrases,
)
from agent.core.workspaces import NewMember
from benchmarks.spam import any_link, detector, load, score
from frontdesk.wiring import build
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_inbox import PASSWORD, signed_in

LINKS = "see https://a.example/1 and https://b.example/2 and www.c.example"


def verdict(body: str, channel: str = "webchat", **kw):
    return detect(Candidate(body=body, channel=channel, **kw))


# -- the signals -------------------------------------------------------------------


def test_link_flood_needs_three_links():
    assert verdict(LINKS).signal == "link_flood"
    assert verdict(LINKS).reason == "3 links in one message"
    assert verdict("Photos: https://a.example/1 and https://b.example/2") is None
    assert verdict("Here is the damage: https://photos.example/x, can you quote?") is None


def test_phrases_need_two_or_one_with_a_link():
    two = verdict("Our SEO services get you on the first page of Google.")
    assert two.signal == "phrases" and "seo services" in two.reason
    assert verdict("Claim your prize: https://x.example").signal == "phrases"
    assert verdict("Do you accept bitcoin?") is None  # one phrase, no link: a customer may ask
    # Words inside other words never match ("casinos" is not "casino"; "forexample").
    assert verdict("I love the casinos theme, forexample https://x.example") is None


def test_every_phrase_is_found_past_the_one_search_for_any():
    # Messages with no phrase skip the per-phrase search; each phrase still gets there.
    for phrase in known_phrases():
        assert phrase in spam_phrases(f"Hello. {phrase.upper()}, thanks"), phrase
    assert spam_phrases("Is Thursday at 3pm free for a cleaning?") == []


def test_repeated_counts_only_long_identical_messages():
    long = "Special offer for business owners: a website for only $199 this month!"
    assert verdict(long, earlier=[long, "  " + long.upper()]).signal == "repeated"
    assert verdict(long, earlier=[long]) is None  # sent twice: still a person, maybe
    assert verdict("hello?", earlier=["hello?"] * 5) is None  # follow-ups are not spam
    short = "Hello? Is anyone there?"
    assert verdict(short, earlier=[short, short, short]) is None


def test_disposable_domains_on_email_only():
    assert is_disposable("x@mailinator.com") and is_disposable("x@eu.mailinator.com")
    assert not is_disposable("x@gmail.com") and not is_disposable("x@notmailinator.com")
    found = verdict("hi", channel="email", sender_email="a@yopmail.com")
    assert found.signal == "disposable" and "yopmail.com" in found.reason
    assert verdict("hi", channel="webchat", sender_email="a@yopmail.com") is None


def test_sms_short_codes_and_sender_ids():
    assert is_bulk_sms_sender("72345") and is_bulk_sms_sender("VODAFONE")
    assert not is_bulk_sms_sender("+16045550188") and not is_bulk_sms_sender("6045550188")
    assert verdict("Sale today", channel="sms", sender_phone="88990").signal == "shortcode"
    assert verdict("Sale today", channel="whatsapp", sender_phone="88990") is None
    assert verdict("Running late", channel="sms", sender_phone="+16045550188") is None


def rule(kind: str, value: str, verdict: str) -> SenderRule:
    return SenderRule(workspace_id=1, kind=kind, value=value, verdict=verdict)


def test_judge_order_exact_block_then_good_then_domain_then_signals():
    spammy = Candidate(body=LINKS, channel="email", sender_email="a@b.example")
    blocked_email = rule(SenderRuleKind.EMAIL, "a@b.example", SenderVerdict.BLOCKED)
    good_contact = rule(SenderRuleKind.CONTACT, "4", SenderVerdict.GOOD)
    blocked_domain = rule(SenderRuleKind.DOMAIN, "b.example", SenderVerdict.BLOCKED)
    assert judge([good_contact, blocked_email], spammy).reason == (
        "blocked sender (email a@b.example)"
    )
    assert judge([good_contact, blocked_domain], spammy) is None
    assert judge([blocked_domain], spammy).reason == "blocked sender (domain b.example)"
    assert judge([], spammy).signal == "link_flood"


def test_labelled_sample_precision_and_recall():
    rows = load()
    assert len(rows) == 200
    assert {r["label"] for r in rows} == {"spam", "ham"}
    assert len({r["channel"] for r in rows}) >= 5
    found = score(rows, detector)
    assert found.precision >= 0.98, found
    assert found.recall >= 0.8, found
    assert score(rows, any_link).precision < found.precision  # better than the naive rule


# -- the inbound path --------------------------------------------------------------


def chat(body: str, thread: str = "visitor-1", **kw) -> Inbound:
    return Inbound(channel="webchat", body=body, thread_id=thread, **kw)


def email(body: str, sender: str, pmid: str) -> Inbound:
    return Inbound(
        channel="email",
        body=body,
        thread_id=f"thread-{pmid}",
        provider_message_id=pmid,
        sender=ContactDetails(email=sender),
    )


def sms(body: str, sender: str, pmid: str) -> Inbound:
    return Inbound(
        channel="sms",
        body=body,
        thread_id=sender,
        provider_message_id=pmid,
        sender=ContactDetails(phone=sender),
    )


def listed(container, workspace_id: int, status: str | None) -> list[int]:
    with container.uow() as uow:
        found = uow.workspace(workspace_id).conversations.search(status=status)
        return [c.id for c in found]


def held(container, workspace, received, events, dispatcher, reason: str) -> None:
    """Stored, in the Spam view with its reason, and nobody told nor answering."""
    conversation = received.conversation
    assert conversation.status == ConversationStatus.SPAM
    assert conversation.spam_reason == reason
    assert not received.routed_to_ai and dispatcher.turns == []
    assert events == []
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        stored = repo.messages.get(received.message.id)
        assert stored.meta.get("spam") == reason
        assert repo.notifications.all() == []
    assert conversation.id in listed(container, workspace.id, "spam")
    assert conversation.id not in listed(container, workspace.id, None)
    assert conversation.id not in listed(container, workspace.id, "open")


def test_blocked_email_address_and_domain(app_container, ws, events, dispatcher):
    workspace, admin = ws
    service = app_container.conversations
    service.block_sender(workspace.id, admin.id, "email", "Pitch@Outreach.example")
    received = service.receive(workspace.id, email("Hello there", "pitch@outreach.example", "m1"))
    held(
        app_container,
        workspace,
        received,
        events,
        dispatcher,
        "blocked sender (email pitch@outreach.example)",
    )
    service.block_sender(workspace.id, admin.id, "domain", "@spammy.example")
    other = service.receive(workspace.id, email("Hi", "anyone@spammy.example", "m2"))
    assert other.conversation.spam_reason == "blocked sender (domain spammy.example)"
    fine = service.receive(workspace.id, email("Hi", "someone@good.example", "m3"))
    assert fine.conversation.status == ConversationStatus.OPEN


def test_blocked_phone_is_matched_in_e164(app_container, ws, events, dispatcher):
    workspace, admin = ws  # a Canadian workspace: local numbers read as +1
    rule = app_container.conversations.block_sender(workspace.id, admin.id, "phone", "604 555 0188")
    assert rule.value == "+16045550188"
    received = app_container.conversations.receive(
        workspace.id, sms("Buy now", "+16045550188", "SM1")
    )
    held(
        app_container,
        workspace,
        received,
        events,
        dispatcher,
        "blocked sender (phone +16045550188)",
    )


def test_bad_block_values_are_refused_plainly(app_container, ws):
    workspace, admin = ws
    service = app_container.conversations
    with pytest.raises(ValidationError):
        service.block_sender(workspace.id, admin.id, "phone", "not a number")
    with pytest.raises(ValidationError):
        service.block_sender(workspace.id, admin.id, "domain", "no-dot")
    with pytest.raises(ValidationError):
        service.block_sender(workspace.id, admin.id, "fax", "123")


def test_shortcode_text_is_stored_in_spam(app_container, ws, events, dispatcher):
    workspace, _ = ws
    received = app_container.conversations.receive(
        workspace.id, sms("FreeMsg: you won! Txt STOP to end", "72345", "SM2")
    )
    held(
        app_container,
        workspace,
        received,
        events,
        dispatcher,
        "texted from a short code or sender id (72345)",
    )
    assert received.conversation.provider_thread_id == "72345"


def test_block_contact_release_and_remembered(app_container, ws, events, dispatcher):
    workspace, admin = ws
    service = app_container.conversations
    first = service.receive(workspace.id, chat("Hi, do you take new patients?"))
    assert dispatcher.turns and first.conversation.status == ConversationStatus.OPEN
    service.block_sender(
        workspace.id,
        admin.id,
        "contact",
        str(first.conversation.contact_id),
        conversation_id=first.conversation.id,
    )
    dispatcher.turns.clear()
    events.clear()
    second = service.receive(workspace.id, chat("Hello? Anyone?"))
    held(
        app_container,
        workspace,
        second,
        events,
        dispatcher,
        f"blocked sender (contact #{first.conversation.contact_id})",
    )
    with pytest.raises(Conflict):  # closing or reopening would skip "Not spam"
        service.reopen(workspace.id, second.conversation.id, admin.id)

    released = service.release_spam(workspace.id, second.conversation.id, admin.id)
    assert released.status == ConversationStatus.OPEN and released.spam_reason == ""
    assert dispatcher.turns == [(workspace.id, second.conversation.id, second.message.id)]
    assert any(isinstance(e, MessageCreated) and e.message_id == second.message.id for e in events)
    assert second.conversation.id in listed(app_container, workspace.id, None)
    with app_container.uow() as uow:
        rules = uow.workspace(workspace.id).sender_rules.all()
    assert [(r.kind, r.verdict) for r in rules] == [("contact", "good")]  # unblocked, good
    # Remembered as good: even a link flood from them is no longer flagged.
    again = service.receive(workspace.id, chat(LINKS))
    assert again.conversation.status == ConversationStatus.OPEN and again.routed_to_ai
    with pytest.raises(Conflict):
        service.release_spam(workspace.id, second.conversation.id, admin.id)


def test_detected_spam_on_receive(app_container, ws, events, dispatcher):
    workspace, _ = ws
    received = app_container.conversations.receive(workspace.id, chat(LINKS, thread="bot"))
    held(app_container, workspace, received, events, dispatcher, "3 links in one message")
    # Later messages in the thread stay there, whatever they say.
    later = app_container.conversations.receive(workspace.id, chat("hi", thread="bot"))
    assert later.conversation.status == ConversationStatus.SPAM and not later.routed_to_ai
    assert events == [] and dispatcher.turns == []
    _, admin = ws
    app_container.conversations.release_spam(workspace.id, later.conversation.id, admin.id)
    # Held from its first message: once released it is news, as a new conversation.
    updates = [e.changes for e in events if isinstance(e, ConversationUpdated)]
    assert updates == [{"status": "open", "created": True}]
    assert dispatcher.turns == [(workspace.id, later.conversation.id, later.message.id)]


def test_spam_never_makes_a_lead(app_container, ws, events):
    workspace, _ = ws
    received = app_container.conversations.receive(workspace.id, chat(LINKS, thread="bot"))
    _, new_lead = app_container.conversations.record_contact(
        workspace.id,
        received.conversation.id,
        ContactDetails(first_name="Bot", email="bot@example.com"),
    )
    assert not new_lead and not [e for e in events if isinstance(e, LeadCaptured)]


# -- the inbox over HTTP --------------------------------------------------------------


@pytest.fixture
def web(app_container):
    from frontdesk.web import create_app

    app, socketio = create_app(app_container, testing=True)
    return app, socketio


@pytest.fixture
def team(app_container):
    workspace, admin = make_workspace(app_container)
    staff = app_container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    return workspace, admin, staff


def test_spam_view_and_not_spam_over_http(web, team, app_container, dispatcher):
    workspace, _, _ = team
    received = app_container.conversations.receive(workspace.id, chat(LINKS, thread="bot"))
    client, headers = signed_in(web)  # staff, not an admin
    rows = client.get("/api/conversations").get_json()["conversations"]
    assert received.conversation.id not in [r["id"] for r in rows]
    (row,) = client.get("/api/conversations?status=spam").get_json()["conversations"]
    assert row["id"] == received.conversation.id
    assert row["status"] == "spam" and row["spam_reason"] == "3 links in one message"
    assert 'data-status="spam"' in client.get("/").get_data(as_text=True)

    url = f"/api/conversations/{received.conversation.id}/not-spam"
    assert client.post(url).status_code == 400  # no CSRF token
    signed_out = web[0].test_client().post(url, headers=headers)
    assert signed_out.status_code in (302, 400, 401)
    assert listed(app_container, workspace.id, "spam") == [received.conversation.id]
    response = client.post(url, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["conversation"]["status"] == "open"
    assert dispatcher.turns == [(workspace.id, received.conversation.id, received.message.id)]
    assert client.post(url, headers=headers).status_code == 400  # not in spam any more


def test_block_from_the_thread_over_http(web, team, app_container):
    workspace, _, _ = team
    received = app_container.conversations.receive(workspace.id, chat("Hi there"))
    client, headers = signed_in(web)
    url = f"/api/conversations/{received.conversation.id}/block"
    response = client.post(url, headers=headers)
    assert response.status_code == 200
    conversation = response.get_json()["conversation"]
    assert conversation["status"] == "spam"
    assert conversation["spam_reason"].startswith("blocked sender (contact #")


def test_other_workspaces_conversations_are_not_found(web, team, app_container):
    other, _ = make_workspace(app_container, "Harbour Physio")
    theirs = app_container.conversations.receive(other.id, chat(LINKS, thread="bot"))
    client, headers = signed_in(web)
    for action in ("not-spam", "block"):
        url = f"/api/conversations/{theirs.conversation.id}/{action}"
        assert client.post(url, headers=headers).status_code == 404
    assert client.get("/api/conversations?status=spam").get_json()["conversations"] == []


def test_contact_page_blocks_and_unblocks(web, team, app_container):
    workspace, _, _ = team
    received = app_container.conversations.receive(
        workspace.id, email("Quote please", "jo@acme.example", "e1")
    )
    contact_id = received.conversation.contact_id
    client, headers = signed_in(web)
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert 'id="contact-spam"' in page and "acme.example" in page
    token = headers["X-CSRF-Token"]
    url = f"/contacts/{contact_id}/block"
    assert client.post(url, data={"kind": "domain"}).status_code == 400  # no CSRF token
    assert client.post(url, data={"kind": "fax", "csrf_token": token}).status_code == 400
    response = client.post(url, data={"kind": "domain", "csrf_token": token})
    assert response.status_code == 302
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Blocked acme.example" in page and "Unblock" in page
    later = app_container.conversations.receive(
        workspace.id, email("Another", "bob@acme.example", "e2")
    )
    assert later.conversation.status == ConversationStatus.SPAM
    response = client.post(
        f"/contacts/{contact_id}/unblock", data={"kind": "domain", "csrf_token": token}
    )
    assert response.status_code == 302
    with app_container.uow() as uow:
        assert uow.workspace(workspace.id).sender_rules.all() == []


def test_erasing_a_contact_drops_the_rule_on_its_id(app_container, ws):
    workspace, admin = ws
    received = app_container.conversations.receive(workspace.id, chat("Hi"))
    contact_id = received.conversation.contact_id
    app_container.conversations.block_sender(workspace.id, admin.id, "contact", str(contact_id))
    app_container.privacy.delete(workspace.id, contact_id, actor="cli")
    with app_container.uow() as uow:
        assert uow.workspace(workspace.id).sender_rules.all() == []


def test_settings_lists_blocks_and_good_senders_for_admins(web, team, app_container):
    """Settings > Spam: the whole list; admins block a domain nobody has written from yet,
    its mail lands in Spam, and removing the rule lets the next message through."""
    workspace, admin, _ = team
    staff_client, _ = signed_in(web)
    assert staff_client.get("/settings/spam").status_code == 403
    client, headers = signed_in(web, admin.email)
    token = headers["X-CSRF-Token"]
    assert client.post("/settings/spam/block", data={"kind": "domain"}).status_code == 400
    bad = {"kind": "fax", "value": "x", "csrf_token": token}
    assert client.post("/settings/spam/block", data=bad).status_code == 400
    empty = {"kind": "domain", "value": "  ", "csrf_token": token}
    page = client.post("/settings/spam/block", data=empty, follow_redirects=True)
    assert "Nothing was blocked" in page.get_data(as_text=True)
    block = {"kind": "domain", "value": "Spammy.Example", "csrf_token": token}
    page = client.post("/settings/spam/block", data=block, follow_redirects=True)
    assert "Blocked domain spammy.example" in page.get_data(as_text=True)
    held_mail = app_container.conversations.receive(
        workspace.id, email("Cheap watches", "deals@spammy.example", "s1")
    )
    assert held_mail.conversation.status == ConversationStatus.SPAM
    app_container.conversations.release_spam(workspace.id, held_mail.conversation.id, admin.id)
    page = client.get("/settings/spam").get_data(as_text=True)
    assert "domain spammy.example" in page and "Known good" in page and "Unblock" in page
    forget = {"kind": "domain", "value": "spammy.example", "csrf_token": token}
    assert client.post("/settings/spam/forget", data=forget).status_code == 302
    with app_container.uow() as uow:
        left = {(r.kind, r.value) for r in uow.workspace(workspace.id).sender_rules.all()}
    assert ("domain", "spammy.example") not in left and left  # the good sender stays
    later = app_container.conversations.receive(
        workspace.id, email("Quote please", "ann@spammy.example", "s2")
    )
    assert later.conversation.status != ConversationStatus.SPAM


def test_the_same_long_message_a_third_time_is_held_as_repeated(app_container, ws):
    workspace, _ = ws
    service = app_container.conversations
    pitch = "We can put your business on the first page of Google this week, guaranteed!"
    first = service.receive(workspace.id, chat(pitch))
    service.post_ai_reply(workspace.id, first.conversation.id, "Thanks!", in_reply_to=None)
    service.receive(workspace.id, chat(pitch.upper()))  # the AI's replies in between
    assert service.receive(workspace.id, chat("Hello? " + pitch)).conversation.status == "open"
    third = service.receive(workspace.id, chat("  " + pitch))
    assert third.conversation.status == ConversationStatus.SPAM
    assert third.conversation.spam_reason == "the same message sent 3 times"


def test_a_block_made_by_another_process_applies_within_seconds(app_container, ws, settings):
    """Each process keeps the sender rules for SENDER_RULES_TTL seconds (no query on every
    message): the one that blocks forgets its copy at once, another within the TTL."""
    workspace, admin = ws
    other = build(settings, clock=app_container.clock, dispatcher_override=RecordingDispatcher())
    seconds = [0.0]
    service = other.conversations
    service._sender_rules = PerWorkspace(
        service._load_sender_rules, SENDER_RULES_TTL, lambda: seconds[0]
    )
    first = service.receive(workspace.id, chat("Hi, are you open today?"))
    contact = str(first.conversation.contact_id)
    app_container.conversations.block_sender(workspace.id, admin.id, "contact", contact)
    # The blocking process sees it at once.
    mine = app_container.conversations.receive(workspace.id, chat("Hello again"))
    assert mine.conversation.status == ConversationStatus.SPAM
    app_container.conversations.release_spam(workspace.id, first.conversation.id, admin.id)
    app_container.conversations.block_sender(workspace.id, admin.id, "contact", contact)
    stale = service.receive(workspace.id, chat("Still there?"))
    assert stale.conversation.status == ConversationStatus.OPEN  # its copy is still fresh
    seconds[0] += SENDER_RULES_TTL
    late = service.receive(workspace.id, chat("Hello?"))
    assert late.conversation.status == ConversationStatus.SPAM
    other.engine.dispose()

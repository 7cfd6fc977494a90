"""The conversation service's rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import NotFound, ValidationError
from agent.core.events import ConversationUpdated, LeadCaptured, MessageCreated
from agent.core.models import AuthorKind, ConversationStatus, Message, Mode
from tests.conftest import make_workspace


def visitor(body="Hi, do you take new patients?", thread="visitor-1", pmid=None, **kw):
    return Inbound(channel="webchat", body=body, thread_id=thread, provider_message_id=pmid, **kw)


def count_messages(container) -> int:
    """Visitor messages stored (the web chat's welcome message is not one)."""
    with container.uow() as uow:
        query = select(func.count()).select_from(Message).where(Message.author_kind == "contact")
        return uow.session.scalar(query)


def messages(container, workspace_id, conversation_id):
    with container.uow() as uow:
        return list(uow.workspace(workspace_id).messages.for_conversation(conversation_id))


def conversation(container, workspace_id, conversation_id):
    with container.uow() as uow:
        return uow.workspace(workspace_id).conversations.get(conversation_id)


def test_inbound_is_persisted_and_routed_to_the_ai(app_container, ws, dispatcher, events):
    workspace, _ = ws
    received = app_container.conversations.receive(workspace.id, visitor())
    assert received.routed_to_ai and not received.duplicate
    assert dispatcher.turns == [(workspace.id, received.conversation.id, received.message.id)]
    stored = messages(app_container, workspace.id, received.conversation.id)
    assert [(m.author_kind, m.body) for m in stored] == [
        (AuthorKind.AI, workspace.widget["initial_message"]),  # the web chat's welcome
        (AuthorKind.CONTACT, "Hi, do you take new patients?"),
    ]
    assert any(isinstance(e, MessageCreated) for e in events)
    assert any(isinstance(e, ConversationUpdated) and e.changes.get("created") for e in events)


def test_welcome_message_only_opens_new_web_chats(app_container, ws):
    workspace, _ = ws
    app_container.workspaces.update_profile(
        workspace.id,
        {"widget": {"initial_message": "Hi! Ask me about [prices](https://x.example/p)."}},
    )
    web = app_container.conversations.receive(workspace.id, visitor("hello"))
    app_container.conversations.receive(workspace.id, visitor("again"))
    sms = app_container.conversations.receive(
        workspace.id, Inbound(channel="sms", body="hello", thread_id="+16045550142")
    )
    bodies = [m.body for m in messages(app_container, workspace.id, web.conversation.id)]
    assert bodies == ["Hi! Ask me about [prices](https://x.example/p).", "hello", "again"]
    assert [m.body for m in messages(app_container, workspace.id, sms.conversation.id)] == ["hello"]


def test_same_thread_continues_the_same_conversation(app_container, ws):
    workspace, _ = ws
    first = app_container.conversations.receive(workspace.id, visitor("hello"))
    second = app_container.conversations.receive(workspace.id, visitor("are you there?"))
    other = app_container.conversations.receive(workspace.id, visitor("hi", thread="visitor-2"))
    assert first.conversation.id == second.conversation.id != other.conversation.id


def test_retried_webhook_never_duplicates(app_container, ws, dispatcher):
    workspace, _ = ws
    first = app_container.conversations.receive(workspace.id, visitor(pmid="wamid.123"))
    again = app_container.conversations.receive(workspace.id, visitor(pmid="wamid.123"))
    assert again.duplicate and again.message.id == first.message.id
    assert count_messages(app_container) == 1
    # Not yet answered, so the redelivery hands it to the AI again (the turn is idempotent).
    assert len(dispatcher.turns) == 2
    app_container.conversations.post_ai_reply(
        workspace.id, first.conversation.id, "Yes we do!", in_reply_to=first.message.id
    )
    third = app_container.conversations.receive(workspace.id, visitor(pmid="wamid.123"))
    assert third.duplicate and not third.routed_to_ai and len(dispatcher.turns) == 2


def test_a_resend_of_a_fresh_id_is_caught_by_the_unique_key(app_container, ws, dispatcher):
    """``expect_new`` skips the lookup: the clash on insert finds the stored message, and
    the first try's changes (reopening a closed conversation) are rolled back with it."""
    workspace, admin = ws
    service = app_container.conversations
    first = service.receive(workspace.id, visitor(pmid="v1:c-0001"), expect_new=True)
    assert first.awaiting_ai and not first.duplicate
    service.close(workspace.id, first.conversation.id, admin.id)
    again = service.receive(workspace.id, visitor(pmid="v1:c-0001"), expect_new=True)
    assert again.duplicate and again.message.id == first.message.id
    assert again.conversation.status == "closed" and not again.routed_to_ai
    assert count_messages(app_container) == 1 and len(dispatcher.turns) == 1
    later = service.receive(
        workspace.id, visitor("Still there?", pmid="v1:c-0002"), expect_new=True
    )
    assert not later.duplicate and later.conversation.status == "open"
    assert count_messages(app_container) == 2


def test_concurrent_redeliveries_store_one_message(app_container, ws):
    workspace, _ = ws
    results, errors = [], []

    def deliver():
        try:
            results.append(app_container.conversations.receive(workspace.id, visitor(pmid="m-1")))
        except Exception as exc:  # pragma: no cover - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count_messages(app_container) == 1
    assert len({r.message.id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


def test_human_mode_never_reaches_the_ai(app_container, ws, dispatcher):
    workspace, dana = ws
    received = app_container.conversations.receive(workspace.id, visitor())
    conv = app_container.conversations.take_over(workspace.id, received.conversation.id, dana.id)
    assert conv.mode == Mode.HUMAN and conv.assignee_id == dana.id
    later = app_container.conversations.receive(workspace.id, visitor("still there?"))
    assert not later.routed_to_ai
    assert len(dispatcher.turns) == 1
    # A reply the AI was computing when staff took over is dropped, not sent.
    assert (
        app_container.conversations.post_ai_reply(
            workspace.id, conv.id, "late answer", in_reply_to=later.message.id
        )
        is None
    )


def test_release_hands_back_to_the_ai(app_container, ws, dispatcher):
    workspace, dana = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    app_container.conversations.take_over(workspace.id, conv_id, dana.id)
    conv = app_container.conversations.release(workspace.id, conv_id, dana.id)
    assert conv.mode == Mode.AI and conv.assignee_id is None
    assert app_container.conversations.receive(workspace.id, visitor("ok")).routed_to_ai
    notes = [
        m.body for m in messages(app_container, workspace.id, conv_id) if m.author_kind == "system"
    ]
    assert notes == [
        "Dana Admin took over the conversation",
        "Dana Admin handed the conversation back to the AI",
    ]


def test_staff_reply_implies_takeover(app_container, ws, events):
    workspace, dana = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    reply = app_container.conversations.reply(workspace.id, conv_id, dana.id, "Hi, Dana here.")
    assert reply.author_kind == AuthorKind.STAFF and reply.author_member_id == dana.id
    assert reply.delivery_status == "queued"
    with app_container.uow() as uow:
        conv = uow.workspace(workspace.id).conversations.get(conv_id)
    assert conv.mode == Mode.HUMAN and conv.assignee_id == dana.id
    assert any(
        isinstance(e, ConversationUpdated) and e.changes.get("mode") == "human" for e in events
    )


def test_close_and_reopen_on_inbound(app_container, ws, dispatcher):
    workspace, dana = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    app_container.conversations.take_over(workspace.id, conv_id, dana.id)
    closed = app_container.conversations.close(workspace.id, conv_id, dana.id)
    assert closed.status == ConversationStatus.CLOSED and closed.closed_at is not None
    again = app_container.conversations.receive(workspace.id, visitor("one more question"))
    assert again.conversation.id == conv_id
    assert again.conversation.status == ConversationStatus.OPEN
    assert again.conversation.mode == Mode.AI and again.routed_to_ai
    assert again.conversation.closed_at is None


def test_staff_close_and_reopen(app_container, ws):
    workspace, dana = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    app_container.conversations.close(workspace.id, conv_id, dana.id)
    reopened = app_container.conversations.reopen(workspace.id, conv_id, dana.id)
    assert reopened.status == ConversationStatus.OPEN
    # Closing twice is a no-op, not a second activity note.
    app_container.conversations.close(workspace.id, conv_id, dana.id)
    app_container.conversations.close(workspace.id, conv_id, dana.id)
    notes = [
        m.body for m in messages(app_container, workspace.id, conv_id) if m.author_kind == "system"
    ]
    assert notes == [
        "Dana Admin closed the conversation",
        "Dana Admin reopened the conversation",
        "Dana Admin closed the conversation",
    ]


def test_start_outbound_conversation_with_new_and_existing_contacts(app_container, ws):
    workspace, dana = ws
    conv = app_container.conversations.start_conversation(
        workspace.id,
        dana.id,
        "sms",
        "Your crown is ready.",
        new_contact=ContactDetails(first_name="Sam", phone="(604) 555-0142"),
    )
    assert conv.mode == Mode.HUMAN and conv.channel == "sms"
    with app_container.uow() as uow:
        contact = uow.workspace(workspace.id).contacts.get(conv.contact_id)
    assert contact.phone == "+16045550142"
    # The same person again: no duplicate contact.
    again = app_container.conversations.start_conversation(
        workspace.id,
        dana.id,
        "sms",
        "Reminder",
        new_contact=ContactDetails(phone="+1 604 555 0142"),
    )
    assert again.contact_id == contact.id
    existing = app_container.conversations.start_conversation(
        workspace.id, dana.id, "sms", "Hello again", contact_id=contact.id
    )
    assert existing.contact_id == contact.id
    with pytest.raises(ValidationError, match="has no email"):
        app_container.conversations.start_conversation(
            workspace.id, dana.id, "email", "Hi", contact_id=contact.id
        )
    with pytest.raises(ValidationError, match="started by the customer"):
        app_container.conversations.start_conversation(
            workspace.id, dana.id, "webchat", "Hi", contact_id=contact.id
        )


def test_contact_details_merge_and_one_lead_notification(app_container, ws, events):
    workspace, _ = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    svc = app_container.conversations
    contact, lead = svc.record_contact(workspace.id, conv_id, ContactDetails(first_name="Sam"))
    assert not lead and contact.first_name == "Sam"
    contact, lead = svc.record_contact(workspace.id, conv_id, ContactDetails(phone="604 555 0142"))
    assert lead and contact.phone == "+16045550142" and contact.first_name == "Sam"
    contact, lead = svc.record_contact(
        workspace.id, conv_id, ContactDetails(last_name="Patel", email="Sam@Patel.example")
    )
    assert not lead
    assert (contact.first_name, contact.last_name, contact.email) == (
        "Sam",
        "Patel",
        "sam@patel.example",
    )
    assert sum(isinstance(e, LeadCaptured) for e in events) == 1


def test_known_contact_is_reused_not_duplicated(app_container, ws):
    workspace, dana = ws
    svc = app_container.conversations
    existing = svc.start_conversation(
        workspace.id,
        dana.id,
        "email",
        "Welcome",
        new_contact=ContactDetails(first_name="Ana", email="ana@lopez.example"),
    )
    conv_id = svc.receive(workspace.id, visitor(thread="v9")).conversation.id
    contact, _ = svc.record_contact(
        workspace.id, conv_id, ContactDetails(email="ana@lopez.example", phone="604-555-0199")
    )
    assert contact.id == existing.contact_id
    assert contact.phone == "+16045550199" and contact.first_name == "Ana"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (ContactDetails(email="not-an-email"), "email"),
        (ContactDetails(phone="12"), "phone"),
        (ContactDetails(phone="+1 604 555 01"), "phone"),
    ],
)
def test_invalid_contact_details_store_nothing(app_container, ws, details, field):
    workspace, _ = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    with pytest.raises(ValidationError) as info:
        app_container.conversations.record_contact(workspace.id, conv_id, details)
    assert info.value.field == field
    with app_container.uow() as uow:
        repo = uow.workspace(workspace.id)
        contact = repo.contacts.get(repo.conversations.get(conv_id).contact_id)
    assert (contact.email, contact.phone) == ("", "")


def test_oversize_message_is_rejected_and_nothing_stored(app_container, ws, dispatcher):
    workspace, _dana = ws
    with pytest.raises(ValidationError, match="limit is 10,000"):
        app_container.conversations.receive(workspace.id, visitor("x" * 10_001))
    with pytest.raises(ValidationError, match="empty"):
        app_container.conversations.receive(workspace.id, visitor("   "))
    assert count_messages(app_container) == 0 and dispatcher.turns == []
    with app_container.uow() as uow:
        assert uow.workspace(workspace.id).conversations.list() == []


def test_message_limit_is_configurable(settings, clock, dispatcher):
    from dataclasses import replace

    from frontdesk.wiring import build

    container = build(
        replace(settings, max_message_chars=20).ensure_data_dir(),
        clock=clock,
        dispatcher_override=dispatcher,
    )
    workspace, _ = make_workspace(container)
    with pytest.raises(ValidationError, match="limit is 20"):
        container.conversations.receive(workspace.id, visitor("x" * 21))
    container.engine.dispose()


def test_invalid_sender_on_inbound_stores_nothing(app_container, ws):
    workspace, _ = ws
    with pytest.raises(ValidationError):
        app_container.conversations.receive(
            workspace.id, visitor(sender=ContactDetails(email="bad@@example"))
        )
    assert count_messages(app_container) == 0


def test_unknown_channel_is_rejected(app_container, ws):
    workspace, _ = ws
    with pytest.raises(ValidationError, match="not a channel"):
        app_container.conversations.receive(workspace.id, Inbound(channel="fax", body="hi"))


def test_workspace_isolation(app_container, ws):
    workspace_a, _dana = ws
    workspace_b, bob = make_workspace(app_container, "Harbour Vets")
    conv_a = app_container.conversations.receive(workspace_a.id, visitor()).conversation.id
    svc = app_container.conversations
    for action in (
        lambda: svc.take_over(workspace_b.id, conv_a, bob.id),
        lambda: svc.reply(workspace_b.id, conv_a, bob.id, "hijack"),
        lambda: svc.close(workspace_b.id, conv_a, bob.id),
        lambda: svc.release(workspace_b.id, conv_a, bob.id),
        lambda: svc.record_contact(workspace_b.id, conv_a, ContactDetails(first_name="X")),
        lambda: svc.post_ai_reply(workspace_b.id, conv_a, "hi"),
        lambda: svc.receive(
            workspace_b.id, Inbound(channel="webchat", body="x", conversation_id=conv_a)
        ),
        # A member of A acting inside B's workspace is unknown there.
        lambda: svc.take_over(workspace_a.id, conv_a, bob.id),
    ):
        with pytest.raises(NotFound):
            action()
    with app_container.uow() as uow:
        repo_b = uow.workspace(workspace_b.id)
        assert repo_b.conversations.list() == []
        with pytest.raises(NotFound):
            repo_b.conversations.get(conv_a)
        conv = uow.workspace(workspace_a.id).conversations.get(conv_a)
    assert conv.mode == Mode.AI and conv.status == ConversationStatus.OPEN
    stored = messages(app_container, workspace_a.id, conv_a)
    assert [m.author_kind for m in stored] == [
        AuthorKind.AI,
        AuthorKind.CONTACT,
    ]  # welcome, visitor


def test_hand_off_switches_to_human_until_released(app_container, ws, dispatcher):
    workspace, _dana = ws
    conv_id = app_container.conversations.receive(workspace.id, visitor()).conversation.id
    assert app_container.conversations.hand_off(workspace.id, conv_id, "asked for a person")
    assert conversation(app_container, workspace.id, conv_id).mode == Mode.HUMAN
    assert not app_container.conversations.hand_off(workspace.id, conv_id, "again")  # no-op
    assert not app_container.conversations.receive(workspace.id, visitor("hello?")).routed_to_ai
    notes = [
        m.body for m in messages(app_container, workspace.id, conv_id) if m.author_kind == "system"
    ]
    assert notes == ["The AI receptionist handed the conversation to the team: asked for a person"]

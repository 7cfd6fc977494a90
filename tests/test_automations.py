"""Automations through the real service: each trigger, condition and action, the run log,
dry runs, the loop guard, and the rq job on real Redis.

Without Redis the container runs rules inline (in the thread that published the event),
so most tests read the outcome right after the event; webhook deliveries go to a real
receiver on 127.0.0.1 (the container allows private URLs here).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from rq import Queue

from agent.core.automation_rules import Facts, clean_condition, holds, pattern, render
from agent.core.automations import MAX_CHAIN, TRIGGERS_TTL, AutomationService, Trigger
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import ValidationError
from agent.core.models import Mode
from agent.core.templates import TemplateService
from agent.core.workspaces import NewMember
from agent.queue.automations import RqAutomationQueue
from agent.queue.worker import RuntimeWorker
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_inbox import PASSWORD, login
from tests.test_twilio_channel import CALLER, NUMBER, PUBLIC, SID, STAFF, TOKEN
from tests.twilio_server import FakeTwilio

# Monday 2 March 2026, 10:00 in Vancouver (the conftest clock): open 09:00-17:00 weekdays.
HOURS = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def shop(wired):
    workspace, admin = make_workspace(wired, hours=HOURS)
    return wired, workspace, admin


def rule(container, workspace, admin, trigger, actions, conditions=(), wait=0, enabled=True):
    service = container.automations
    draft = service.check(
        workspace.id,
        name=f"rule {trigger}",
        trigger=trigger,
        wait_minutes=wait,
        conditions=list(conditions),
        actions=list(actions),
    )
    saved = service.save(workspace.id, draft, by=admin.email)
    return service.switch(workspace.id, saved.id, enabled) if enabled else saved


def visit(container, workspace, body="Hello", thread="v-1", channel="webchat", **sender):
    inbound = Inbound(channel=channel, body=body, thread_id=thread, sender=ContactDetails(**sender))
    return container.conversations.receive(workspace.id, inbound)


def runs(container, workspace, saved):
    return container.automations.runs(workspace.id, saved.id)


def run_conversation(container, workspace, saved):
    return runs(container, workspace, saved)[0].conversation_id


def contact_of(container, workspace, conversation_id):
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        return repo.contacts.get(repo.conversations.get(conversation_id).contact_id)


def conversation(container, workspace, conversation_id):
    with container.uow() as uow:
        return uow.workspace(workspace.id).conversations.get(conversation_id)


def notes(container, workspace, conversation_id):
    with container.uow() as uow:
        messages = uow.workspace(workspace.id).messages.for_conversation(conversation_id)
        return [m.body for m in messages if m.direction == "internal"]


# -- triggers -----------------------------------------------------------------------------


def test_message_received_runs_the_rule_once_and_logs_it(shop):
    container, workspace, admin = shop
    saved = rule(container, workspace, admin, "message.received", [{"kind": "tag", "tag": "Asked"}])
    received = visit(container, workspace, "Do you open on Sundays?")
    [run] = runs(container, workspace, saved)
    assert run.matched and run.event_type == "message.received"
    assert run.event_key == f"message:{received.message.id}"
    assert run.actions == [{"action": "tag the contact “asked”", "ok": True, "detail": "tagged"}]
    assert contact_of(container, workspace, received.conversation.id).tags == ["asked"]
    assert "Automation “rule message.received” tagged the contact “asked”" in notes(
        container, workspace, received.conversation.id
    )
    # The same event again (a retried job) is not run twice.
    trigger = Trigger(
        "message.received", run.event_key, received.conversation.id, received.message.id
    )
    assert container.automations.run(workspace.id, trigger) == []
    assert len(runs(container, workspace, saved)) == 1


def test_conversation_created_and_closed_triggers(shop):
    container, workspace, admin = shop
    created = rule(
        container, workspace, admin, "conversation.created", [{"kind": "tag", "tag": "new"}]
    )
    closed = rule(
        container, workspace, admin, "conversation.closed", [{"kind": "tag", "tag": "done"}]
    )
    received = visit(container, workspace)
    visit(container, workspace, "And another thing")  # the same conversation: not created again
    assert len(runs(container, workspace, created)) == 1
    assert runs(container, workspace, closed) == []
    container.conversations.close(workspace.id, received.conversation.id, admin.id)
    assert len(runs(container, workspace, closed)) == 1
    assert contact_of(container, workspace, received.conversation.id).tags == ["new", "done"]


def test_lead_captured_trigger(shop):
    container, workspace, admin = shop
    saved = rule(container, workspace, admin, "lead.captured", [{"kind": "tag", "tag": "lead"}])
    received = visit(container, workspace, "Hi")
    container.conversations.record_contact(
        workspace.id, received.conversation.id, ContactDetails(first_name="Rosa")
    )
    assert runs(container, workspace, saved) == []  # a name alone is not a lead
    container.conversations.record_contact(
        workspace.id, received.conversation.id, ContactDetails(email="rosa@example.com")
    )
    [run] = runs(container, workspace, saved)
    assert run.event_type == "lead.captured" and run.matched
    assert contact_of(container, workspace, received.conversation.id).tags == ["lead"]


def test_appointment_booked_and_cancelled_triggers(shop, receiver):
    container, workspace, admin = shop
    endpoint, _ = container.outgoing_webhooks.add(workspace.id, receiver.url, "ping")
    booked = rule(
        container,
        workspace,
        admin,
        "appointment.booked",
        [{"kind": "webhook", "endpoint_id": endpoint.id}, {"kind": "tag", "tag": "booked"}],
    )
    cancelled = rule(
        container, workspace, admin, "appointment.cancelled", [{"kind": "tag", "tag": "cancelled"}]
    )
    received = visit(container, workspace, "I'd like an appointment")
    container.conversations.record_contact(
        workspace.id,
        received.conversation.id,
        ContactDetails(first_name="Rosa", phone="+16045550148"),
    )
    start = container.clock().replace(hour=18) + timedelta(days=1)  # 10:00 on Tuesday
    result = container.booking.book(workspace.id, received.conversation.id, start)
    assert result.booked, result
    [run] = runs(container, workspace, booked)
    assert run.matched and [a["ok"] for a in run.actions] == [True, True]
    [payload] = receiver.payloads()
    assert payload["type"] == "appointment.booked"
    assert payload["data"]["automation"]["rule"] == {"id": booked.id, "name": booked.name}
    assert payload["data"]["appointment"]["id"] == result.appointment_id
    assert payload["data"]["contact"]["first_name"] == "Rosa"
    container.booking.cancel(workspace.id, result.appointment_id)
    assert len(runs(container, workspace, cancelled)) == 1
    assert contact_of(container, workspace, received.conversation.id).tags == [
        "booked",
        "cancelled",
    ]


def test_handoff_requested_trigger(shop):
    container, workspace, admin = shop
    saved = rule(
        container,
        workspace,
        admin,
        "handoff.requested",
        [{"kind": "assign", "member_id": admin.id}],
    )
    received = visit(container, workspace, "A person please")
    container.conversations.hand_off(workspace.id, received.conversation.id, "asked for a person")
    [run] = runs(container, workspace, saved)
    assert run.actions[0]["ok"] and run.actions[0]["detail"] == "assigned"
    assert conversation(container, workspace, received.conversation.id).assignee_id == admin.id


def test_no_reply_for_n_minutes_fires_once_per_unanswered_message(shop, clock):
    container, workspace, admin = shop
    saved = rule(
        container,
        workspace,
        admin,
        "conversation.unanswered",
        [{"kind": "tag", "tag": "waiting"}],
        wait=30,
    )
    waiting = visit(container, workspace, "Hello? Anyone?", thread="v-1")
    answered = visit(container, workspace, "Hi", thread="v-2")
    container.conversations.reply(workspace.id, answered.conversation.id, admin.id, "Hi there!")
    clock.advance(minutes=29)
    assert container.automations.unanswered_round() == 0
    clock.advance(minutes=2)
    assert container.automations.unanswered_round() == 1
    assert container.automations.unanswered_round() == 0  # once per silence
    [run] = runs(container, workspace, saved)
    assert run.conversation_id == waiting.conversation.id
    assert run.event_key == f"unanswered:{waiting.message.id}"
    # The customer writes again and still nobody answers: a new silence, a new run.
    visit(container, workspace, "Still waiting", thread="v-1")
    clock.advance(minutes=31)
    assert container.automations.unanswered_round() == 1
    assert contact_of(container, workspace, waiting.conversation.id).tags == ["waiting"]


# -- conditions ---------------------------------------------------------------------------


def test_channel_keyword_and_pattern_conditions(shop):
    container, workspace, admin = shop
    saved = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "tag", "tag": "refund"}],
        conditions=[
            {"kind": "channel", "channels": ["webchat"]},
            {"kind": "keywords", "words": "refund, money back"},
            {"kind": "regex", "pattern": r"order\s*#?\d{4,}"},
        ],
    )
    visit(container, workspace, "I want a refund", thread="v-1")  # no order number
    visit(container, workspace, "Refunds?? order #12345", thread="v-2")  # "refunds" ≠ "refund"
    hit = visit(container, workspace, "Money back for order 55555 please", thread="v-3")
    log = runs(container, workspace, saved)
    assert [r.matched for r in reversed(log)] == [False, False, True]
    assert log[-1].checks == [
        {"condition": "channel is webchat", "ok": True},
        {"condition": "message mentions “refund” or “money back”", "ok": True},
        {"condition": r"message matches /order\s*#?\d{4,}/", "ok": False},
    ]
    assert contact_of(container, workspace, hit.conversation.id).tags == ["refund"]


def test_business_hours_condition(shop, clock):
    container, workspace, admin = shop
    open_rule = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "tag", "tag": "day"}],
        conditions=[{"kind": "hours", "when": "open"}],
    )
    closed_rule = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "tag", "tag": "night"}],
        conditions=[{"kind": "hours", "when": "closed"}],
    )
    day = visit(container, workspace, "Hello", thread="v-1")  # Monday 10:00 in Vancouver
    clock.advance(hours=10)  # 20:00: closed
    night = visit(container, workspace, "Hello", thread="v-2")
    assert contact_of(container, workspace, day.conversation.id).tags == ["day"]
    assert contact_of(container, workspace, night.conversation.id).tags == ["night"]
    assert [r.matched for r in runs(container, workspace, open_rule)] == [False, True]
    assert [r.matched for r in runs(container, workspace, closed_rule)] == [True, False]


def test_contact_tag_mode_and_assignee_conditions(shop):
    container, workspace, admin = shop
    saved = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "tag", "tag": "vip-human"}],
        conditions=[
            {"kind": "contact", "field": "email", "present": True},
            {"kind": "contact", "field": "phone", "present": False},
            {"kind": "tag", "tag": "vip", "present": True},
            {"kind": "mode", "mode": "human"},
            {"kind": "assignee", "member_id": admin.id},
        ],
    )
    received = visit(container, workspace, "Hi", email="vip@example.com")
    assert runs(container, workspace, saved)[0].checks == [
        {"condition": "contact has email address", "ok": True},
        {"condition": "contact has no phone", "ok": True},
        {"condition": "contact is tagged “vip”", "ok": False},
        {"condition": "a person has it", "ok": False},
        {"condition": "assigned to Dana Admin", "ok": False},
    ]
    contact = contact_of(container, workspace, received.conversation.id)
    container.conversations.tag_contact(workspace.id, contact.id, "vip", "Dana", None)
    container.conversations.take_over(workspace.id, received.conversation.id, admin.id)
    visit(container, workspace, "Hi again", email="vip@example.com")
    assert runs(container, workspace, saved)[0].matched


def test_checks_refuse_bad_rules(shop):
    container, workspace, _ = shop
    check = container.automations.check
    cases = [
        ({"trigger": "nope"}, "trigger"),
        ({"trigger": "conversation.unanswered", "wait_minutes": "0"}, "wait_minutes"),
        ({"actions": []}, "actions"),
        ({"actions": [{"kind": "assign", "member_id": 999}]}, "assign"),
        ({"actions": [{"kind": "webhook", "endpoint_id": 5}]}, "webhook"),
        ({"actions": [{"kind": "sms", "to": "team", "body": "x", "numbers": "12"}]}, "numbers"),
        ({"conditions": [{"kind": "regex", "pattern": "(a+)+$"}]}, "pattern"),
        ({"conditions": [{"kind": "regex", "pattern": "([a-z]"}]}, "pattern"),
        ({"conditions": [{"kind": "keywords", "words": " , "}]}, "keywords"),
        ({"conditions": [{"kind": "channel", "channels": ["fax"]}]}, "channels"),
        ({"name": ""}, "name"),
    ]
    for change, field in cases:
        values = {
            "name": "A rule",
            "trigger": "message.received",
            "wait_minutes": 0,
            "conditions": [],
            "actions": [{"kind": "close"}],
            **change,
        }
        with pytest.raises(ValidationError) as error:
            check(workspace.id, **values)
        assert error.value.field == field, (change, error.value)


def test_pure_helpers():
    facts = Facts(text="Où est ma commande?", channel="email")
    assert holds(clean_condition({"kind": "keywords", "words": "commande"}, members=[]), facts)
    assert not holds(clean_condition({"kind": "keywords", "words": "command"}, members=[]), facts)
    assert holds({"kind": "regex", "pattern": "OÙ"}, facts)  # case does not matter
    assert render("Hi {first_name}, about {thing}", {"first_name": "Rosa"}) == (
        "Hi Rosa, about {thing}"
    )
    assert pattern(r"\d{3}-\d{4}") == r"\d{3}-\d{4}"


# -- actions ------------------------------------------------------------------------------


def test_assign_close_and_handoff_actions(shop):
    container, workspace, admin = shop
    saved = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "handoff"}, {"kind": "assign", "member_id": admin.id}, {"kind": "close"}],
        conditions=[{"kind": "keywords", "words": "bye"}],
    )
    received = visit(container, workspace, "ok bye")
    [run] = runs(container, workspace, saved)
    assert [a["detail"] for a in run.actions] == ["handed to the team", "assigned", "closed"]
    found = conversation(container, workspace, received.conversation.id)
    assert (found.mode, found.assignee_id, found.status) == (Mode.HUMAN, admin.id, "closed")
    said = notes(container, workspace, received.conversation.id)
    assert any("Automation “rule message.received”" in n and "closed" in n for n in said)


def test_template_action_respects_the_channel_window(shop, clock):
    container, workspace, admin = shop
    template = TemplateService(container.uow, container.clock).create(
        workspace.id, "Thanks", "Thanks {first_name}, we got your message about: {message}"
    )
    saved = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "template", "template_id": template.id}],
    )
    received = visit(
        container, workspace, "My sink leaks", first_name="Rosa", email="r@example.com"
    )
    [run] = runs(container, workspace, saved)
    assert run.actions[0]["ok"], run.actions
    with container.uow() as uow:
        sent = uow.workspace(workspace.id).messages.for_conversation(received.conversation.id)[-1]
    assert sent.body == "Thanks Rosa, we got your message about: My sink leaks"
    assert sent.meta["automation"] == "Automation “rule message.received”"
    assert sent.author_kind == "ai" and sent.direction == "out"
    # Messenger allows replies for 24 hours after the customer's last message only.
    window = container.conversations.automated_message
    messenger = visit(container, workspace, "hi", channel="messenger", thread="psid-1")
    clock.advance(hours=25)
    with pytest.raises(Exception) as refused:
        window(workspace.id, messenger.conversation.id, "Late hello", "Automation “x”")
    assert "24" in str(refused.value)


def test_email_and_sms_actions(shop, settings, clock):
    container, workspace, admin = shop
    sent_mail: list[tuple] = []

    class Mailer:
        def send(self, to, subject, body):
            sent_mail.append((list(to), subject, body))

    container.notifications._sender = Mailer()
    saved = rule(
        container,
        workspace,
        admin,
        "lead.captured",
        [
            {"kind": "email", "to": "team", "subject": "New lead {name}", "body": "Call {phone}"},
            {"kind": "email", "to": "contact", "subject": "Welcome", "body": "Hi {first_name}!"},
            {"kind": "sms", "to": "contact", "body": "Hi {first_name}"},
        ],
    )
    received = visit(container, workspace, "hello")
    container.conversations.record_contact(
        workspace.id,
        received.conversation.id,
        ContactDetails(first_name="Rosa", email="rosa@example.com", phone="+16045550148"),
    )
    [run] = runs(container, workspace, saved)
    assert (["dana@bayside-dental.example"], "New lead Rosa", "Call +16045550148") in sent_mail
    assert (["rosa@example.com"], "Welcome", "Hi Rosa!") in sent_mail
    assert [a["ok"] for a in run.actions] == [True, True, False]
    # No SMS account is connected: the run says so, in words, and the emails still went.
    assert "SMS" in run.actions[2]["detail"] and "not connected" in run.actions[2]["detail"]
    assert "not connected" in run.error
    assert any(
        "emailed the contact at rosa@example.com" in n
        for n in notes(container, workspace, received.conversation.id)
    )


def test_sms_actions_text_the_team_and_the_contact_through_twilio(settings, clock):
    twilio = FakeTwilio(SID, TOKEN)
    settings = replace(settings, twilio_api_url=twilio.url, public_url=PUBLIC).ensure_data_dir()
    container = build(settings, clock=clock, dispatcher_override=RecordingDispatcher())
    workspace, admin = make_workspace(container, hours=HOURS)
    container.channels.connect_twilio(
        workspace.id, account_sid=SID, auth_token=TOKEN, number=NUMBER
    )
    saved = rule(
        container, workspace, admin, "lead.captured",
        [
            {"kind": "sms", "to": "team", "numbers": STAFF, "body": "Lead: {name} {phone}"},
            {"kind": "sms", "to": "contact", "body": "Thanks {first_name}, we'll call soon"},
        ],
    )  # fmt: skip
    received = visit(container, workspace, "hello")
    container.conversations.record_contact(
        workspace.id,
        received.conversation.id,
        ContactDetails(first_name="Rosa", phone=CALLER),
    )
    [run] = runs(container, workspace, saved)
    assert [a["ok"] for a in run.actions] == [True, True], run.actions
    sent = [(m["To"], m["From"], m["Body"]) for m in twilio.messages()]
    assert sent == [
        (STAFF, NUMBER, f"Lead: Rosa {CALLER}"),
        (CALLER, NUMBER, "Thanks Rosa, we'll call soon"),
    ]
    assert run.actions[1]["detail"] == "sent to the contact by SMS"  # no number in the log
    assert any(
        "texted the contact" in n for n in notes(container, workspace, received.conversation.id)
    )
    twilio.close()
    container.engine.dispose()


def test_webhook_action_posts_a_signed_event(shop, receiver):
    container, workspace, admin = shop
    endpoint, _ = container.outgoing_webhooks.add(workspace.id, receiver.url, "ping")
    saved = rule(
        container,
        workspace,
        admin,
        "message.received",
        [{"kind": "webhook", "endpoint_id": endpoint.id}],
    )
    received = visit(container, workspace, "Hello there")
    [run] = runs(container, workspace, saved)
    assert run.actions[0]["ok"] and run.actions[0]["detail"].startswith("delivery ")
    [request] = receiver.requests
    assert request["headers"]["X-Frontdesk-Signature"].startswith("t=")
    body = json.loads(request["body"])
    assert body["type"] == "message.received"
    assert body["data"]["message"] == {**body["data"]["message"], "id": received.message.id}
    assert body["data"]["message"]["body"] == "Hello there"


def test_spam_is_never_acted_on(shop):
    container, workspace, admin = shop
    saved = rule(container, workspace, admin, "message.received", [{"kind": "tag", "tag": "x"}])
    received = visit(container, workspace, "hi", email="spammer@example.com")
    contact = contact_of(container, workspace, received.conversation.id)
    container.conversations.block_sender(
        workspace.id, admin.id, "contact", str(contact.id), conversation_id=received.conversation.id
    )
    visit(container, workspace, "buy now", email="spammer@example.com")
    assert len(runs(container, workspace, saved)) == 1  # held messages trigger nothing
    # An event about a conversation that went to Spam meanwhile is judged, not acted on.
    trigger = Trigger("message.received", "message:late", received.conversation.id)
    [late] = container.automations.run(workspace.id, trigger)
    assert not late.matched and late.checks == [{"condition": "not in Spam", "ok": False}]
    assert late.actions == []


# -- loops and chains ---------------------------------------------------------------------


def test_a_rule_never_retriggers_itself_and_chains_stop(shop):
    container, workspace, admin = shop
    # Each rule's action causes the next rule's trigger.
    close_on_message = rule(container, workspace, admin, "message.received", [{"kind": "close"}])
    handoff_on_close = rule(
        container, workspace, admin, "conversation.closed", [{"kind": "handoff"}]
    )
    close_on_handoff = rule(
        container,
        workspace,
        admin,
        "handoff.requested",
        [{"kind": "close"}, {"kind": "tag", "tag": "looped"}],
    )
    received = visit(container, workspace, "hello")
    first = runs(container, workspace, close_on_message)
    second = runs(container, workspace, handoff_on_close)
    third = runs(container, workspace, close_on_handoff)
    assert [r.depth for r in first + second + third] == [0, 1, 2]
    # The third rule closes again: already closed, so no new event; nothing ran twice.
    assert third[0].actions[0]["detail"] == "already closed"
    assert contact_of(container, workspace, received.conversation.id).tags == ["looped"]
    # A chain that goes on is stopped after MAX_CHAIN rules, and that is logged.
    trigger = Trigger(
        "handoff.requested",
        "event:test",
        received.conversation.id,
        chain=tuple(range(1000, 1000 + MAX_CHAIN)),
    )
    [stopped] = container.automations.run(workspace.id, trigger)
    assert not stopped.matched and stopped.error.startswith("stopped:")
    assert stopped.actions == []


def test_own_action_does_not_rerun_the_rule(shop):
    container, workspace, admin = shop
    # A tag on every closed conversation, closing it again: its own event never re-runs it.
    saved = rule(
        container,
        workspace,
        admin,
        "conversation.closed",
        [{"kind": "close"}, {"kind": "tag", "tag": "closed"}],
    )
    received = visit(container, workspace)
    container.conversations.close(workspace.id, received.conversation.id, admin.id)
    container.conversations.reopen(workspace.id, received.conversation.id, admin.id)
    container.conversations.close(workspace.id, received.conversation.id, admin.id)
    assert len(runs(container, workspace, saved)) == 2  # one per staff close, no more


# -- dry run ------------------------------------------------------------------------------


def test_dry_run_judges_the_last_50_events_and_does_nothing(shop):
    container, workspace, _ = shop
    for n in range(55):
        visit(container, workspace, "refund please" if n % 5 == 0 else "hello", thread=f"v-{n}")
    draft = container.automations.check(
        workspace.id,
        name="Refunds",
        trigger="message.received",
        conditions=[{"kind": "keywords", "words": "refund"}],
        actions=[{"kind": "tag", "tag": "refund"}, {"kind": "close"}],
    )
    outcomes = container.automations.dry_run(workspace.id, draft)
    assert len(outcomes) == 50
    assert sum(o.matched for o in outcomes) == 10
    hit = next(o for o in outcomes if o.matched)
    assert hit.actions == [
        {"action": "tag the contact “refund”"},
        {"action": "close the conversation"},
    ]
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        assert all(not c.tags for c in repo.contacts.recent(limit=100))
        assert repo.automation_rules.all() == []
    # Other triggers are dry-run against the kept events of that trigger.
    draft = replace(draft, trigger="conversation.created", conditions=[])
    assert len(container.automations.dry_run(workspace.id, draft)) == 50


def test_disabled_rules_do_not_run(shop):
    container, workspace, admin = shop
    saved = rule(
        container, workspace, admin, "message.received", [{"kind": "close"}], enabled=False
    )
    visit(container, workspace)
    assert runs(container, workspace, saved) == []


# -- on a worker --------------------------------------------------------------------------


def test_rules_run_as_an_rq_job_on_real_redis(settings, clock, redis_conn):
    queue = Queue("default", connection=redis_conn)
    container = build(
        settings.ensure_data_dir(),
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
        automation_queue_override=RqAutomationQueue(queue),
    )
    workspace, admin = make_workspace(container, hours=HOURS)
    saved = rule(container, workspace, admin, "message.received", [{"kind": "tag", "tag": "q"}])
    received = visit(container, workspace, "hello")
    assert runs(container, workspace, saved) == []  # queued, not run yet
    [job] = queue.get_jobs()
    assert job.func_name == "agent.queue.automations.run_automations"
    RuntimeWorker(["default"], runtime=container, connection=redis_conn).work(burst=True)
    [run] = runs(container, workspace, saved)
    assert run.matched and contact_of(container, workspace, received.conversation.id).tags == ["q"]
    container.engine.dispose()


def test_a_member_of_another_workspace_cannot_be_assigned(shop):
    container, workspace, _ = shop
    _, other_admin = make_workspace(container, "Other Shop")
    with pytest.raises(ValidationError):
        container.automations.check(
            workspace.id,
            name="x",
            trigger="message.received",
            conditions=[],
            actions=[{"kind": "assign", "member_id": other_admin.id}],
        )


# -- Settings > Automations ---------------------------------------------------------------


@pytest.fixture
def pages(shop):
    container, workspace, admin = shop
    app, _ = create_app(container, testing=True)
    container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    client = app.test_client()
    response, token = login(client, admin.email)
    assert response.status_code == 302
    return app, client, token, container, workspace, admin


def test_admins_write_dry_run_save_switch_on_and_read_the_log(pages):
    _, client, token, container, workspace, admin = pages
    for n in range(3):
        visit(container, workspace, "I need a refund" if n else "hello", thread=f"v-{n}")
    page = client.get("/settings/automations/").get_data(as_text=True)
    assert "No rules yet" in page and 'href="/settings/automations"' in page
    form = {
        "csrf_token": token,
        "name": "Refunds to Dana",
        "trigger": "message.received",
        "cond_keywords": "refund",
        "cond_channels": "webchat",
        "act_assign": str(admin.id),
        "act_tag": "refund",
    }
    # A bad pattern: the form comes back with the error and what was typed.
    bad = client.post("/settings/automations/new", data={**form, "cond_regex": "(x+)+"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "can take forever" in text and 'value="Refunds to Dana"' in text
    # Dry run: nothing saved, the verdict on each recent message.
    tried = client.post("/settings/automations/new", data={**form, "do": "dry-run"})
    text = tried.get_data(as_text=True)
    assert tried.status_code == 200 and "Tried on the last 3 events" in text
    assert '<strong id="dry-run-matched">2</strong>' in text
    assert container.automations.rules(workspace.id) == []
    saved = client.post("/settings/automations/new", data={**form, "do": "save"})
    assert saved.status_code == 302
    [rule] = container.automations.rules(workspace.id)
    assert not rule.enabled and rule.conditions[0] == {"kind": "channel", "channels": ["webchat"]}
    page = client.get(saved.location).get_data(as_text=True)
    assert 'value="refund"' in page and "No runs yet" in page
    assert "A customer sends a message, if channel is webchat and message mentions" in page
    client.post(
        f"/settings/automations/{rule.id}/switch", data={"csrf_token": token, "enabled": "on"}
    )
    assert container.automations.rule(workspace.id, rule.id).enabled
    visit(container, workspace, "refund now", thread="v-9")
    page = client.get(f"/settings/automations/{rule.id}").get_data(as_text=True)
    assert "✓ assign to Dana Admin: assigned" in page
    assert "✓ tag the contact “refund”: tagged" in page
    contact = contact_of(container, workspace, run_conversation(container, workspace, rule))
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert '<dd id="contact-tags"><span class="badge">refund</span>' in page
    # Editing keeps it on; removing takes its log with it.
    client.post(f"/settings/automations/{rule.id}", data={**form, "name": "Refunds", "do": "save"})
    assert container.automations.rule(workspace.id, rule.id).name == "Refunds"
    assert container.automations.rule(workspace.id, rule.id).enabled
    client.post(f"/settings/automations/{rule.id}/remove", data={"csrf_token": token})
    assert container.automations.rules(workspace.id) == []


def test_switch_never_redirects_off_the_site(pages):
    _, client, token, container, workspace, admin = pages
    saved = rule(container, workspace, admin, "message.received", [{"kind": "close"}])
    answer = client.post(
        f"/settings/automations/{saved.id}/switch",
        data={"csrf_token": token, "next": "https://evil.example/"},
    )
    assert answer.location == "/settings/automations/"


def test_staff_cannot_see_or_change_automations(pages):
    app, _, _, container, workspace, admin = pages
    saved = rule(container, workspace, admin, "message.received", [{"kind": "close"}])
    client = app.test_client()
    _, token = login(client, "sam@bayside.example")
    assert client.get("/settings/automations/").status_code == 403
    answer = client.post(f"/settings/automations/{saved.id}/remove", data={"csrf_token": token})
    assert answer.status_code == 403
    assert container.automations.rules(workspace.id) != []


def test_other_processes_see_a_rule_switched_on_within_seconds(shop, settings, clock):
    container, workspace, admin = shop
    # Another process over the same database (a worker), with its own clock for the cache.
    other = build(
        replace(settings, allow_private_urls=True).ensure_data_dir(),
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
    )
    ticks = [0.0]
    service = AutomationService(
        other.uow,
        other.clock,
        other.conversations,
        other.notifications,
        other.outgoing_webhooks,
        other.delivery,
        None,
        monotonic=lambda: ticks[0],
    )
    other.automations = service  # what the container's event handler uses
    visit(other, workspace, "before any rule", thread="v-1")  # caches "no rule waits"
    saved = rule(container, workspace, admin, "message.received", [{"kind": "tag", "tag": "x"}])
    visit(other, workspace, "too soon", thread="v-2")
    assert runs(container, workspace, saved) == []
    ticks[0] += TRIGGERS_TTL
    received = visit(other, workspace, "now", thread="v-3")
    [run] = runs(container, workspace, saved)
    assert run.event_key == f"message:{received.message.id}"
    other.engine.dispose()

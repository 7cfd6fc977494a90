"""Outbound delivery on provider channels: stored first, then sent by the channel's sender.

Runs the real services on SQLite and PostgreSQL; the sender is a recording adapter and
the delivery queue a recording double (the rq queue itself is tested at the end).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.delivery import DeliveryOutcome, advances, backoff
from agent.core.errors import Conflict, PermanentSendError, TransientSendError
from agent.core.events import MessageStatusChanged
from agent.core.models import SendResult
from frontdesk.wiring import build
from tests.conftest import RecordingDispatcher, make_workspace


class RecordingSender:
    """The sender port, recording what it was given; ``fail`` scripts the next outcomes."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []
        self.fail: list[Exception] = []

    def send(self, account, conversation, message, contact) -> SendResult:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((account, conversation, message, contact))
        return SendResult(f"prov-{len(self.sent)}")


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[int, int, float]] = []

    def enqueue(self, workspace_id: int, message_id: int, *, delay: float = 0) -> None:
        self.jobs.append((workspace_id, message_id, delay))


@pytest.fixture
def wired(settings, clock):
    sender, queue = RecordingSender(), RecordingQueue()
    container = build(
        settings.ensure_data_dir(),
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
        delivery_queue_override=queue,
        senders_override={"sms": sender},
    )
    yield container, sender, queue
    container.engine.dispose()


def _sms_conversation(container, workspace, member, body="Your crown is ready."):
    container.channels.connect(
        workspace.id, "sms", "+16045550100", credentials={"auth_token": "tw-secret-0123456789"}
    )
    return container.conversations.start_conversation(
        workspace.id,
        member.id,
        "sms",
        body,
        new_contact=ContactDetails(first_name="Sam", phone="(604) 555-0142"),
    )


def _message(container, workspace_id, message_id):
    with container.uow() as uow:
        return uow.workspace(workspace_id).messages.get(message_id)


def _outbound(container, workspace_id, conversation_id):
    with container.uow() as uow:
        thread = uow.workspace(workspace_id).messages.for_conversation(conversation_id)
    return [m for m in thread if m.direction == "out"]


def test_stored_queued_first_then_delivered_by_the_job(wired):
    container, sender, queue = wired
    workspace, dana = make_workspace(container)
    events = []
    container.events.subscribe(MessageStatusChanged, events.append)
    conversation = _sms_conversation(
        container, workspace, dana, "See [our prices](https://bayside.example/prices)"
    )
    (message,) = _outbound(container, workspace.id, conversation.id)
    assert message.delivery_status == "queued" and sender.sent == []
    assert queue.jobs == [(workspace.id, message.id, 0)]

    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.SENT
    account, sent_conversation, sent, contact = sender.sent[0]
    assert sent.body == "See our prices (https://bayside.example/prices)"  # SMS has no links
    assert contact.phone == "+16045550142" and sent_conversation.id == conversation.id
    assert account.credentials == {"auth_token": "tw-secret-0123456789"}
    assert account.sender_name == "Dana Admin" and account.business_name == "Bayside Dental"
    stored = _message(container, workspace.id, message.id)
    assert stored.delivery_status == "sent" and stored.provider_message_id == "prov-1"
    assert stored.body.startswith("See [our prices]")  # the stored text is untouched
    assert [e.status for e in events] == ["sent"]
    # Run again (a duplicate job): nothing is sent twice.
    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.SKIPPED
    assert len(sender.sent) == 1


def test_ai_and_staff_replies_on_a_provider_channel_are_enqueued(wired):
    container, _, queue = wired
    workspace, dana = make_workspace(container)
    container.channels.connect(workspace.id, "sms", "+16045550100")
    received = container.conversations.receive(
        workspace.id, Inbound(channel="sms", body="Open today?", thread_id="+16045550142")
    )
    assert received.routed_to_ai
    ai = container.conversations.post_ai_reply(
        workspace.id, received.conversation.id, "Yes, until 6.", in_reply_to=received.message.id
    )
    staff = container.conversations.reply(workspace.id, received.conversation.id, dana.id, "Hi!")
    assert [job[1] for job in queue.jobs] == [ai.id, staff.id]
    # Web chat goes through the widget's socket, never the delivery queue.
    web = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="hello", thread_id="v1")
    )
    container.conversations.reply(workspace.id, web.conversation.id, dana.id, "Hello there")
    assert len(queue.jobs) == 2


def test_transient_errors_back_off_exponentially_then_succeed(wired):
    container, sender, queue = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    sender.fail = [TransientSendError("503 from the provider"), TransientSendError("timeout")]
    queue.jobs.clear()

    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.RETRYING
    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.RETRYING
    assert queue.jobs == [(workspace.id, message.id, 30.0), (workspace.id, message.id, 60.0)]
    waiting = _message(container, workspace.id, message.id)
    assert waiting.delivery_status == "queued"
    assert waiting.meta["delivery"] == {
        "error": "timeout",
        "attempts": 2,
        "next_at": "2026-03-02T18:01:00+00:00",  # when the sweep would call its job lost
    }

    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.SENT
    assert _message(container, workspace.id, message.id).delivery_status == "sent"
    assert [backoff(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_too_many_transient_errors_fail_the_message(wired):
    container, sender, _ = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    sender.fail = [TransientSendError("provider down")] * 6
    outcomes = [container.delivery.deliver(workspace.id, message.id) for _ in range(6)]
    assert outcomes == [DeliveryOutcome.RETRYING] * 5 + [DeliveryOutcome.FAILED]
    failed = _message(container, workspace.id, message.id)
    assert failed.delivery_status == "failed"
    assert failed.meta["delivery"]["error"] == "gave up after 6 attempts: provider down"


def test_permanent_failure_marks_failed_with_the_reason_and_staff_can_retry(wired):
    container, sender, queue = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    sender.fail = [PermanentSendError("21610: the number tw-secret-0123456789 unsubscribed")]
    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.FAILED
    failed = _message(container, workspace.id, message.id)
    assert failed.delivery_status == "failed"
    # The provider's reason is kept, without the account's secret in it.
    assert failed.meta["delivery"]["error"] == "21610: the number ••••6789 unsubscribed"
    with pytest.raises(Conflict):  # only failed messages are retried
        container.delivery.retry(workspace.id, _sms_conversation_id_other(container), dana.id)

    queue.jobs.clear()
    retried = container.delivery.retry(workspace.id, message.id, dana.id)
    assert retried.delivery_status == "queued" and queue.jobs == [(workspace.id, message.id, 0)]
    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.SENT
    assert _message(container, workspace.id, message.id).delivery_status == "sent"
    with pytest.raises(Conflict):
        container.delivery.retry(workspace.id, message.id, dana.id)


def _sms_conversation_id_other(container):
    """A queued message id (not failed): the retry must refuse it."""
    workspace = container.workspaces.all()[0]
    with container.uow() as uow:
        member = uow.workspace(workspace.id).team.all()[0]
    conversation = container.conversations.start_conversation(
        workspace.id, member.id, "sms", "Second", new_contact=ContactDetails(phone="6045550143")
    )
    return _outbound(container, workspace.id, conversation.id)[0].id


def test_an_account_problem_shows_on_the_channel(wired):
    container, sender, _ = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    sender.fail = [PermanentSendError("20003: authenticate", account_problem=True)]
    container.delivery.deliver(workspace.id, message.id)
    account = container.channels.account(workspace.id, "sms")
    assert account.status == "error" and account.last_error == "20003: authenticate"
    assert "sms" not in container.channels.connected(workspace.id)


def test_unconnected_channel_or_missing_sender_fails_with_a_clear_reason(wired):
    container, _, _ = wired
    workspace, dana = make_workspace(container)
    conversation = container.conversations.start_conversation(
        workspace.id, dana.id, "email", "Hi", new_contact=ContactDetails(email="sam@example.com")
    )
    (message,) = _outbound(container, workspace.id, conversation.id)
    container.delivery.deliver(workspace.id, message.id)
    assert _message(container, workspace.id, message.id).meta["delivery"]["error"] == (
        "Email is not connected: connect it under Settings > Channels"
    )
    container.channels.connect(workspace.id, "email", "bayside-1a2b3c@reply.example.com")
    container.delivery.retry(workspace.id, message.id, dana.id)
    container.delivery.deliver(workspace.id, message.id)  # no FRONTDESK_SMTP_URL here
    assert _message(container, workspace.id, message.id).meta["delivery"]["error"] == (
        "this server has no Email sender configured"
    )


def test_status_callbacks_are_idempotent_and_never_move_backwards(wired):
    container, _, _ = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    container.delivery.deliver(workspace.id, message.id)
    events = []
    container.events.subscribe(MessageStatusChanged, events.append)
    update = container.delivery.update_status
    assert update("sms", "prov-1", "delivered").delivery_status == "delivered"
    assert update("sms", "prov-1", "delivered").delivery_status == "delivered"  # again
    assert update("sms", "prov-1", "read").delivery_status == "read"
    assert update("sms", "prov-1", "delivered").delivery_status == "read"  # late: ignored
    assert update("sms", "prov-1", "sent").delivery_status == "read"
    assert update("sms", "prov-1", "failed", error="x").delivery_status == "read"
    assert [e.status for e in events] == ["delivered", "read"]  # one event per real change
    assert update("sms", "unknown", "read") is None
    assert update("whatsapp", "prov-1", "read") is None  # keyed by channel too
    other, _ = make_workspace(container, "Harbour Physio")
    assert update("sms", "prov-1", "read", workspace_id=other.id) is None


def test_a_failure_callback_after_sent_marks_failed_with_the_reason(wired):
    container, _, _ = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    container.delivery.deliver(workspace.id, message.id)
    failed = container.delivery.update_status(
        "sms", "prov-1", "failed", error="30006: landline", workspace_id=workspace.id
    )
    assert failed.delivery_status == "failed" and failed.meta["delivery"]["error"] == (
        "30006: landline"
    )
    assert container.delivery.update_status("sms", "prov-1", "delivered").delivery_status == (
        "failed"
    )


def test_status_order():
    assert advances("queued", "sent") and advances("sent", "read")
    assert advances("queued", "failed") and advances("sent", "failed")
    assert not advances("delivered", "failed") and not advances("failed", "sent")
    assert not advances("read", "delivered") and not advances("sent", "sent")
    assert not advances("received", "sent")


def test_auto_reply_off_keeps_the_ai_silent_on_that_channel(wired):
    container, _, queue = wired
    workspace, _ = make_workspace(container)
    container.channels.connect(workspace.id, "sms", "+16045550100")
    container.channels.set_auto_reply(workspace.id, "sms", False)
    dispatcher = container.dispatcher
    received = container.conversations.receive(
        workspace.id, Inbound(channel="sms", body="Open today?", thread_id="+16045550142")
    )
    assert not received.routed_to_ai and dispatcher.turns == []
    reply = container.conversations.post_ai_reply(
        workspace.id, received.conversation.id, "Yes", in_reply_to=received.message.id
    )
    assert reply is None and queue.jobs == []
    assert container.turns.run(workspace.id, received.conversation.id, received.message.id) == (
        "not_ai"
    )
    # Web chat keeps its receptionist.
    web = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="hi", thread_id="v1")
    )
    assert web.routed_to_ai


def test_staff_replies_longer_than_the_channel_allows_are_refused(wired):
    from agent.core.errors import ValidationError

    container, _, _ = wired
    workspace, dana = make_workspace(container)
    with pytest.raises(ValidationError, match="SMS messages are at most 1,600 characters"):
        container.conversations.start_conversation(
            workspace.id, dana.id, "sms", "x" * 1601, new_contact=ContactDetails(phone="6045550142")
        )


def test_credentials_are_encrypted_at_rest(wired):
    container, _, _ = wired
    workspace, _ = make_workspace(container)
    container.channels.connect(
        workspace.id, "sms", "+16045550100", credentials={"auth_token": "tw-secret-0123456789"}
    )
    with container.engine.connect() as connection:
        raw = connection.execute(text("SELECT credentials, settings FROM channel_account")).one()
    assert "tw-secret" not in raw[0] and "tw-secret" not in str(raw[1])
    assert raw[0].startswith("gAAAA")  # a Fernet token
    (sms,) = [s for s in container.channels.states(workspace.id) if s.channel == "sms"]
    assert sms.credentials == {"auth_token": "••••6789"}
    assert "tw-secret" not in repr(container.channels.account(workspace.id, "sms"))
    # Another secret key cannot open them.
    from dataclasses import replace

    from agent.core.errors import FrontdeskError

    other = build(replace(container.settings, secret_key="another key"), clock=container.clock)
    try:
        with pytest.raises(FrontdeskError, match="connect the channel again"):
            other.channels.credentials(other.channels.account(workspace.id, "sms"))
    finally:
        other.engine.dispose()


def test_one_provider_account_belongs_to_one_workspace(wired):
    container, _, _ = wired
    bayside, _ = make_workspace(container)
    harbour, _ = make_workspace(container, "Harbour Physio")
    container.channels.connect(bayside.id, "sms", "+16045550100")
    with pytest.raises(Conflict, match="another workspace"):
        container.channels.connect(harbour.id, "sms", "+16045550100")
    container.channels.connect(harbour.id, "whatsapp", "+16045550100")  # another channel: fine
    assert container.channels.route("sms", "+16045550100").workspace_id == bayside.id
    assert container.channels.route("whatsapp", "+16045550100").workspace_id == harbour.id
    assert container.channels.route("sms", "+10000000000") is None
    # Reconnecting the same account, or replacing it by another, in its own workspace.
    container.channels.connect(bayside.id, "sms", "+16045550100")
    container.channels.connect(bayside.id, "sms", "+16045550199")
    assert container.channels.route("sms", "+16045550100") is None
    assert container.channels.disconnect(bayside.id, "sms")
    assert not container.channels.disconnect(bayside.id, "sms")
    container.channels.connect(harbour.id, "sms", "+16045550100")  # free again


def test_the_database_refuses_a_second_owner(wired):
    """The unique index holds even when two connects race past the service's check."""
    from agent.core.models import ChannelAccount

    container, _, _ = wired
    bayside, _ = make_workspace(container)
    harbour, _ = make_workspace(container, "Harbour Physio")
    container.channels.connect(bayside.id, "sms", "+16045550100")
    with pytest.raises(Conflict), container.uow() as uow:
        uow.workspace(harbour.id).add(
            ChannelAccount(workspace_id=harbour.id, channel="sms", external_id="+16045550100")
        )
        uow.commit()


def test_deliver_job_through_rq(settings, clock, redis_conn, redis_url):
    """The real queue: the job runs on a worker and delayed retries wait in rq's scheduler."""
    from rq import Queue

    from agent.queue.delivery import RqDeliveryQueue

    sender = RecordingSender()
    container = build(
        settings.ensure_data_dir(),
        redis_url=redis_url,
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
        senders_override={"sms": sender},
    )
    try:
        assert isinstance(container.delivery_queue, RqDeliveryQueue)
        workspace, dana = make_workspace(container)
        conversation = _sms_conversation(container, workspace, dana)
        (message,) = _outbound(container, workspace.id, conversation.id)
        sender.fail = [TransientSendError("busy")]
        container.worker(["default"]).work(burst=True)
        assert _message(container, workspace.id, message.id).delivery_status == "queued"
        scheduled = Queue("default", connection=container.redis).scheduled_job_registry
        assert len(scheduled.get_job_ids()) == 1  # the retry, 30 s from now
        container.delivery_queue.enqueue(workspace.id, message.id)  # as if its time came
        container.worker(["default"]).work(burst=True)
        assert _message(container, workspace.id, message.id).delivery_status == "sent"
    finally:
        container.engine.dispose()


def test_two_jobs_for_one_message_send_it_once(wired):
    import threading
    import time

    container, sender, _ = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    original = sender.send

    def slow(*args):
        time.sleep(0.2)
        return original(*args)

    sender.send = slow
    outcomes = []
    jobs = [
        threading.Thread(
            target=lambda: outcomes.append(container.delivery.deliver(workspace.id, message.id))
        )
        for _ in range(2)
    ]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    assert sorted(outcomes) == [DeliveryOutcome.SENT, DeliveryOutcome.SKIPPED]
    assert len(sender.sent) == 1


def test_an_unexpected_sender_error_is_retried_like_a_transient_one(wired):
    container, sender, queue = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    sender.fail = [RuntimeError("socket closed, token tw-secret-0123456789")]
    queue.jobs.clear()
    assert container.delivery.deliver(workspace.id, message.id) == DeliveryOutcome.RETRYING
    assert queue.jobs == [(workspace.id, message.id, 30.0)]
    error = _message(container, workspace.id, message.id).meta["delivery"]["error"]
    assert error == "unexpected error: RuntimeError: socket closed, token ••••6789"


def test_a_message_whose_delivery_job_was_lost_is_queued_again(wired):
    container, _, queue = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    queue.jobs.clear()  # the worker that took the job died with it
    container.clock.advance(minutes=4)
    assert container.delivery.sweep() == []  # maybe only slow, so far
    container.clock.advance(minutes=2)
    assert container.delivery.sweep() == [message.id]
    assert [job[1] for job in queue.jobs] == [message.id]
    container.delivery.deliver(workspace.id, message.id)
    assert _message(container, workspace.id, message.id).delivery_status == "sent"
    assert container.delivery.sweep() == []  # sent: nothing left to do


def test_a_retry_waiting_for_its_backoff_is_not_swept_early(wired):
    container, sender, queue = wired
    workspace, dana = make_workspace(container)
    conversation = _sms_conversation(container, workspace, dana)
    (message,) = _outbound(container, workspace.id, conversation.id)
    sender.fail = [TransientSendError("503"), TransientSendError("503"), TransientSendError("503")]
    for _ in range(3):
        container.delivery.deliver(workspace.id, message.id)  # 30 s, 1 min, 2 min backoffs
    queue.jobs.clear()
    container.clock.advance(minutes=6)  # due after 2 min, lost for 4: not yet
    assert container.delivery.sweep() == []
    container.clock.advance(minutes=2)
    assert container.delivery.sweep() == [message.id]

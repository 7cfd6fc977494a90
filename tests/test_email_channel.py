"""The email channel end to end, over real SMTP sessions.

Our inbound server (aiosmtpd, started by the container exactly as `frontdesk up` starts
it) is under test through smtplib; the outbound relay that FRONTDESK_SMTP_URL points at
is an aiosmtpd sink recording every envelope. Without Redis the mail job, the AI turn
and the delivery run inline, so when the customer's SMTP session ends the answer has
already reached the relay. One test runs the mail job through real rq and Redis.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from agent.core.channel_policy import NO_AUTO_REPLY
from agent.core.models import AuthorKind
from channels.email.addresses import reply_address
from frontdesk.wiring import Container, build
from tests.conftest import make_workspace

SAMPLES = Path(__file__).parent / "email_samples"
DOMAIN = "reply.example.com"
PUBLIC = "hello@bayside.example"
ANN = "ann@customer.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """The outbound relay: records what it accepted; ``data_reply`` scripts a refusal."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.data_reply = "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.data_reply

    def mails(self) -> list[EmailMessage]:
        return [
            message_from_bytes(e.content.replace(b"\r\n", b"\n"), policy=policy.default)
            for e in self.envelopes
        ]


class LinkResponder:
    """The AI receptionist's seat: answers the newest customer message through the real
    service (the agent graph is wired the same way; its answers are tested elsewhere)."""

    def __init__(self) -> None:
        self.container: Container | None = None
        self.calls = 0

    def respond(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        self.calls += 1
        assert self.container is not None
        self.container.conversations.post_ai_reply(
            workspace_id,
            conversation_id,
            "We fix most bikes the same day. See [our prices](https://bayside.example/prices).",
            in_reply_to=message_id,
        )


class ScriptedQueue:
    """Delivers at once like the inline queue, but keeps delayed retries for the test."""

    def __init__(self) -> None:
        self.container: Container | None = None
        self.later: list[tuple[int, int, float]] = []

    def enqueue(self, workspace_id: int, message_id: int, *, delay: float = 0) -> None:
        if delay:
            self.later.append((workspace_id, message_id, delay))
            return
        assert self.container is not None
        self.container.delivery.deliver(workspace_id, message_id)


@dataclass
class Mailroom:
    container: Container
    workspace_id: int
    member_id: int
    inbound: str
    server: object
    sink: Sink
    relay_port: int
    responder: LinkResponder
    queue: ScriptedQueue

    def send(self, message: EmailMessage | bytes, *, to: str | None = None, sender: str = ANN):
        """A customer's mail server hands us one mail (a real SMTP session)."""
        if isinstance(message, bytes):  # a sample file: CRLF line ends, as on the wire
            raw = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        else:
            raw = message.as_bytes(policy=policy.SMTP)
        with smtplib.SMTP(self.server.host, self.server.port, timeout=10) as smtp:
            return smtp.sendmail(sender, [to or self.inbound], raw)

    def thread(self, conversation_id: int):
        with self.container.uow() as uow:
            return list(uow.workspace(self.workspace_id).messages.for_conversation(conversation_id))

    def conversations(self):
        with self.container.uow() as uow:
            return list(uow.workspace(self.workspace_id).conversations.list(limit=100))


def customer_mail(
    body: str = "Hi, can you fix a flat tyre today?\n\nAnn",
    *,
    subject: str = "Flat tyre",
    message_id: str = "<m1@customer.example>",
    to: str = PUBLIC,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Ann Lee <{ANN}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture
def relay() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture
def mailroom(settings, clock, relay) -> Iterator[Mailroom]:
    sink, port = relay
    responder, queue = LinkResponder(), ScriptedQueue()
    container = build(
        replace(
            settings, email_domain=DOMAIN, smtp_url=f"smtp://127.0.0.1:{port}"
        ).ensure_data_dir(),
        redis_url="",
        clock=clock,
        responder_override=responder,
        delivery_queue_override=queue,
    )
    responder.container = queue.container = container
    workspace, member = make_workspace(container)
    account = container.channels.connect_email(workspace.id, PUBLIC)
    server = container.inbound_smtp("127.0.0.1", 0)
    try:
        yield Mailroom(
            container, workspace.id, member.id, account.external_id, server, sink, port,
            responder, queue,
        )  # fmt: skip
    finally:
        server.stop()
        container.engine.dispose()


def test_a_new_mail_starts_a_conversation_and_the_ai_answers_with_the_right_headers(mailroom):
    assert mailroom.send(customer_mail()) == {}
    [conversation] = mailroom.conversations()
    assert conversation.channel == "email"
    inbound, answer = mailroom.thread(conversation.id)
    assert inbound.body == "Hi, can you fix a flat tyre today?\n\nAnn"
    assert inbound.provider_message_id == "<m1@customer.example>"
    with mailroom.container.uow() as uow:
        contact = uow.workspace(mailroom.workspace_id).contacts.get(conversation.contact_id)
    assert (contact.first_name, contact.last_name, contact.email) == ("Ann", "Lee", ANN)

    [envelope] = mailroom.sink.envelopes
    assert envelope.mail_from == mailroom.inbound  # bounces come back to us
    assert envelope.rcpt_tos == [ANN]
    [mail] = mailroom.sink.mails()
    assert mail["From"] == f"Bayside Dental <{PUBLIC}>"
    token = reply_address(mailroom.inbound, conversation.id, mailroom.container.email_key)
    assert mail["Reply-To"] == f"Bayside Dental <{token}>"
    assert mail["In-Reply-To"] == "<m1@customer.example>"
    assert mail["References"] == "<m1@customer.example>"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Subject"] == "Re: Flat tyre"
    text = mail.get_content()
    assert text.startswith("Hi Ann,\n\nWe fix most bikes the same day.")
    assert "our prices (https://bayside.example/prices)" in text  # no Markdown in mail
    assert text.rstrip().endswith("Bayside Dental")
    assert answer.author_kind == AuthorKind.AI and answer.delivery_status == "sent"
    assert answer.provider_message_id == mail["Message-ID"]  # so a bounce finds it


def test_the_customers_reply_threads_into_the_same_conversation(mailroom):
    mailroom.send(customer_mail())
    [first_answer] = mailroom.sink.mails()
    token = first_answer["Reply-To"].addresses[0].addr_spec
    reply = customer_mail(
        "Great, I'll come at 3.\n\nOn Mon, Bayside Dental wrote:\n> We fix most bikes",
        subject="Re: Flat tyre",
        message_id="<m2@customer.example>",
        to=token,
        In_Reply_To=first_answer["Message-ID"],
        References=f"<m1@customer.example> {first_answer['Message-ID']}",
    )
    mailroom.send(reply, to=token)
    [conversation] = mailroom.conversations()
    thread = mailroom.thread(conversation.id)
    assert [m.author_kind for m in thread] == ["contact", "ai", "contact", "ai"]
    assert thread[2].body == "Great, I'll come at 3."  # what the AI reads
    assert "> We fix most bikes" in thread[2].meta["original"]  # the whole mail, kept
    second = mailroom.sink.mails()[1]
    assert second["In-Reply-To"] == "<m2@customer.example>"
    assert second["References"].split() == [
        "<m1@customer.example>", first_answer["Message-ID"], "<m2@customer.example>",
    ]  # fmt: skip

    # A client that drops Reply-To still threads, by our Message-ID in In-Reply-To.
    again = customer_mail(
        "One more thing: do you sell tubes?",
        subject="Re: Flat tyre",
        message_id="<m3@customer.example>",
        In_Reply_To=second["Message-ID"],
    )
    mailroom.send(again)
    assert len(mailroom.conversations()) == 1
    assert len(mailroom.thread(conversation.id)) == 6


def test_a_new_mail_without_thread_headers_from_someone_else_starts_its_own(mailroom):
    mailroom.send(customer_mail())
    other = customer_mail(message_id="<b1@other.example>")
    other.replace_header("From", "Bob <bob@other.example>")
    mailroom.send(other, sender="bob@other.example")
    assert len(mailroom.conversations()) == 2


def test_the_same_mail_delivered_twice_is_stored_once(mailroom):
    mailroom.send(customer_mail())
    mailroom.send(customer_mail())
    [conversation] = mailroom.conversations()
    assert len(mailroom.thread(conversation.id)) == 2
    assert len(mailroom.sink.envelopes) == 1


def test_a_staff_reply_goes_out_with_the_staff_members_name(mailroom):
    mailroom.send(customer_mail())
    [conversation] = mailroom.conversations()
    mailroom.container.conversations.reply(
        mailroom.workspace_id, conversation.id, mailroom.member_id, "I'll look at it myself."
    )
    staff = mailroom.sink.mails()[-1]
    assert staff["From"] == f"Dana Admin at Bayside Dental <{PUBLIC}>"
    assert staff["Auto-Submitted"] is None  # a person wrote it
    assert staff["In-Reply-To"] == "<m1@customer.example>"
    assert staff.get_content().strip() == "I'll look at it myself."
    assert mailroom.thread(conversation.id)[-1].delivery_status == "sent"


def test_without_a_public_address_replies_come_from_the_inbound_address(mailroom):
    mailroom.container.channels.connect_email(mailroom.workspace_id, "")
    mailroom.send(customer_mail())
    assert mailroom.sink.mails()[0]["From"] == f"Bayside Dental <{mailroom.inbound}>"


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("out_of_office.eml", "sent automatically (Auto-Submitted: auto-replied)"),
        ("list_mail.eml", "bulk or list mail"),
    ],
)
def test_auto_replies_and_list_mail_are_stored_but_never_answered(mailroom, sample, reason):
    mailroom.send((SAMPLES / sample).read_bytes())
    [conversation] = mailroom.conversations()
    [message] = mailroom.thread(conversation.id)
    assert reason in message.meta[NO_AUTO_REPLY]
    assert mailroom.responder.calls == 0 and mailroom.sink.envelopes == []
    # The sweeper's redelivery obeys it too: the turn is refused.
    outcome = mailroom.container.turns.run(mailroom.workspace_id, conversation.id, message.id)
    assert outcome == "not_ai" and mailroom.responder.calls == 0


def test_a_sender_gets_a_few_ai_replies_an_hour_then_waits_for_staff(mailroom):
    for n in range(6):
        mailroom.send(customer_mail(f"Question {n}?", message_id=f"<q{n}@customer.example>"))
    assert len(mailroom.sink.envelopes) == 5
    [conversation] = mailroom.conversations()
    last = mailroom.thread(conversation.id)[-1]
    assert last.body == "Question 5?"
    assert "already got 5 automatic replies this hour" in last.meta[NO_AUTO_REPLY]


def test_mail_from_our_own_address_is_not_answered(mailroom):
    own = customer_mail()
    own.replace_header("From", f"Bayside Dental <{PUBLIC}>")
    mailroom.send(own, sender=PUBLIC)
    [conversation] = mailroom.conversations()
    assert "own address" in mailroom.thread(conversation.id)[0].meta[NO_AUTO_REPLY]
    assert mailroom.sink.envelopes == []


def test_a_gmail_forwarding_confirmation_is_shown_on_the_card_and_never_answered(mailroom):
    mailroom.send(
        (SAMPLES / "gmail_forwarding_confirmation.eml").read_bytes(),
        sender="3dGtgZRQKCJ8xolmrn-mbenybk.ZlmbenybkZlm@google.com",
    )
    assert mailroom.conversations() == [] and mailroom.sink.envelopes == []
    states = mailroom.container.channels.states(mailroom.workspace_id)
    [email] = [s for s in states if s.channel == "email"]
    confirmation = email.as_dict()["forwarding_confirmation"]
    assert confirmation["provider"] == "gmail" and confirmation["code"] == "581204736"
    assert confirmation["link"].startswith("https://mail-settings.google.com/mail/vf-")
    assert confirmation["requested_by"] == "hello@bayview.example"


def test_an_unknown_recipient_gets_550(mailroom):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        mailroom.send(customer_mail(), to=f"nobody@{DOMAIN}")
    assert refused.value.recipients[f"nobody@{DOMAIN}"][0] == 550
    assert mailroom.conversations() == []


def test_attachments_are_stored_and_listed(mailroom):
    mailroom.send((SAMPLES / "attachments.eml").read_bytes())
    [conversation] = mailroom.conversations()
    message = mailroom.thread(conversation.id)[0]
    files = message.meta["attachments"]
    assert files and all("stored" in f or "note" in f for f in files)
    for entry in files:
        if "stored" in entry:
            path = mailroom.container.attachments.path(mailroom.workspace_id, entry["stored"])
            assert path is not None and path.stat().st_size == entry["size"]
    assert mailroom.container.attachments.path(mailroom.workspace_id, "../frontdesk.db") is None


def test_a_relay_that_is_down_leaves_the_message_queued_then_it_is_retried(mailroom, relay):
    sink, port = relay
    mailroom.container.email_sender._transport.target = replace(  # type: ignore[attr-defined]
        mailroom.container.email_sender._transport.target,  # type: ignore[attr-defined]
        port=free_port(),
    )
    mailroom.send(customer_mail())
    [conversation] = mailroom.conversations()
    answer = mailroom.thread(conversation.id)[-1]
    assert answer.delivery_status == "queued"
    assert "refused the connection" in answer.meta["delivery"]["error"]
    [(workspace_id, message_id, delay)] = mailroom.queue.later
    assert message_id == answer.id and delay == 30
    # The relay is back: the scheduled retry sends it.
    mailroom.container.email_sender._transport.target = replace(  # type: ignore[attr-defined]
        mailroom.container.email_sender._transport.target,  # type: ignore[attr-defined]
        port=port,
    )
    assert mailroom.container.delivery.deliver(workspace_id, message_id) == "sent"
    assert mailroom.thread(conversation.id)[-1].delivery_status == "sent"
    assert len(sink.envelopes) == 1


def test_a_permanent_refusal_marks_the_message_failed_with_the_reason(mailroom):
    mailroom.sink.data_reply = "554 5.7.1 Message rejected: looks like spam"
    mailroom.send(customer_mail())
    [conversation] = mailroom.conversations()
    answer = mailroom.thread(conversation.id)[-1]
    assert answer.delivery_status == "failed"
    assert answer.meta["delivery"]["error"] == "554 5.7.1 Message rejected: looks like spam"
    assert mailroom.queue.later == []


def test_a_bounce_marks_our_message_failed(mailroom):
    mailroom.send(customer_mail())
    [conversation] = mailroom.conversations()
    answer = mailroom.thread(conversation.id)[-1]
    dsn = (
        (SAMPLES / "dsn_postfix.eml")
        .read_bytes()
        .replace(
            b"<fd.c42-aaaaaaaaaa.5e6f7a8b@reply.example.com>", answer.provider_message_id.encode()
        )
    )
    mailroom.send(dsn, sender="<>")
    bounced = mailroom.thread(conversation.id)[-1]
    assert bounced.id == answer.id and bounced.delivery_status == "failed"
    assert "550 5.1.1" in bounced.meta["delivery"]["error"]
    assert len(mailroom.conversations()) == 1  # a bounce is never a conversation


def test_channels_test_email_sends_a_real_mail(mailroom):
    result = mailroom.container.delivery.send_test(
        mailroom.workspace_id, "email", "me@dana.example"
    )
    [mail] = mailroom.sink.mails()
    assert result.provider_message_id == mail["Message-ID"]
    assert mail["To"] == "me@dana.example" and mail["From"] == f"Bayside Dental <{PUBLIC}>"
    assert mail["Subject"] == "Test message from Bayside Dental"
    assert "test message from Bayside Dental" in mail.get_content()


def test_the_mail_job_runs_through_rq(settings, clock, relay, redis_conn, redis_url):
    sink, port = relay
    responder = LinkResponder()
    container = build(
        replace(
            settings, email_domain=DOMAIN, smtp_url=f"smtp://127.0.0.1:{port}"
        ).ensure_data_dir(),
        redis_url=redis_url,
        clock=clock,
        responder_override=responder,
    )
    responder.container = container
    workspace, _ = make_workspace(container)
    inbound = container.channels.connect_email(workspace.id, PUBLIC).external_id
    server = container.inbound_smtp("127.0.0.1", 0)
    try:
        with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
            smtp.sendmail(ANN, [inbound], customer_mail().as_bytes(policy=policy.SMTP))
        with container.uow() as uow:  # accepted and queued, not stored yet
            assert uow.workspace(workspace.id).conversations.list() == []
        container.worker(name="mail-test").work(burst=True)
        with container.uow() as uow:
            [conversation] = uow.workspace(workspace.id).conversations.list()
            thread = uow.workspace(workspace.id).messages.for_conversation(conversation.id)
        assert [m.author_kind for m in thread] == ["contact", "ai"]
        assert [m.delivery_status for m in thread] == ["received", "sent"]
        assert len(sink.envelopes) == 1
    finally:
        server.stop()
        container.engine.dispose()


def test_frontdesk_up_receives_mail_and_the_ai_answers_it_through_the_agent_graph(tmp_path, relay):
    """The whole product: `up` listens for mail, a worker stores it, the offline model
    answers through the agent graph, and the answer leaves through the relay."""
    sink, relay_port = relay
    smtp_port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        FRONTDESK_DATA_DIR=str(tmp_path / "data"),
        FRONTDESK_EMAIL_DOMAIN=DOMAIN,
        FRONTDESK_SMTP_URL=f"smtp://127.0.0.1:{relay_port}",
        FRONTDESK_INBOUND_SMTP_PORT=str(smtp_port),
    )
    cli = [sys.executable, "-m", "frontdesk.cli"]
    init = [*cli, "init", "--workspace", "Bayside Bikes", "--admin-email", "dana@bayside.example"]
    subprocess.run([*init, "--admin-password", "a long enough passphrase"], env=env, check=True)
    connected = subprocess.run(
        [*cli, "channels", "connect", "email", "--address", PUBLIC],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    inbound = re.search(r"Inbound address: (\S+)", connected.stdout).group(1)
    proc = subprocess.Popen(
        [*cli, "up", "--port", str(web_port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        seen = []
        while not seen or "Press Ctrl-C" not in seen[-1]:
            seen.append(proc.stdout.readline())
            assert seen[-1], "".join(seen)
        assert f"inbound mail:     smtp://127.0.0.1:{smtp_port} (for @{DOMAIN})" in "".join(seen)
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.sendmail(ANN, [inbound], customer_mail().as_bytes(policy=policy.SMTP))
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail(ANN, [f"nobody@{DOMAIN}"], customer_mail().as_bytes())
        deadline = time.monotonic() + 180  # the worker loads the offline model first
        while not sink.envelopes and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        [answer] = sink.mails()
        assert answer["From"] == f"Bayside Bikes <{PUBLIC}>"
        assert answer["In-Reply-To"] == "<m1@customer.example>"
        assert answer["Auto-Submitted"] == "auto-replied"
        assert answer["Reply-To"].addresses[0].addr_spec.startswith(inbound.split("@")[0] + "+c")
        assert answer.get_content().rstrip().endswith("Bayside Bikes")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_delay_warning_is_neither_a_failure_nor_a_conversation(mailroom):
    mailroom.send(customer_mail())
    [conversation] = mailroom.conversations()
    result = mailroom.container.email_inbound.receive(
        mailroom.inbound, (SAMPLES / "dsn_delayed.eml").read_bytes()
    )
    assert result.outcome == "report"
    assert mailroom.thread(conversation.id)[-1].delivery_status == "sent"
    assert len(mailroom.conversations()) == 1

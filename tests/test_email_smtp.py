"""Real SMTP sessions: our inbound server under test, and our sender against an aiosmtpd sink."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agent.core import errors
from agent.core.errors import ValidationError
from channels.email import smtp_server
from channels.email.addresses import base_address, reply_address
from channels.email.parse import parse_email
from channels.email.smtp_send import (
    PermanentSendError,
    SmtpMailSender,
    SmtpUrl,
    TransientSendError,
)

INBOUND = "bayview-plumbing-k3x9qa@reply.example.com"
KEY = b"k"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mail(to: str = INBOUND, body: str = "Do you fix boilers?") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ann <ann@customer.example>"
    message["To"] = to
    message["Subject"] = "Boiler"
    message["Message-ID"] = "<m1@customer.example>"
    message.set_content(body)
    return message


def wire(message: EmailMessage) -> bytes:
    """The message as a client puts it on the wire: CRLF line ends."""
    return message.as_bytes(policy=policy.SMTP)


# -- the inbound server under test ---------------------------------------------------------


class Store:
    def __init__(self) -> None:
        self.mails: list[tuple[str, bytes]] = []
        self.fail = False

    def __call__(self, recipient: str, raw: bytes) -> None:
        if self.fail:
            raise RuntimeError("database is down")
        self.mails.append((recipient, raw))


@pytest.fixture
def inbound() -> Iterator[tuple[smtp_server.InboundServer, Store]]:
    store = Store()
    server = smtp_server.start(
        "127.0.0.1",
        0,
        is_known=lambda address: base_address(address) == INBOUND,
        deliver=store,
        max_size=20_000,
    )
    yield server, store
    server.stop()


def client(server: smtp_server.InboundServer) -> smtplib.SMTP:
    return smtplib.SMTP(server.host, server.port, timeout=5)


def test_known_recipient_is_accepted_and_handed_over(inbound):
    server, store = inbound
    tagged = reply_address(INBOUND, 42, KEY)
    with client(server) as smtp:
        refused = smtp.send_message(
            mail(tagged), from_addr="ann@customer.example", to_addrs=[tagged]
        )
    assert refused == {}
    [(recipient, raw)] = store.mails
    assert recipient == tagged
    assert raw.startswith(b"Return-Path: <ann@customer.example>\r\n")
    parsed = parse_email(raw)
    assert parsed.return_path == "ann@customer.example"
    assert parsed.message_id == "<m1@customer.example>" and parsed.text == "Do you fix boilers?"


def test_unknown_recipient_gets_550_at_rcpt(inbound):
    server, store = inbound
    with client(server) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp.sendmail("ann@customer.example", ["nobody@reply.example.com"], wire(mail()))
    code, reply = refused.value.recipients["nobody@reply.example.com"]
    assert code == 550 and reply.startswith(b"5.1.1")
    assert store.mails == []


def test_mixed_recipients_deliver_only_to_the_known_one(inbound):
    server, store = inbound
    with client(server) as smtp:
        refused = smtp.sendmail(
            "ann@customer.example", ["stranger@reply.example.com", INBOUND], wire(mail())
        )
    assert refused["stranger@reply.example.com"][0] == 550
    assert [r for r, _ in store.mails] == [INBOUND]


def test_oversized_mail_gets_552_when_announced_and_when_not(inbound):
    server, store = inbound
    big = wire(mail(body="\n".join(["x" * 70] * 400)))
    with client(server) as smtp, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp.sendmail("ann@customer.example", [INBOUND], big)  # MAIL FROM ... SIZE=
    assert refused.value.smtp_code == 552
    with client(server) as smtp:  # no SIZE parameter: refused after DATA
        smtp.ehlo()
        assert smtp.mail("ann@customer.example")[0] == 250
        assert smtp.rcpt(INBOUND)[0] == 250
        code, _ = smtp.data(big)
    assert code == 552
    assert store.mails == []


def test_null_sender_is_stamped_as_a_null_return_path(inbound):
    server, store = inbound
    with client(server) as smtp:
        smtp.sendmail("<>", [INBOUND], wire(mail()))
    assert store.mails[0][1].startswith(b"Return-Path: <>\r\n")
    assert parse_email(store.mails[0][1]).return_path == ""


def test_a_failing_store_answers_451_so_the_sender_retries(inbound):
    server, store = inbound
    store.fail = True
    with client(server) as smtp, pytest.raises(smtplib.SMTPDataError) as error:
        smtp.sendmail("ann@customer.example", [INBOUND], wire(mail()))
    assert error.value.smtp_code == 451


def test_async_callables_are_awaited():
    seen: list[str] = []

    async def is_known(address: str) -> bool:
        await asyncio.sleep(0)
        return address == INBOUND

    async def deliver(recipient: str, raw: bytes) -> None:
        seen.append(recipient)

    server = smtp_server.start("127.0.0.1", 0, is_known=is_known, deliver=deliver)
    try:
        with client(server) as smtp:
            smtp.sendmail("a@customer.example", [INBOUND], wire(mail()))
    finally:
        smtp_server.stop(server)
    assert seen == [INBOUND]


# -- our sender against an aiosmtpd relay sink ---------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.envelopes: list = []
        self.data_reply = "250 OK"
        self.rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, options):  # aiosmtpd hook
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        if self.data_reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.data_reply


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret pass"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture
def relay() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield sink, controller.port
    controller.stop()


def test_delivers_to_the_relay_with_our_envelope_sender(relay):
    sink, port = relay
    SmtpMailSender(f"smtp://127.0.0.1:{port}", timeout=5).send(
        mail("ann@customer.example"), envelope_from=INBOUND
    )
    [envelope] = sink.envelopes
    assert envelope.mail_from == INBOUND
    assert envelope.rcpt_tos == ["ann@customer.example"]
    assert b"Subject: Boiler" in envelope.content


def test_logs_in_when_the_url_has_a_user(relay):
    sink, port = relay
    SmtpMailSender(f"smtp://desk:s3cret%20pass@127.0.0.1:{port}", timeout=5).send(mail())
    assert len(sink.envelopes) == 1
    with pytest.raises(PermanentSendError) as error:
        SmtpMailSender(f"smtp://desk:wrong@127.0.0.1:{port}", timeout=5).send(mail())
    assert error.value.code == 535 and error.value.account_problem
    assert "wrong" not in error.value.reason


def test_451_from_the_relay_is_transient(relay):
    sink, port = relay
    sink.data_reply = "451 4.3.0 Try again later"
    with pytest.raises(TransientSendError) as error:
        SmtpMailSender(f"smtp://127.0.0.1:{port}", timeout=5).send(mail())
    assert error.value.transient and error.value.code == 451


def test_554_from_the_relay_is_permanent_with_the_reason(relay):
    sink, port = relay
    sink.data_reply = "554 5.7.1 Message rejected: looks like spam"
    with pytest.raises(PermanentSendError) as error:
        SmtpMailSender(f"smtp://127.0.0.1:{port}", timeout=5).send(mail())
    assert not error.value.transient
    assert error.value.code == 554
    assert error.value.reason == "554 5.7.1 Message rejected: looks like spam"
    assert str(error.value) == error.value.reason and not error.value.account_problem


def test_recipient_refusals_are_sorted_by_code(relay):
    sink, port = relay
    sender = SmtpMailSender(f"smtp://127.0.0.1:{port}", timeout=5)
    sink.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(PermanentSendError) as error:
        sender.send(mail("gone@customer.example"))
    assert error.value.reason == "gone@customer.example: 550 5.1.1 No such user"
    assert isinstance(error.value, errors.PermanentSendError)
    sink.rcpt_reply = "450 4.2.0 Greylisted, come back later"
    with pytest.raises(TransientSendError):
        sender.send(mail("new@customer.example"))


def test_a_closed_port_is_transient():
    with pytest.raises(errors.TransientSendError) as error:
        SmtpMailSender(f"smtp://127.0.0.1:{free_port()}", timeout=5).send(mail())
    assert "refused the connection" in error.value.reason


def test_a_relay_that_never_answers_times_out_as_transient():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    try:
        with pytest.raises(TransientSendError) as error:
            SmtpMailSender(f"smtp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.5).send(
                mail()
            )
        assert "timed out" in error.value.reason
    finally:
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()


def test_smtp_urls_are_read_like_the_notifier_reads_them():
    assert SmtpUrl.parse("smtp://relay.example") == SmtpUrl("relay.example", 25, False)
    assert SmtpUrl.parse("smtps://u%40x:p%2Fw@relay.example") == SmtpUrl(
        "relay.example", 465, True, "u@x", "p/w"
    )
    assert SmtpUrl.parse("smtp://relay.example:587").port == 587
    with pytest.raises(ValidationError) as error:
        SmtpUrl.parse("http://user:hunter2@relay.example")
    assert "hunter2" not in str(error.value) and error.value.field == "FRONTDESK_SMTP_URL"
    assert "hunter2" not in repr(SmtpUrl.parse("smtp://u:hunter2@relay.example"))

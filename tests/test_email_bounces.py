"""DSNs (RFC 3464): which of our Message-IDs failed, and the remote server's reason."""

from __future__ import annotations

from pathlib import Path

from channels.email.bounces import read_bounce
from channels.email.parse import read_message

SAMPLES = Path(__file__).parent / "email_samples"


def raw(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_postfix_bounce_with_returned_headers():
    bounce = read_bounce(raw("dsn_postfix.eml"))
    assert bounce.message_ids == ("<fd.c42-aaaaaaaaaa.5e6f7a8b@reply.example.com>",)
    assert bounce.recipients == ("no-such-person@customer.example",)
    assert bounce.status == "5.1.1"
    assert bounce.reason == (
        "550 5.1.1 <no-such-person@customer.example>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )


def test_gmail_bounce_with_the_returned_message():
    bounce = read_bounce(read_message(raw("dsn_gmail.eml")))
    assert bounce.message_ids == ("<fd.c8-dddddddddd.0011@reply.example.com>",)
    assert bounce.recipients == ("gone@gmail.example",)
    assert bounce.reason == "The email account that you tried to reach does not exist."


def test_original_message_id_field_and_status_without_diagnostic():
    dsn = (
        b"From: MAILER-DAEMON@mx.example.net\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type="delivery-status"; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n"
        b"Original-Message-ID: <fd.c3-ffffffffff.1@reply.example.com>\r\n\r\n"
        b"Final-Recipient: rfc822;full@customer.example\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n"
        b"--b--\r\n"
    )
    bounce = read_bounce(dsn)
    assert bounce.message_ids == ("<fd.c3-ffffffffff.1@reply.example.com>",)
    assert bounce.status == "5.2.2" and bounce.reason == "the mailbox is full"


def test_delays_and_other_mail_are_not_bounces():
    assert read_bounce(raw("dsn_delayed.eml")) is None
    assert read_bounce(raw("gmail_reply.eml")) is None
    assert read_bounce(raw("attachments.eml")) is None
    assert read_bounce(b"") is None
    assert (
        read_bounce(b"Content-Type: multipart/report; report-type=disposition-notification\r\n\r\n")
        is None
    )

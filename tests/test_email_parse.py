"""Raw mail to ParsedEmail: MIME structure, charsets, RFC 2047, HTML, attachments, errors."""

from __future__ import annotations

import contextlib
import random
from email.message import EmailMessage
from pathlib import Path

import pytest

from channels.email.html_text import html_to_text
from channels.email.parse import MalformedEmail, parse_email

SAMPLES = Path(__file__).parent / "email_samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_gmail_multipart_alternative_prefers_text_and_reads_threading_headers():
    mail = parse_email(sample("gmail_reply.eml"))
    assert mail.from_name == "Ann Customer"
    assert mail.from_address == "ann.customer@gmail.com"
    assert mail.to == ("bayview-plumbing-k3x9qa+c42-aaaaaaaaaa@reply.example.com",)
    assert mail.delivered_to == ("bayview-plumbing-k3x9qa@reply.example.com",)
    assert mail.subject == "Re: Leaking tap in the kitchen"
    assert mail.message_id == "<CAH+reply=2XqYw@mail.gmail.com>"
    assert mail.in_reply_to == "<fd.c42-aaaaaaaaaa.1a2b3c@reply.example.com>"
    assert mail.references == (
        "<CAH+first=1@mail.gmail.com>",
        "<fd.c42-aaaaaaaaaa.1a2b3c@reply.example.com>",
    )
    assert mail.thread_ids[-1] == mail.in_reply_to
    assert mail.date is not None and mail.date.year == 2026
    assert (
        mail.new_text
        == "Thursday at 10 works for me. The address is 12 Harbour Rd.\n\nThanks,\nAnn"
    )
    assert "Which suits you?" in mail.text  # the full original is kept
    assert mail.html is not None and "gmail_quote" not in mail.html  # sanitised: no classes
    assert mail.attachments == ()


def test_outlook_windows_1252_body_and_quote_block():
    mail = parse_email(sample("outlook_reply.eml"))
    assert mail.subject == "RE: Quote for bathroom refit"
    assert (
        "That\u2019s fine \u2013 please go ahead with the \u201cstandard\u201d option."
        in mail.new_text
    )
    assert "Sent:" not in mail.new_text and "£4,200" in mail.text


def test_iso_8859_1_body_and_encoded_headers():
    mail = parse_email(sample("latin1.eml"))
    assert mail.from_name == "José Muñoz"
    # =96 in an "ISO-8859-1" header is windows-1252's en dash, as mail clients read it
    assert mail.subject == "Presupuesto para baño \u2013 ¿cuánto cuesta?"
    assert mail.text == "Hola, ¿cuánto cuesta cambiar el grifo del baño? Gracias, José"


def test_rfc2047_base64_name_and_split_encoded_words():
    mail = parse_email(sample("rfc2047.eml"))
    assert mail.from_name == "Miá Sørensen"
    assert mail.subject == "Café sink — blocked again"
    assert mail.text == "The sink in the café is blocked again."


def test_html_only_mail_is_sanitised_to_text():
    mail = parse_email(sample("html_only.eml"))
    assert mail.reply_to == ("dana.lee@example.net",)
    for unsafe in ("document.cookie", "alert", "evil.example", "Arial", "Enquiry\n"):
        assert unsafe not in mail.text
        assert unsafe not in (mail.html or "")
    assert "Message: Do you fix underfloor heating? <urgent>" in mail.text
    assert "Reply on the site (https://bayview.example/contact)" in mail.text
    assert "tracker.example" not in mail.html


def test_attachments_are_listed_with_safe_names_and_sizes():
    mail = parse_email(sample("attachments.eml"))
    assert mail.cc == ("office@harbourcafe.example",)
    assert mail.text == "Here is a photo of the leak and last year's invoice."
    found = {a.filename: a for a in mail.attachments}
    assert set(found) == {"leak.png", "Rechnung März.pdf", "scan.bin", "Your order.eml"}
    assert found["leak.png"].content_type == "image/png"
    assert found["leak.png"].data.startswith(b"\x89PNG")
    assert found["Rechnung März.pdf"].data.startswith(b"%PDF-1.4")
    assert found["scan.bin"].size == 2048  # "../../etc/scan.bin" lost its path
    assert b"Your order has shipped." in found["Your order.eml"].data


def test_attachments_over_the_limit_keep_a_note_but_no_bytes():
    mail = parse_email(sample("attachments.eml"), max_attachment_bytes=1024)
    big = next(a for a in mail.attachments if a.filename == "scan.bin")
    assert big.omitted and big.data is None and big.size == 2048
    assert big.note == "scan.bin is 2 KB, over the 1 KB limit; not stored"
    assert not next(a for a in mail.attachments if a.filename == "leak.png").omitted


def test_loop_headers_are_read():
    mail = parse_email(sample("list_mail.eml"))
    assert mail.precedence == "bulk"
    assert mail.list_id == "Plumbers Weekly <weekly.plumbersweekly.example>"
    assert mail.list_unsubscribe.startswith("<https://plumbersweekly.example/")
    bounce = parse_email(sample("dsn_postfix.eml"))
    assert bounce.return_path == "" and bounce.auto_submitted == "auto-replied"
    assert bounce.content_type == "multipart/report"
    ooo = parse_email(sample("out_of_office.eml"))
    assert ooo.auto_response_suppress == "All"


def test_unknown_charset_and_undecodable_bytes_degrade_to_replacements():
    raw = (
        b"From: a@example.com\r\nSubject: =?x-unknown?q?hi?=\r\n"
        b"Content-Type: text/plain; charset=x-made-up\r\n\r\nhello \xff\xfe world\r\n"
    )
    mail = parse_email(raw)
    assert mail.text.startswith("hello ") and mail.text.endswith(" world")
    utf8_lie = b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbad \xe9\r\n"
    assert parse_email(utf8_lie).text == "bad \ufffd"


def test_a_plain_stub_next_to_html_falls_back_to_the_html():
    message = EmailMessage()
    message["From"] = "a@example.com"
    message.set_content("   \n")
    message.add_alternative("<p>The real text</p>", subtype="html")
    assert parse_email(message.as_bytes()).text == "The real text"


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", b"no headers at all, just words", "not bytes"],
)
def test_unreadable_input_raises_malformed_email(raw):
    with pytest.raises(MalformedEmail):
        parse_email(raw)


def test_malformed_mail_never_raises_anything_else():
    broken = [
        b"From: <<<@@@>>>\r\nTo: ,,,;;\r\nMessage-ID: \r\nDate: yesterday\r\n\r\nbody",
        b'From: a@b\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nbroken',
        b"From: a@example.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64"
        b"\r\n\r\n!!!not base64!!!",
        b"Subject: =?utf-8?b?////?=\r\nFrom: =?utf-8?q?=ZZ?= <x@y.z>\r\n\r\n",
        b"From: a@example.com\r\nContent-Type: message/rfc822\r\n\r\n",
    ]
    rng = random.Random(12)
    base = sample("attachments.eml")
    for _ in range(60):  # truncated and bit-flipped copies of a real multipart mail
        cut = bytearray(base[: rng.randrange(1, len(base))])
        for _ in range(rng.randrange(0, 8)):
            cut[rng.randrange(len(cut))] = rng.randrange(256)
        broken.append(bytes(cut))
    for raw in broken:
        with contextlib.suppress(MalformedEmail):
            parse_email(raw)


def test_html_to_text_keeps_structure_and_quotes_blockquotes():
    text = html_to_text(
        "<div>Yes<br>please</div><ul><li>one</li><li>two</li></ul>"
        "<blockquote>old<br>mail</blockquote><p>a &amp; b <a href='https://x.example'>site</a></p>"
    )
    assert text == "Yes\nplease\n\n- one\n- two\n\n> old\n> mail\n\na & b site (https://x.example)"

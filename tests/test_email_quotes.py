"""What the AI reads: quoted history and signatures stripped, the customer's words kept."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from channels.email.html_text import html_to_text
from channels.email.parse import decode_text
from channels.email.quotes import reply_text, strip_quotes, strip_signature

SAMPLES = Path(__file__).parent / "email_samples"


def html_part(name: str) -> str:
    message = BytesParser(policy=policy.default).parsebytes((SAMPLES / name).read_bytes())
    return decode_text(message.get_body(preferencelist=("html",)))


def test_gmail_html_quote_flattened_to_text_is_stripped():
    text = html_to_text(html_part("gmail_reply.eml"))
    assert "> Hello Ann," in text  # the blockquote became quoted lines
    assert reply_text(text) == (
        "Thursday at 10 works for me. The address is 12 Harbour Rd.\n\nThanks,\nAnn"
    )


def test_outlook_html_reply_header_block_is_stripped():
    text = html_to_text(html_part("outlook_reply.eml"))
    assert reply_text(text) == (
        "Hi,\nThat\u2019s fine \u2013 please go ahead with the \u201cstandard\u201d option.\n"
        "Kind regards,\nBob Stone"
    )


def test_apple_mail_quote_and_iphone_signature():
    text = (
        "Could you come before noon?\n\nSent from my iPhone\n\n"
        "> On 1 Dec 2026, at 18:20, Bayview <desk@reply.example.com> wrote:\n>\n> Hello Chris,\n"
    )
    assert reply_text(text) == "Could you come before noon?"


@pytest.mark.parametrize(
    "quoted",
    [
        "On Tue, Dec 1, 2026 at 5:03 PM Bayview Plumbing <desk@reply.example.com> wrote:\n> hi",
        "On Tue, 1 Dec 2026 at 17:03, Bayview Plumbing <\ndesk@reply.example.com> wrote:\n\n> hi",
        "On 1 Dec 2026, at 18:20,\nBayview Plumbing <desk@reply.example.com>\nwrote:\n> hi",
        "-----Original Message-----\nFrom: Bayview\nSent: Tuesday\nTo: Bob\nSubject: hi\n\nhi",
        "From: Bayview <desk@x.example>\nSent: Tuesday, 1 December 2026 16:12\nTo: Bob\n\nhi",
        "________________________________\nFrom: Bayview\nSent: Tuesday\n\nhi",
        "Le mar. 1 déc. 2026 à 17:03, Bayview <desk@x.example> a écrit :\n> hi",
        "El mar, 1 dic 2026 a las 17:03, Bayview (<desk@x.example>) escribió:\n> hi",
        "Am Di., 1. Dez. 2026 um 17:03 Uhr schrieb Bayview <desk@x.example>:\n> hi",
        "> hi\n> there",
    ],
)
def test_quoted_history_styles(quoted):
    assert strip_quotes(f"Yes, Thursday is fine.\n\n{quoted}\n") == "Yes, Thursday is fine."


def test_inline_answers_between_quotes_are_kept():
    text = "> Which day suits you?\nThursday.\n> And the address?\n12 Harbour Rd."
    assert strip_quotes(text) == "Thursday.\n12 Harbour Rd."


def test_a_from_line_written_by_the_customer_is_not_a_quote():
    text = "From: the customer here. Sent: nothing yet.\nCan you help?"
    assert strip_quotes(text) == text


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nAnn Customer\n+1 555 0100",
        "--\nAnn Customer",
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Get Outlook for Android",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPad",
    ],
)
def test_signatures_are_stripped(signature):
    assert strip_signature(f"See you then.\n\n{signature}") == "See you then."


def test_a_mail_that_is_only_a_quote_is_left_whole():
    assert reply_text("> only the old text") == "> only the old text"


def test_a_forwarded_mail_keeps_its_content():
    text = (
        "Can you quote for this?\n\n---------- Forwarded message ---------\n"
        "From: Builder <b@builder.example>\nDate: Tue, 1 Dec 2026\nSubject: Tiles\nTo: Ann\n\n"
        "40 m2 of tiles"
    )
    assert reply_text(text) == text

"""Outbound mail: identity, Reply-To token, threading, loop markers, links; the address format."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from channels.email.addresses import (
    base_address,
    conversation_from_message_ids,
    message_id,
    new_inbound_local,
    parse_recipient,
    reply_address,
)
from channels.email.compose import (
    build_email,
    plain_links,
    reply_subject,
    reply_target,
    sender_name,
    thread_references,
)
from channels.email.parse import parse_email

KEY = b"test-secret-key"
INBOUND = "bayview-plumbing-k3x9qa@reply.example.com"
SAMPLES = Path(__file__).parent / "email_samples"


def reread(message) -> object:
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes())


def test_reply_address_round_trips_and_survives_case_folding():
    address = reply_address(INBOUND, 42, KEY)
    assert address.startswith("bayview-plumbing-k3x9qa+c42-") and address.endswith(
        "@reply.example.com"
    )
    for seen in (address, address.upper(), f"<{address}>"):
        found = parse_recipient(seen, KEY)
        assert (found.inbound_address, found.conversation_id) == (INBOUND, 42)


def test_forged_moved_or_foreign_tokens_name_no_conversation():
    address = reply_address(INBOUND, 42, KEY)
    local, domain = address.split("@")
    assert (
        parse_recipient(local.replace("+c42-", "+c43-") + "@" + domain, KEY).conversation_id is None
    )
    assert parse_recipient(address, b"another key").conversation_id is None
    other_workspace = address.replace("bayview-plumbing-k3x9qa", "harbour-cafe-77aa11")
    found = parse_recipient(other_workspace, KEY)
    assert found.inbound_address == "harbour-cafe-77aa11@reply.example.com"
    assert found.conversation_id is None and found.tag.startswith("c42-")
    plain = parse_recipient("Bayview-Plumbing-K3X9QA@Reply.Example.com", KEY)
    assert plain == parse_recipient(INBOUND, KEY)
    assert plain.conversation_id is None and plain.tag is None


def test_base_address_and_bad_addresses():
    assert base_address("Desk+anything@Example.COM") == "desk@example.com"
    for bad in ("no-at-sign", "@example.com", "desk@", ""):
        with pytest.raises(ValueError):
            base_address(bad)


def test_our_message_ids_name_their_conversation():
    ids = [message_id(INBOUND, n, KEY) for n in (7, 42)]
    assert ids[0].startswith("<fd.c7-") and ids[0].endswith("@reply.example.com>")
    assert ids[0] != message_id(INBOUND, 7, KEY)  # unique per message
    assert conversation_from_message_ids(["<x@gmail.example>", *ids], INBOUND, KEY) == 42
    assert conversation_from_message_ids([ids[0].upper()], INBOUND, KEY) == 7
    assert conversation_from_message_ids(ids, "other-desk@reply.example.com", KEY) is None
    assert (
        conversation_from_message_ids(["<fd.c7-aaaaaaaaaa.1@reply.example.com>"], INBOUND, KEY)
        is None
    )


def test_new_inbound_local_is_a_slug_with_a_random_tail():
    assert new_inbound_local("Bayview Plumbing & Gas, Café", suffix="k3x9qa") == (
        "bayview-plumbing-gas-cafe-k3x9qa"
    )
    assert new_inbound_local("Bayview") != new_inbound_local("Bayview")
    assert new_inbound_local("!!!", suffix="abc") == "desk-abc"


def test_subjects_get_exactly_one_re():
    assert reply_subject("Leaking tap") == "Re: Leaking tap"
    assert reply_subject("RE: Re: AW: Leaking tap") == "Re: Leaking tap"
    assert reply_subject("Re[2]: Leaking tap") == "Re: Leaking tap"
    assert reply_subject("") == "Re: Your message"
    assert reply_subject("Real estate question") == "Re: Real estate question"


def test_markdown_links_become_plain_text():
    assert plain_links("See [our prices](https://bayview.example/prices).") == (
        "See our prices (https://bayview.example/prices)."
    )
    assert plain_links("[https://b.example/x](https://b.example/x)") == "https://b.example/x"
    assert plain_links("Book at <https://b.example/book>") == "Book at https://b.example/book"


def test_names_and_references():
    assert sender_name("Bayview Plumbing") == "Bayview Plumbing"
    assert sender_name("Bayview Plumbing", "Maya") == "Maya at Bayview Plumbing"
    assert sender_name("Bayview\r\nBcc: x@evil.example") == "Bayview Bcc: x@evil.example"
    refs = thread_references([f"<{n}@x>" for n in range(30)], "<new@x>")
    assert len(refs) == 20 and refs[0] == "<0@x>" and refs[-1] == "<new@x>"


def test_ai_reply_to_a_gmail_thread():
    customer = parse_email((SAMPLES / "gmail_reply.eml").read_bytes())
    our_id = message_id(INBOUND, 42, KEY, unique="abc123")
    message = build_email(
        from_name=sender_name("Bayview Plumbing"),
        from_address="hello@bayview.example",
        to=reply_target(customer),
        subject=reply_subject(customer.subject),
        body="Thanks Ann! See [our prices](https://bayview.example/prices).",
        message_id=our_id,
        reply_to=reply_address(INBOUND, 42, KEY),
        in_reply_to=customer.message_id,
        references=customer.references,
        auto_reply=True,
        date=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )
    sent = reread(message)
    assert sent["From"] == "Bayview Plumbing <hello@bayview.example>"
    assert sent["To"] == "ann.customer@gmail.com"
    assert sent["Reply-To"].addresses[0].addr_spec == reply_address(INBOUND, 42, KEY)
    assert sent["Subject"] == "Re: Leaking tap in the kitchen"
    assert sent["Message-ID"] == our_id
    assert sent["In-Reply-To"] == "<CAH+reply=2XqYw@mail.gmail.com>"
    assert sent["References"].split() == [*customer.references, customer.message_id]
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["Date"] == "Wed, 02 Dec 2026 10:00:00 +0000"
    assert sent.get_content_type() == "text/plain"
    assert sent.get_content() == ("Thanks Ann! See our prices (https://bayview.example/prices).\n")
    # and the customer's next answer threads back by itself
    assert conversation_from_message_ids([sent["Message-ID"]], INBOUND, KEY) == 42


def test_staff_reply_with_a_non_ascii_name_and_html_alternative():
    message = build_email(
        from_name=sender_name("Café Bayview", "Zoë Ødegaard"),
        from_address=INBOUND,
        to="Ann <ann@example.com>",
        subject="Re: Booking",
        body="Hello Ann,\n\nSee [the map](https://b.example/map?a=1&b=2) or "
        "[this](javascript:alert(1)).\n\nZoë",
        message_id=message_id(INBOUND, 5, KEY),
        html_alternative=True,
    )
    sent = reread(message)
    assert sent["From"].addresses[0].display_name == "Zoë Ødegaard at Café Bayview"
    assert "=?utf-8?" in message.as_string()  # encoded on the wire
    assert sent["Auto-Submitted"] is None
    assert sent.get_content_type() == "multipart/alternative"
    plain = sent.get_body(preferencelist=("plain",)).get_content()
    html = sent.get_body(preferencelist=("html",)).get_content()
    assert "the map (https://b.example/map?a=1&b=2)" in plain and plain.endswith("Zoë\n")
    assert '<a href="https://b.example/map?a=1&amp;b=2">the map</a>' in html
    assert "javascript:" not in html.split("this (")[0] and 'href="javascript' not in html

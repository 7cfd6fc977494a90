"""Text from outside is made valid before it is stored: one pure rule, applied by the
conversation service to everything a channel, a visitor or a staff member writes.

A JavaScript ``slice`` can cut an emoji in half, and JSON carries the half as ``\\ud83d``:
Python decodes that into a lone surrogate, which UTF-8 (and so every database) refuses.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from agent.core import validation as v
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import ValidationError
from agent.core.models import Contact, Conversation, Message

EMOJI = "\U0001f600"  # 😀, a surrogate pair in UTF-16 and JavaScript
RLM = "\u200f"  # RIGHT-TO-LEFT MARK: valid, and needed by Arabic and Hebrew text


def valid(text: str) -> bool:
    """What every stored string must be: encodable as UTF-8, without NULs."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


# -- the pure rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Hi \ud83d", "Hi \ufffd"),  # a lone high surrogate (half an emoji)
        ("\ude00 there", "\ufffd there"),  # a lone low surrogate
        ("\ud83d\ud83d!", "\ufffd\ufffd!"),  # two halves that are not a pair
        ("x\ude00\ud83d", "x\ufffd\ufffd"),  # a pair in the wrong order
        ("\ud83d\ude00", EMOJI),  # a pair as two code points: joined into the emoji
        (json.loads('"ok \\ud83d\\ude00"'), f"ok {EMOJI}"),  # a pair from JSON
        (json.loads('"cut \\ud83d"'), "cut \ufffd"),  # half of one from JSON
        (f"Smile {EMOJI}\u200d\u2764\ufe0f", f"Smile {EMOJI}\u200d\u2764\ufe0f"),  # kept
        (f"{RLM}שלום{RLM} and مرحبا", f"{RLM}שלום{RLM} and مرحبا"),  # RTL marks kept
        ("a\x00b\x00", "ab"),  # NUL stripped
        ("line\r\nnext\rlast\n", "line\nnext\nlast\n"),  # line ends normalised
        ("tab\there\nnewline", "tab\there\nnewline"),  # tab and newline kept
        ("bell\x07 esc\x1b[31m del\x7f", "bell esc[31m del"),  # C0 controls and DEL
        ("c1\x80\x85\x9f end", "c1 end"),  # C1 controls
        ("non\ufffe\uffff\ufdd0\U0001fffe\U0010ffff", "non" + "\ufffd" * 5),  # noncharacters
        ("café, naïve, 東京, \U0001f1e8\U0001f1e6", "café, naïve, 東京, \U0001f1e8\U0001f1e6"),
        ("\u2028\u2029\ufeff\ue000", "\u2028\u2029\ufeff\ue000"),  # separators, BOM, private
        ("", ""),
    ],
)
def test_clean_text_makes_any_string_valid(raw, clean):
    assert v.clean_text(raw) == clean
    assert valid(v.clean_text(raw))
    assert v.clean_text(clean) == clean  # idempotent


def test_clean_text_handles_long_strings_quickly():
    import time

    half = "\ud83d"
    mixed = (f"ab{half}\x00{RLM}{EMOJI}\r\n" * 1_250)[:10_000]
    plain = "x" * 10_000
    started = time.perf_counter()
    for _ in range(20):
        cleaned = v.clean_text(mixed)
        assert v.clean_text(plain) == plain
    assert time.perf_counter() - started < 1.0
    assert valid(cleaned)
    assert cleaned.count("\ufffd") == mixed.count(half)
    assert cleaned.count(EMOJI) == mixed.count(EMOJI) and "\r" not in cleaned


def test_the_field_rules_clean_before_they_check():
    assert v.message_body("  hi \ud83d\x00 ", 10) == "hi \ufffd"
    assert v.name("Ana\x00 \ud83d\n María", "first_name") == "Ana \ufffd María"
    assert v.email("sam\x00@example.com") == "sam@example.com"
    with pytest.raises(ValidationError, match="message is empty"):
        v.message_body("\x00\x01\x1f \r\n", 10)
    for wrong in (42, ["hi"], {"body": "hi"}, b"hi"):
        with pytest.raises(ValidationError, match="must be text"):
            v.message_body(wrong, 10)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="must be text"):
            v.name(wrong, "first_name")  # type: ignore[arg-type]


# -- the conversation service stores only valid text --------------------------------------


def stored_texts(container) -> list[str]:
    """Every string the service stored: messages, their ids and meta, contacts, threads."""
    texts: list[str] = []
    with container.uow() as uow:
        for message in uow.session.scalars(select(Message)):
            texts += [message.body, message.provider_message_id or ""]
            texts.append(json.dumps(message.meta, ensure_ascii=False))
        for contact in uow.session.scalars(select(Contact)):
            texts += [
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.phone,
                contact.address,
            ]
        for conversation in uow.session.scalars(select(Conversation)):
            texts.append(conversation.provider_thread_id or "")
    return texts


def test_a_message_with_half_an_emoji_is_stored_and_answered(app_container, ws, dispatcher):
    workspace, _ = ws
    inbound = Inbound(
        channel="webchat",
        body=json.loads('"Can I book? \\ud83d"'),
        thread_id="visitor-\ud83d\x00-1",
        provider_message_id="visitor-1:c-\x00\ude00",
        sender=ContactDetails(
            first_name="Zoë\x00\ud83d", last_name=f"{RLM}כהן", address="1\x00 Rd"
        ),
        meta={"origin\x00": "https://x.example/\ud83d", "list": ["\x00", 1, None]},
    )
    received = app_container.conversations.receive(workspace.id, inbound)
    assert received.message.body == "Can I book? \ufffd"
    assert dispatcher.turns[-1][2] == received.message.id
    again = app_container.conversations.receive(workspace.id, inbound)  # a redelivery
    assert again.duplicate and again.message.id == received.message.id
    texts = stored_texts(app_container)
    assert all(valid(text) for text in texts), [ascii(t) for t in texts if not valid(t)]
    assert "Zoë\ufffd" in texts and f"{RLM}כהן" in texts and "1 Rd" in texts
    assert "visitor-\ufffd-1" in texts


def test_staff_text_is_made_valid_too(app_container, ws):
    workspace, admin = ws
    received = app_container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="hello", thread_id="visitor-2")
    )
    service = app_container.conversations
    ai = service.post_ai_reply(workspace.id, received.conversation.id, "AI \ud83d\x00\r\nsays")
    assert ai is not None and ai.body == "AI \ufffd\nsays"
    reply = service.reply(workspace.id, received.conversation.id, admin.id, "On it \ud83d\x00!")
    assert reply.body == "On it \ufffd!"
    started = service.start_conversation(
        workspace.id,
        admin.id,
        "email",
        "Your appointment\r\nis \ude00 confirmed\x00",
        new_contact=ContactDetails(first_name="Ren\x00\ud83d", email="ren\x00@example.com"),
    )
    assert started.id is not None
    texts = stored_texts(app_container)
    assert all(valid(text) for text in texts), [ascii(t) for t in texts if not valid(t)]
    assert "Your appointment\nis \ufffd confirmed" in texts and "ren@example.com" in texts


def test_ids_that_do_not_fit_are_refused_with_a_reason(app_container, ws):
    workspace, _ = ws
    for inbound in (
        Inbound(channel="webchat", body="hi", thread_id="t" * 256),
        Inbound(channel="webchat", body="hi", provider_message_id="m" * 256),
        Inbound(channel="webchat", body=None),  # type: ignore[arg-type]
        Inbound(channel="webchat", body=12),  # type: ignore[arg-type]
        Inbound(channel="webchat", body="hi", sender=ContactDetails(first_name=7)),  # type: ignore[arg-type]
        Inbound(channel="webchat", body="hi", sender=ContactDetails(email=["a@b.co"])),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError):
            app_container.conversations.receive(workspace.id, inbound)
    assert stored_texts(app_container) == []

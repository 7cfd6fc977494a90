"""Seeded fuzzing of what the outside world can send: the widget's Socket.IO events and
every channel's inbound path (``ConversationService.receive``).

Random Unicode with lone surrogates, NULs and other control characters, right-to-left
marks, noncharacters and 10,000-character strings; wrong types, missing fields and extra
arguments. Every call must be answered (an acknowledgement, or a ``FrontdeskError`` that
names the problem), nothing stored may be invalid text (every stored string encodes as
UTF-8 and holds no NUL), and the server must still serve a normal message at the end.
Deterministic (fixed seeds) and bounded: a few hundred calls per backend.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from typing import Any

import pytest
import socketio as socketio_pkg

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import FrontdeskError
from agent.core.models import Channel
from frontdesk.wiring import Container
from tests.conftest import make_workspace
from tests.test_socket_answers import NS, TRANSPORTS, Live, call, is_answer, serve
from tests.test_validation_text import stored_texts

SEED = 20260302
SOCKET_CALLS = 300
INBOUND_CALLS = 250
PIECES = [
    "hello",
    "Do you see children?",
    "Zoë",
    "東京",
    "مرحبا",
    "שלום",
    "\U0001f600",  # an emoji (a surrogate pair in UTF-16)
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family: emoji joined by ZWJ
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\ufeff",
    "\ud83d",  # half an emoji: a lone high surrogate
    "\ude00",  # and a lone low one
    "\udfff\ud800",
    "\x00",
    "\x00\x00\x00",
    "\r\n",
    "\r",
    "\n",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "sam@example.com",
    "+1 604 555 0142",
    " ",
    "<img src=x onerror=alert(1)>",
]


def fuzz_text(rng: random.Random) -> str:
    """Mostly short and nasty; now and then 10,000 characters (the limit) or one more."""
    roll = rng.random()
    if roll < 0.06:
        chunk = "".join(rng.choice(PIECES) for _ in range(8))
        length = rng.choice([10_000, 10_001, 9_999])
        return (chunk * (length // len(chunk) + 1))[:length]
    parts = []
    for _ in range(rng.randint(0, 24)):
        if rng.random() < 0.7:
            parts.append(rng.choice(PIECES))
        else:  # any code point at all, surrogates and unassigned ones included
            parts.append(chr(rng.randint(0, 0x10FFFF)))
    return "".join(parts)


def fuzz_value(rng: random.Random, depth: int = 0) -> Any:
    """A value of any JSON type (or none at all of the expected one)."""
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([0, -1, 1, 2**31, 10**30, 1.5, True, False])
    if kind in (2, 3, 4, 5):
        return fuzz_text(rng)
    if kind == 6:
        return [fuzz_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {fuzz_text(rng)[:20]: fuzz_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def client_id(rng: random.Random) -> Any:
    if rng.random() < 0.85:  # what the frame sends: 32 hex digits
        return "".join(rng.choice(string.hexdigits.lower()) for _ in range(32))
    return fuzz_value(rng)


def fuzz_args(rng: random.Random, event: str, seen_ids: list[str]) -> tuple:
    """Arguments for one call: mostly the right shape with nasty values, sometimes not."""
    roll = rng.random()
    if roll < 0.08:
        return ()  # no data at all
    if roll < 0.12:
        return tuple(fuzz_value(rng) for _ in range(rng.randint(2, 3)))  # several arguments
    if roll < 0.25:
        return (fuzz_value(rng),)  # anything
    if event == "message":
        data: dict[str, Any] = {"body": fuzz_text(rng), "client_id": client_id(rng)}
        if seen_ids and rng.random() < 0.1:
            data["client_id"] = rng.choice(seen_ids)  # a resend after a reconnect
        if rng.random() < 0.1:
            data["body"] = fuzz_value(rng)
        if rng.random() < 0.1:
            del data[rng.choice(["body", "client_id"])]  # a missing field
        return (data,)
    if event == "history":
        return ({"after_id": rng.choice([0, -5, 3, "1", None, 1.5, 10**30, [], True])},)
    return ({fuzz_text(rng)[:10]: fuzz_value(rng) for _ in range(rng.randint(0, 3))},)


def fuzz_auth(rng: random.Random, live: Live) -> Any:
    roll = rng.random()
    if roll < 0.3:
        return fuzz_value(rng)
    auth: dict[str, Any] = {"frame_token": live.token if roll < 0.8 else fuzz_value(rng)}
    if rng.random() < 0.5:
        auth["visitor_id"] = fuzz_value(rng)
        auth["visitor_token"] = fuzz_value(rng)
    return auth


def invalid(texts: list[str]) -> list[str]:
    bad = []
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            bad.append(ascii(text)[:80])
            continue
        if "\x00" in text:
            bad.append(ascii(text)[:80])
    return bad


@pytest.fixture
def live(app_container: Container) -> Iterator[Live]:
    yield from serve(app_container)


def test_widget_events_answer_every_call_and_store_only_valid_text(live: Live) -> None:
    rng = random.Random(SEED)
    events = sorted(live.events(NS))
    assert {"message", "history", "typing"} <= set(events)
    unanswered: list[tuple[str, str, str]] = []
    seen_ids: list[str] = []
    stored = 0
    client = live.visitor()
    try:
        for n in range(SOCKET_CALLS):
            if n % 50 == 49:  # a fresh connection with whatever credentials
                why: list[Any] = []
                other = socketio_pkg.Client(reconnection=False)
                other.on("connect_error", why.append, namespace=NS)
                try:
                    other.connect(
                        live.url,
                        namespaces=[NS],
                        auth=fuzz_auth(rng, live),
                        transports=TRANSPORTS,
                        wait_timeout=5,
                    )
                except socketio_pkg.exceptions.ConnectionError:
                    if not (why and isinstance(why[0], dict) and why[0].get("message")):
                        unanswered.append(("connect", "", repr(why)[:120]))
                else:
                    client.disconnect()
                    client = other  # go on as this visitor
                continue
            event = rng.choice(events)
            args = fuzz_args(rng, event, seen_ids)
            reply = call(client, event, args, NS)
            if not is_answer(reply):
                unanswered.append((event, ascii(args)[:80], ascii(reply)[:120]))
            elif event == "message" and reply["ok"]:  # type: ignore[index]
                stored += 1
                seen_ids.append(args[0]["client_id"])
        normal = {"body": "Are you open on Saturday?", "client_id": "fuzz-normal-0001"}
        after = call(client, "message", (normal,), NS)
        assert isinstance(after, dict) and after["ok"], after
        assert after["message"]["body"] == "Are you open on Saturday?"
    finally:
        client.disconnect()
    assert unanswered == []
    assert stored > 50  # the fuzz reached storage, not only the checks in front of it
    assert invalid(stored_texts(live.container)) == []


def fuzz_inbound(rng: random.Random, threads: list[str], pmids: list[str]) -> Inbound:
    channels = [c.value for c in Channel]

    def maybe_text() -> Any:
        return fuzz_text(rng) if rng.random() < 0.9 else fuzz_value(rng)

    def thread() -> Any:
        roll = rng.random()
        if threads and roll < 0.3:
            return rng.choice(threads)  # the same thread again
        return None if roll < 0.4 else maybe_text()

    sender = ContactDetails()
    if rng.random() < 0.5:
        sender = ContactDetails(
            first_name=fuzz_text(rng)[:120] if rng.random() < 0.9 else fuzz_value(rng),
            last_name=maybe_text() if rng.random() < 0.5 else "",
            email=rng.choice(["", "sam@example.com", "ana\x00@example.org", fuzz_text(rng)]),
            phone=rng.choice(["", "+1 604 555 0142", "604\x00555\u200f0142", fuzz_text(rng)]),
            address=maybe_text() if rng.random() < 0.3 else "",
        )
    pmid: Any = None if rng.random() < 0.3 else maybe_text()
    if pmids and rng.random() < 0.15:
        pmid = rng.choice(pmids)  # a redelivery
    return Inbound(
        channel=rng.choice(channels) if rng.random() < 0.95 else maybe_text(),
        body=maybe_text(),
        thread_id=thread(),
        provider_message_id=pmid,
        sender=sender,
        meta={fuzz_text(rng)[:12]: fuzz_value(rng)} if rng.random() < 0.5 else {},
    )


def test_every_channels_inbound_path_stores_only_valid_text(app_container: Container) -> None:
    workspace, _ = make_workspace(app_container)
    service = app_container.conversations
    rng = random.Random(SEED + 1)
    threads: list[str] = []
    pmids: list[str] = []
    refused, received, unexpected = 0, 0, []
    for _ in range(INBOUND_CALLS):
        inbound = fuzz_inbound(rng, threads, pmids)
        try:
            result = service.receive(workspace.id, inbound)
        except FrontdeskError as error:  # refused, naming what is wrong
            assert str(error).strip(), inbound
            refused += 1
            continue
        except Exception as error:  # anything else is a bug
            unexpected.append(f"{type(error).__name__}: {ascii(str(error))[:100]}")
            continue
        received += 1
        if isinstance(inbound.thread_id, str) and inbound.thread_id:
            threads.append(inbound.thread_id)
        if isinstance(inbound.provider_message_id, str) and inbound.provider_message_id:
            pmids.append(inbound.provider_message_id)
        assert result.message.id is not None
    assert unexpected == []
    assert received > 100 and refused > 10  # both paths were exercised
    assert invalid(stored_texts(app_container)) == []
    normal = Inbound(channel="webchat", body="Are you open on Saturday?", thread_id="fuzz-end")
    assert service.receive(workspace.id, normal).message.body == "Are you open on Saturday?"

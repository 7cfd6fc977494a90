"""The per-channel policy: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.core.channel_accounts import mask
from agent.core.channel_policy import (
    RULES,
    WindowState,
    check_length,
    fit,
    may_auto_reply,
    may_send,
    plain_links,
    reply_window,
    split,
)
from agent.core.errors import ValidationError
from agent.core.models import Channel


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See [our prices](https://a.example/p).", "See our prices (https://a.example/p)."),
        ("[https://a.example](https://a.example)", "https://a.example"),
        ("[Book](https://a.example/b) or [call](https://a.example/c)",
         "Book (https://a.example/b) or call (https://a.example/c)"),
        ("[not a link](javascript:alert(1))", "[not a link](javascript:alert(1))"),
        ("no links [here]", "no links [here]"),
    ],
)  # fmt: skip
def test_markdown_links_become_plain(text, expected):
    assert plain_links(text) == expected


def test_links_stay_where_the_channel_shows_them():
    text = "See [our prices](https://a.example/p)."
    assert fit("webchat", text) == text
    assert fit("email", text) == "See our prices (https://a.example/p)."
    assert fit("sms", text) == "See our prices (https://a.example/p)."


def test_long_text_is_cut_at_a_word_to_the_channel_limit():
    words = "word " * 2000
    for channel in ("sms", "instagram", "messenger", "whatsapp"):
        cut = fit(channel, words)
        assert len(cut) <= RULES[channel].max_chars and cut.endswith("word…")
    assert fit("email", words) == words
    assert {c.value for c in Channel} == set(RULES)


def test_staff_text_over_the_limit_is_refused_not_cut():
    check_length("sms", "x" * 1600)
    with pytest.raises(ValidationError, match="SMS messages are at most 1,600"):
        check_length("sms", "x" * 1601)
    # Counted as the customer sees it: the link syntax does not count.
    check_length("instagram", "[a](https://a.example/" + "p" * 970 + ")")


def test_auto_reply_is_on_unless_turned_off_and_web_chat_always_answers():
    assert may_auto_reply("email", None) and may_auto_reply("email", {})
    assert not may_auto_reply("email", {"ai_auto_reply": False})
    assert may_auto_reply("webchat", {"ai_auto_reply": False})


LAST = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the customer's last message


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
@pytest.mark.parametrize(
    ("after", "state", "ai", "staff", "tag"),
    [
        (timedelta(hours=23, minutes=59), WindowState.OPEN, True, True, ""),
        (timedelta(hours=24, minutes=1), WindowState.HUMAN_ONLY, False, True, "HUMAN_AGENT"),
        (timedelta(days=6, hours=23), WindowState.HUMAN_ONLY, False, True, "HUMAN_AGENT"),
        (timedelta(days=7, minutes=1), WindowState.CLOSED, False, False, ""),
    ],
)  # fmt: skip
def test_meta_reply_windows(channel, after, state, ai, staff, tag):
    window = reply_window(channel, LAST, LAST + after)
    assert (window.state, window.ai, window.staff, window.tag) == (state, ai, staff, tag)
    if state == WindowState.OPEN:
        assert window.until == LAST + timedelta(hours=24) and window.reason == ""
    elif state == WindowState.HUMAN_ONLY:
        assert window.until == LAST + timedelta(days=7)
        assert "only lets a person reply" in window.reason
    else:
        assert "more than 7 days" in window.reason


def test_no_window_before_the_customer_writes_and_none_on_other_channels():
    assert not reply_window("messenger", None, LAST).staff
    for channel in ("webchat", "email", "sms"):
        window = reply_window(channel, LAST, LAST + timedelta(days=30))
        assert window.ai and window.staff and window.tag == ""


@pytest.mark.parametrize(
    ("after", "state"),
    [
        (timedelta(hours=23, minutes=59), WindowState.OPEN),
        (timedelta(hours=24, minutes=1), WindowState.TEMPLATES_ONLY),
    ],
)
def test_whatsapp_window_then_templates_only(after, state):
    window = reply_window("whatsapp", LAST, LAST + after)
    assert window.state == state
    assert (window.ai, window.staff) == (
        (True, True) if state == WindowState.OPEN else (False, False)
    )
    assert may_send(window, ai=False, template=True)  # a template may always go
    assert not may_send(window, ai=True, template=True) or state == WindowState.OPEN
    if state == WindowState.TEMPLATES_ONLY:
        assert window.closed_at == LAST + timedelta(hours=24)
        assert "only allows an approved template" in window.reason
    first = reply_window("whatsapp", None, LAST)
    assert first.templates_only and "start a conversation" in first.reason


def test_split_keeps_short_text_whole_and_cuts_long_text_at_boundaries():
    assert split("messenger", "Hello there.") == ["Hello there."]
    assert split("email", "x" * 50_000) == ["x" * 50_000]
    text = " ".join(f"Sentence number {n} is here." for n in range(300))
    parts = split("messenger", text)
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert all(p.endswith(".") for p in parts)  # cut after a sentence
    assert " ".join(parts) == text  # nothing lost


def test_instagram_parts_are_counted_in_bytes():
    text = "café ñandú " * 300  # two-byte letters: 1,000 bytes is fewer than 1,000 characters
    parts = split("instagram", text)
    assert all(len(p.encode("utf-8")) <= 1000 for p in parts)
    assert " ".join(parts) == text.strip()
    assert split("instagram", "x" * 2500) == ["x" * 1000, "x" * 1000, "x" * 500]  # no spaces


def test_secrets_are_masked():
    assert mask("sk_live_0123456789abcd") == "••••abcd"
    assert mask("short") == "••••"  # too short to show any of it

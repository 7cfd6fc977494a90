"""The per-channel policy: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.core.channel_accounts import mask
from agent.core.channel_policy import (
    RULES,
    check_length,
    fit,
    may_auto_reply,
    plain_links,
    reply_window,
)
from agent.core.errors import ValidationError
from agent.core.models import Channel, Conversation


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
    words = "word " * 1000
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


def test_reply_window_allows_for_now():
    now = datetime(2026, 3, 2, tzinfo=UTC)
    window = reply_window("whatsapp", Conversation(workspace_id=1, contact_id=1), None, now)
    assert window.allowed


def test_secrets_are_masked():
    assert mask("sk_live_0123456789abcd") == "••••abcd"
    assert mask("short") == "••••"  # too short to show any of it

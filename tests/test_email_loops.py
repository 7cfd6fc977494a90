"""No mail loops (RFC 3834): which mails never get an automatic answer, and the rate rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.email.loops import auto_reply_block, may_auto_reply, replies_within_rate
from channels.email.parse import parse_email

SAMPLES = Path(__file__).parent / "email_samples"
OWN = ["hello@bayview.example", "bayview-plumbing-k3x9qa@reply.example.com"]
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def mail(name: str = "gmail_reply.eml"):
    return parse_email((SAMPLES / name).read_bytes())


def test_an_ordinary_customer_mail_may_be_answered():
    assert auto_reply_block(mail(), OWN) is None
    assert may_auto_reply(mail(), own_addresses=OWN, now=NOW).allowed


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("out_of_office.eml", "Auto-Submitted: auto-replied"),
        ("list_mail.eml", "Precedence: bulk"),
        ("dsn_postfix.eml", "Auto-Submitted"),
        ("gmail_forwarding_confirmation.eml", "forwarding confirmation"),
    ],
)
def test_samples_that_must_not_be_answered(sample, reason):
    assert reason in auto_reply_block(mail(sample), OWN)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"auto_submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        ({"auto_submitted": "auto-notified; owner-email=x@y"}, "Auto-Submitted"),
        ({"precedence": "list"}, "Precedence"),
        ({"precedence": "junk"}, "Precedence"),
        ({"list_id": "<team.lists.example>"}, "mailing list"),
        ({"return_path": ""}, "null return path"),
        ({"autoreply_header": True}, "automatic reply"),
        ({"auto_response_suppress": "OOF, AutoReply"}, "X-Auto-Response-Suppress"),
        ({"from_address": "MAILER-DAEMON@mx.example.net"}, "mail system"),
        ({"from_address": "postmaster@example.net"}, "mail system"),
        ({"from_address": "hello@bayview.example"}, "own address"),
        ({"from_address": "Hello@Bayview.example"}, "own address"),
        ({"reply_to": ("bayview-plumbing-k3x9qa@reply.example.com",)}, "own address"),
        ({"from_address": ""}, "no sender"),
        ({"content_type": "multipart/report"}, "delivery report"),
    ],
)
def test_each_loop_rule(change, reason):
    assert reason in auto_reply_block(replace(mail(), **change), OWN)


def test_auto_submitted_no_and_normal_precedence_are_fine():
    for change in ({"auto_submitted": "no"}, {"precedence": "first-class"}):
        assert auto_reply_block(replace(mail(), **change), OWN) is None


def test_own_domain_blocks_any_address_on_it():
    sender = replace(mail(), from_address="someone+c1-abc@reply.example.com")
    assert "own address" in auto_reply_block(sender, [], own_domains=["reply.example.com"])


def test_rate_rule_counts_replies_in_the_last_hour_only():
    recent = [NOW - timedelta(minutes=m) for m in (1, 10, 20, 30, 59)]
    assert not replies_within_rate(recent, NOW, limit=5)
    assert replies_within_rate(recent[:4], NOW, limit=5)
    old = [NOW - timedelta(minutes=61), NOW - timedelta(hours=5)]
    assert replies_within_rate(recent[:4] + old, NOW, limit=5)
    assert replies_within_rate([], NOW, limit=1)
    assert not replies_within_rate([NOW - timedelta(minutes=5)], NOW, limit=1)


def test_may_auto_reply_combines_headers_and_rate():
    verdict = may_auto_reply(
        mail(), own_addresses=OWN, previous_replies=[NOW] * 3, now=NOW, limit=3
    )
    assert not verdict.allowed and "3 automatic replies this hour" in verdict.reason
    assert may_auto_reply(mail(), previous_replies=[NOW] * 2, now=NOW, limit=3).allowed
    assert not may_auto_reply(mail("list_mail.eml"), now=NOW).allowed

"""Gmail's and Outlook's forwarding confirmations: code and link surfaced for the admin."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from channels.email.confirmations import find_confirmation
from channels.email.parse import parse_email

SAMPLES = Path(__file__).parent / "email_samples"


def mail(name: str):
    return parse_email((SAMPLES / name).read_bytes())


def test_gmail_confirmation_code_and_confirm_link_not_the_cancel_link():
    found = find_confirmation(mail("gmail_forwarding_confirmation.eml"))
    assert found.provider == "gmail"
    assert found.code == "581204736"
    assert found.link == (
        "https://mail-settings.google.com/mail/vf-%5BANGjdJ9xQ2example%5D-K7wPq3Rst0uVx1yZ"
    )
    assert found.requested_by == "hello@bayview.example"


def test_gmail_html_only_and_workspace_branded_variants():
    html = (
        b"From: Gmail Team <forwarding-noreply@google.com>\r\n"
        b"Subject: (#239314020) Bayview Forwarding Confirmation - "
        b"Receive Mail from a@bayview.example\r\n"
        b"Content-Type: text/html; charset=UTF-8\r\n\r\n"
        b"<p>a@bayview.example has requested to automatically forward mail.</p>"
        b"<p>Confirmation code: 239314020</p>"
        b'<p><a href="https://mail.google.com/mail/vf-%5BANGjdJhtml%5D-abc&amp;x=1">Confirm</a></p>'
    )
    found = find_confirmation(parse_email(html))
    assert found.code == "239314020"
    assert found.link == "https://mail.google.com/mail/vf-%5BANGjdJhtml%5D-abc&x=1"
    assert found.requested_by == "a@bayview.example"


def test_gmail_lookalike_sender_or_foreign_link_is_not_trusted():
    real = mail("gmail_forwarding_confirmation.eml")
    assert (
        find_confirmation(replace(real, from_address="forwarding-noreply@google.com.evil.example"))
        is None
    )
    phishing = replace(
        real, text=real.text.replace("mail-settings.google.com", "mail-google.evil.example")
    )
    found = find_confirmation(phishing)
    assert found.code == "581204736" and found.link is None  # the code, never the foreign link
    plain_http = replace(
        real, text=real.text.replace("https://mail-settings", "http://mail-settings")
    )
    assert find_confirmation(plain_http).link is None


def test_outlook_confirmation():
    found = find_confirmation(mail("outlook_forwarding_confirmation.eml"))
    assert found.provider == "outlook"
    assert found.code == "7340192"
    assert found.link == "https://account.live.com/forwardconfirm?code=7340192&mkt=en-US"
    assert found.requested_by == "hello@bayview-outlook.example"


def test_ordinary_mail_and_other_microsoft_mail_are_not_confirmations():
    for name in ("gmail_reply.eml", "outlook_reply.eml", "list_mail.eml", "dsn_gmail.eml"):
        assert find_confirmation(mail(name)) is None
    newsletter = replace(
        mail("outlook_forwarding_confirmation.eml"),
        subject="Your Microsoft 365 invoice",
    )
    assert find_confirmation(newsletter) is None

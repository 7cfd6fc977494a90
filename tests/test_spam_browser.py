"""The Spam view in headless Chromium: a held conversation is only in its tab, shows its
reason, and "Not spam" puts it back in the inbox for the AI (see tests/browser.py)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.test_inbox_browser import Inbox, Seen, inbox, page, seen, sign_in  # noqa: F401
from tests.test_spam import LINKS


def test_spam_tab_reason_and_not_spam(page: Page, inbox: Inbox, seen: Seen) -> None:  # noqa: F811
    spam_id = inbox.visitor_says(LINKS, thread="bot")
    sign_in(page, "sam@bayside.example")  # staff; the open list is empty
    inbox.visitor_says("Do you whiten teeth?", thread="person")
    rows = page.locator("#conversation-list > li")
    expect(rows).to_have_count(1)  # the person's, live; the spam never arrives
    expect(page.locator(f'#conversation-list > li[data-id="{spam_id}"]')).to_have_count(0)

    page.get_by_role("tab", name="Spam").click()
    row = page.locator(f'#conversation-list > li[data-id="{spam_id}"]')
    expect(rows).to_have_count(1)
    expect(row.locator(".spam-reason")).to_have_text("3 links in one message")
    row.locator("button").click()
    expect(page.locator("#thread-status")).to_have_text("Spam")
    expect(page.locator("#thread-spam")).to_have_text("In Spam: 3 links in one message.")
    expect(page.locator('[data-action="reopen"]')).to_be_hidden()
    assert [turn[1] for turn in inbox.dispatcher.turns] != [spam_id]

    page.locator('[data-action="not-spam"]').click()
    expect(page.locator("#thread-status")).to_have_text("Open")
    expect(page.locator("#thread-spam")).to_be_hidden()
    expect(page.locator("#messages > li").last).to_contain_text("marked this as not spam")
    expect(rows).to_have_count(0)  # gone from the Spam tab
    assert spam_id in [turn[1] for turn in inbox.dispatcher.turns]  # the AI answers it now

    page.get_by_role("tab", name="Open").click()
    expect(rows).to_have_count(2)
    assert seen.console_errors == [] and seen.dialogs == []

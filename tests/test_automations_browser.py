"""An automation end to end in headless Chromium: an admin writes "new lead → tag `lead`
and POST a webhook" in Settings, switches it on, a visitor leaves their details in the
widget on another site, and the admin reads the run in the rule's log while the local
receiver holds the signed delivery (see tests/browser.py and tests/test_widget_browser.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from agent.config import Settings
from tests.receiver import Receiver
from tests.test_inbox import PASSWORD
from tests.test_widget_browser import (  # noqa: F401
    HostSite,
    Widget,
    ask,
    eventually,
    open_launcher,
    serving,
    site,
)


@pytest.fixture
def widget(sqlite_settings: Settings, site: HostSite) -> Iterator[Widget]:  # noqa: F811
    # The receiver is on 127.0.0.1: private addresses are allowed here, as in the other tests.
    settings = dataclasses.replace(sqlite_settings, allow_private_urls=True)
    with serving(settings, site) as served:
        yield served


def test_new_lead_rule_tags_and_posts_a_webhook(
    browser: Browser, widget: Widget, receiver: Receiver
) -> None:
    container, workspace = widget.container, widget.workspace
    endpoint, _ = container.outgoing_webhooks.add(workspace.id, receiver.url, "ping")
    admin = browser.new_context(base_url=widget.url).new_page()
    admin.set_default_timeout(15_000)
    errors: list[str] = []
    admin.on("pageerror", lambda error: errors.append(str(error)))
    admin.goto("/login")
    admin.get_by_label("Email").fill(widget.staff.email)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.locator("#connection")).to_have_text("Live")

    admin.goto("/settings/automations/")
    admin.locator("#new-rule").click()
    admin.get_by_label("Name").fill("Tag new leads")
    admin.locator("#trigger").select_option("lead.captured")
    admin.locator("#act_tag").fill("lead")
    admin.locator("#act_webhook").select_option(str(endpoint.id))
    admin.get_by_role("button", name="Save rule").click()
    expect(admin.locator("#rule-state")).to_have_text("Off")
    expect(admin.locator("#rule-summary")).to_contain_text(
        f"A new lead is captured: tag the contact “lead”; POST a webhook to {receiver.url}"
    )
    admin.locator("#switch-rule button").click()
    expect(admin.locator("#rule-state")).to_have_text("On")

    visitor = browser.new_context().new_page()
    visitor.set_default_timeout(15_000)
    visitor.goto(widget.site.page("/", "<h1>Bayside Dental</h1>", widget.snippet))
    frame = open_launcher(visitor)
    ask(frame, "Hi, I'm Rosa Delgado, rosa@example.com, please call me back", replies=3)

    eventually(admin, lambda: len(receiver.requests), 1)
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["type"] == "lead.captured"
    assert payload["data"]["automation"]["rule"]["name"] == "Tag new leads"
    assert payload["data"]["contact"]["email"] == "rosa@example.com"
    assert payload["data"]["contact"]["first_name"] == "Rosa"
    assert receiver.requests[0]["headers"]["X-Frontdesk-Signature"].startswith("t=")

    admin.reload()
    run = admin.locator(".automation-run")
    expect(run).to_have_count(1)
    expect(run).to_have_attribute("data-matched", "yes")
    expect(run).to_contain_text("lead.captured")
    expect(run).to_contain_text("✓ tag the contact “lead”: tagged")
    expect(run).to_contain_text("✓ POST a webhook to")
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        (conversation,) = repo.conversations.search()
        assert repo.contacts.get(conversation.contact_id).tags == ["lead"]
    assert errors == []

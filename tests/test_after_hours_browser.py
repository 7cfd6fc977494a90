"""After hours in the real widget, in headless Chromium set to Tokyo time: the browser's time
zone reaches the server, the web chat's away message arrives once, and the handoff reply says
when the team is back in the visitor's own time (tests/test_widget_browser.py's setup)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from agent.config import Settings
from agent.core.after_hours import AWAY, TIMEZONE
from agent.core.clock import FixedClock
from agent.core.models import Direction
from tests.test_widget_browser import HostSite, Widget, ask, open_launcher, serving

MONDAY_6PM_HALIFAX = datetime(2026, 3, 2, 18, 0, tzinfo=ZoneInfo("America/Halifax"))
AWAY_TEXT = "We're closed right now; a person will read this {back}."


@pytest.fixture
def site() -> Iterator[HostSite]:
    host = HostSite()
    yield host
    host.stop()


@pytest.fixture
def widget(sqlite_settings: Settings, site: HostSite) -> Iterator[Widget]:
    with serving(sqlite_settings, site, clock=FixedClock(MONDAY_6PM_HALIFAX)) as served:
        workspaces, workspace = served.container.workspaces, served.workspace
        workspaces.update_profile(
            workspace.id,
            {"timezone": "America/Halifax", "hours": {"tue": ["09:00-17:00"]}},
        )
        widget = {**workspace.widget, "away_message": AWAY_TEXT}
        workspaces.update_profile(workspace.id, {"widget": widget})
        yield served


@pytest.fixture
def tokyo_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_after_hours_in_the_widget_speaks_the_visitors_time(tokyo_page: Page, widget: Widget):
    page = tokyo_page
    page.goto(widget.site.page("/", "<h1>Bayside Dental</h1>", widget.snippet))
    frame = open_launcher(page)
    # welcome, question, away message, the AI's handoff reply
    ask(frame, "I want to talk to a real person", 4)
    messages = frame.locator("#messages > li")
    # Tuesday 9 am in Halifax is 10 pm the same Tuesday in Tokyo, where it is already Tuesday.
    expect(messages.nth(2)).to_contain_text("a person will read this today at 10 pm.")
    expect(messages.nth(3)).to_contain_text("when we're back, today at 10 pm")
    ask(frame, "Hello?", 5)  # the AI is silent now, and the away message is not repeated
    with widget.container.uow() as uow:
        repo = uow.workspace(widget.workspace.id)
        (conversation,) = repo.conversations.search()
        thread = repo.messages.for_conversation(conversation.id)
    inbound = [m for m in thread if m.direction == Direction.INBOUND]
    assert [m.meta.get(TIMEZONE) for m in inbound] == ["Asia/Tokyo", "Asia/Tokyo"]
    assert len([m for m in thread if (m.meta or {}).get(AWAY)]) == 1
    notes = [m.body for m in thread if m.direction == Direction.INTERNAL]
    assert any("After hours" in n and "today at 10 pm" in n for n in notes)

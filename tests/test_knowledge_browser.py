"""Settings > Knowledge in headless Chromium: live status over a real websocket, and search.

Ingestion is queued to a ``DeferredIngestQueue`` and run by the test while the page is
open, so each status change travels the whole way: the Ingestor's event -> Socket.IO ->
websocket -> the row in the browser, with no reload. See tests/browser.py for skips.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from agent.config import Settings
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from ingestion.jobs import DeferredIngestQueue
from tests.browser import LiveServer
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_inbox import PASSWORD
from tests.test_knowledge import drain

HOSTILE = "<img src=x onerror=alert(1)>"
ADMIN = "dana@bayside-dental.example"
expect.set_options(timeout=10_000)
Site = tuple[str, Container, int, DeferredIngestQueue]  # url, container, workspace, queue


@pytest.fixture
def site(sqlite_settings: Settings) -> Iterator[Site]:
    queue = DeferredIngestQueue()
    container = build(
        sqlite_settings,
        redis_url="",
        dispatcher_override=RecordingDispatcher(),
        ingest_queue_override=queue,
    )
    app, _ = create_app(container)
    workspace, _ = make_workspace(container)
    drain(container, queue)
    with LiveServer(app) as server:
        yield server.url, container, workspace.id, queue
    container.engine.dispose()


def test_status_updates_live_and_search_shows_passages_as_text(
    browser: Browser, site: Site
) -> None:
    url, container, workspace_id, queue = site
    context = browser.new_context(base_url=url)
    page: Page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.location["url"].endswith("/favicon.ico")
            and errors.append(m.text)
        ),
    )
    try:
        page.goto("/settings/knowledge")
        page.get_by_label("Email").fill(ADMIN)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/settings/knowledge$"))
        expect(page.locator("#knowledge-connection")).to_have_class(re.compile(r"\blive\b"))

        form = page.locator("#add-qa")
        form.get_by_label("Question").fill(HOSTILE)
        form.get_by_label("Answer").fill("Yes, from age three.")
        form.get_by_role("button", name="Add Q&A").click()
        expect(page.locator(".flash")).to_contain_text("is queued for ingestion")
        expect(page.locator("#knowledge-connection")).to_have_class(re.compile(r"\blive\b"))
        qa = next(s for s in container.knowledge.sources(workspace_id) if s.kind == "qa")
        row = page.locator(f'tr[data-source-id="{qa.id}"]')
        expect(row.locator(".knowledge-title")).to_have_text(HOSTILE)
        expect(row.locator('[data-field="status"]')).to_have_text("queued")
        page.evaluate("window.notReloaded = true")

        drain(container, queue)  # as a worker would, while the page stays open
        expect(row.locator('[data-field="status"]')).to_have_text("ready")
        expect(row.locator('[data-field="status"]')).to_have_class(re.compile("status-ready"))
        expect(row.locator('[data-field="last_run_text"]')).to_have_text(
            "1 document added · 1 passage added"
        )
        expect(row.locator('[data-field="progress_text"]')).to_have_text("")
        assert page.evaluate("window.notReloaded") is True

        page.locator("#knowledge-query").fill("do you treat kids")
        page.get_by_role("button", name="Search").click()
        first = page.locator("#knowledge-results > li").first
        expect(first.locator(".knowledge-citation")).to_have_text(f"Q&A: {HOSTILE}")
        expect(first.locator(".knowledge-passage-text")).to_contain_text("age three")
        expect(first).to_contain_text("similarity 0.")
        assert page.locator("#knowledge-results img").count() == 0

        page.locator(f'tr[data-source-id="{qa.id}"] .knowledge-remove').click()
        page.get_by_role("button", name="Remove it").click()
        expect(page.locator(f'tr[data-source-id="{qa.id}"]')).to_have_count(0)
        assert dialogs == [] and errors == []
    finally:
        context.close()

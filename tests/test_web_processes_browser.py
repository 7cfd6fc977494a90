"""Two web processes on one port (`frontdesk serve --web-processes 2`) in headless Chromium.

The real production server in its own process (gunicorn, two gevent workers, the tests'
Redis as the Socket.IO queue); the widget on a customer's site of another origin and the
staff inbox, each in its own browser context. Both must connect over WebSocket only (the
pages say so), and a conversation must work both ways whichever process holds each
socket: the staff reply is posted over HTTP to any process and reaches the visitor's
socket through Redis.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Browser, Page, expect

from agent.config import Settings
from frontdesk.wiring import build
from tests.conftest import make_workspace
from tests.test_server import _serve, fresh_widget_limits
from tests.test_widget_browser import HostSite, open_launcher

PASSWORD = "a long enough passphrase"  # make_workspace's admin


@pytest.fixture
def site() -> Iterator[HostSite]:
    host = HostSite()
    yield host
    host.stop()


def _page(browser: Browser, base_url: str | None, sockets: list[str], requests: list[str]) -> Page:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on("request", lambda request: requests.append(request.url))
    return page


def test_widget_and_inbox_talk_over_websockets_to_two_processes(
    browser: Browser, site: HostSite, tmp_path, redis_url
) -> None:
    settings = Settings.from_values({"data_dir": tmp_path / "data"}).ensure_data_dir()
    container = build(settings, redis_url=redis_url)
    container.migrate()
    workspace, admin = make_workspace(container, widget={"allowed_origins": [site.url]})
    container.engine.dispose()
    fresh_widget_limits(redis.Redis.from_url(redis_url))
    proc, base = _serve(tmp_path, redis_url, "--web-processes", "2")
    sockets: list[str] = []
    requests: list[str] = []
    try:
        staff = _page(browser, base, sockets, requests)
        staff.goto("/")
        staff.get_by_label("Email").fill(admin.email)
        staff.get_by_label("Password").fill(PASSWORD)
        staff.get_by_role("button", name="Sign in").click()
        expect(staff.locator("#connection")).to_have_text("Live")

        visitor = _page(browser, None, sockets, requests)
        snippet = f'<script async src="{base}/widget/v1/{workspace.widget_key}/loader.js"></script>'
        visitor.goto(site.page("/", "<h1>Bayside Dental</h1>", snippet))
        frame = open_launcher(visitor)
        visitor.keyboard.type("Do you take new patients?")
        visitor.keyboard.press("Enter")
        messages = frame.locator("#messages > li")
        expect(messages.last.locator(".body")).to_have_text("Do you take new patients?")

        row = staff.locator("#conversation-list > li")
        expect(row).to_have_count(1)  # arrived live
        row.locator("button").click()
        staff.locator('[data-action="takeover"]').click()
        expect(staff.locator("#thread-mode")).to_have_text("Human: Dana Admin")
        staff.locator("#reply-body").fill("Yes, we do! Would Tuesday suit you?")
        staff.locator("#reply-body").press("Enter")
        expect(messages.last.locator(".body")).to_have_text("Yes, we do! Would Tuesday suit you?")
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in output, output
    socket_io = [url for url in sockets if "/socket.io/" in url]
    assert len(socket_io) >= 2 and all("transport=websocket" in url for url in socket_io)
    assert not [url for url in requests if re.search(r"transport=polling", url)]

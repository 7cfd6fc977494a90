"""The chat widget end to end in headless Chromium, installed on a website of another origin.

frontdesk runs on 127.0.0.1 (tests/browser.py LiveServer); the host website is a tiny
server reached as ``localhost`` on another port, so the loader, the config request, the
iframe and postMessage all cross origins exactly as on a customer's site. AI turns run
inline with the real agent and the offline model (no Redis: InlineDispatcher). The
launcher lives in a closed shadow root, which Playwright cannot query into: tests click
its host element and read its accessible name through Chromium's accessibility tree.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request, urlopen

import pytest
from flask_socketio import SocketIO
from playwright.sync_api import Browser, Frame, Page, expect

from agent.config import Settings
from agent.core.models import AuthorKind, TeamMember, Workspace
from agent.core.team import TeamService
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from tests.browser import LiveServer, SocketBlock, drop_connections
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_settings_pages import drain_ingestion
from widget import routes as widget_routes
from widget.origins import REFUSED

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT_LINK = "[the old page](javascript:alert(1))"
MAX_CHARS = 300
AVATAR = "https://avatars.example/sam.png"
expect.set_options(timeout=15_000)


class HostSite:
    """A customer's website: pages the test writes, served on its own port."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        handler = functools.partial(_PageHandler, self.pages)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://localhost:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def page(self, path: str, body: str, head: str = "") -> str:
        self.pages[path] = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Bayside</title>{head}"
            f"</head><body>{body}</body></html>"
        )
        return self.url + path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _PageHandler(BaseHTTPRequestHandler):
    def __init__(self, pages: dict[str, str], *args: object) -> None:
        self.pages = pages
        super().__init__(*args)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        page = self.pages.get(self.path.split("?")[0])
        body = (page or "not found").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Widget:
    """frontdesk serving one workspace whose widget is allowed on ``site`` only."""

    url: str
    container: Container
    workspace: Workspace
    staff: TeamMember
    site: HostSite
    socketio: SocketIO

    @property
    def snippet(self) -> str:
        src = f"{self.url}/widget/v1/{self.workspace.widget_key}/loader.js"
        return f'<script async src="{src}"></script>'

    def messages(self) -> list[tuple[str, str]]:
        """(author kind, body) of the only conversation's chat messages, as stored."""
        with self.container.uow() as uow:
            repo = uow.workspace(self.workspace.id)
            (conversation,) = repo.conversations.search()
            return [
                (str(m.author_kind), m.body)
                for m in repo.messages.for_conversation(conversation.id)
                if m.author_kind != AuthorKind.SYSTEM
            ]

    def conversation_id(self) -> int:
        with self.container.uow() as uow:
            (conversation,) = uow.workspace(self.workspace.id).conversations.search()
        return conversation.id


@dataclass
class Seen:
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@pytest.fixture
def site() -> Iterator[HostSite]:
    host = HostSite()
    yield host
    host.stop()


@contextmanager
def serving(settings: Settings, site: HostSite, **overrides: object) -> Iterator[Widget]:
    """frontdesk with Bayside's workspace; AI turns inline unless a dispatcher is given."""
    settings = dataclasses.replace(settings, max_message_chars=MAX_CHARS)
    container = build(settings, redis_url="", **overrides)  # no Redis: InlineDispatcher
    app, socketio = create_app(container)
    workspace, staff = make_workspace(
        container,
        links={"booking": "https://bayside.example/book"},
        widget={
            "allowed_origins": [site.url],
            "primary_color": "#0F766E",
            "text_color": "#FFFFFF",
            "position": "left",
            "greeting": "We usually answer at once",
            "initial_message": "Welcome! See [our prices](https://bayside.example/prices).",
        },
    )
    TeamService(container.uow, container.clock).update_account(
        workspace.id, staff.id, name="Sam Staff", avatar=AVATAR, notify="instant"
    )
    knowledge = container.knowledge
    knowledge.add_qa(
        workspace.id,
        "How do I pay my bill?",
        f"Pay your bill at [our portal](https://pay.bayside.example/) or {SCRIPT_LINK} {HOSTILE}",
    )
    knowledge.add_qa(workspace.id, "Do you see children?", "Yes, we see children from age three.")
    drain_ingestion(container)
    try:
        with LiveServer(app) as server:
            yield Widget(server.url, container, workspace, staff, site, socketio)
    finally:
        container.engine.dispose()


@pytest.fixture
def widget(sqlite_settings: Settings, site: HostSite) -> Iterator[Widget]:
    """The real agent answers with the offline model, inline."""
    with serving(sqlite_settings, site) as served:
        yield served


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def page(browser: Browser, seen: Seen) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))

    def on_console(message: object) -> None:
        url = message.location["url"]  # type: ignore[attr-defined]
        if message.type == "error" and not url.endswith("/favicon.ico"):  # type: ignore[attr-defined]
            seen.console.append(f"{message.text} at {url}")  # type: ignore[attr-defined]

    page.on("console", on_console)
    yield page
    context.close()


# -- helpers -------------------------------------------------------------------------


def chat(page: Page) -> Frame:
    """The widget's iframe (inside the closed shadow root, so found through the frame tree)."""
    for _ in range(150):
        for frame in page.frames:
            if re.search(r"/widget/v1/[^/]+/frame\?", frame.url):
                return frame
        page.wait_for_timeout(100)
    raise AssertionError("the chat frame never appeared")


def has_chat(page: Page) -> bool:
    return any("/frame?" in frame.url for frame in page.frames)


def launcher_label(page: Page) -> str:
    """The launcher button's accessible name, from Chromium's accessibility tree."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    names = [
        n.get("name", {}).get("value", "")
        for n in nodes
        if n.get("role", {}).get("value") == "button" and not n.get("ignored")
    ]
    return next((name for name in names if "chat" in name.lower()), "")


def eventually(page: Page, read: Callable[[], object], wanted: object) -> None:
    """Wait (up to 10 s) until ``read()`` returns ``wanted``, for what locators cannot see."""
    for _ in range(100):
        if (value := read()) == wanted:
            return
        page.wait_for_timeout(100)
    assert value == wanted


def ask(frame: Frame, text: str, replies: int) -> None:
    """Type like a visitor, press Enter and wait until the chat holds ``replies`` items."""
    frame.locator("#body").fill(text)
    frame.locator("#body").press("Enter")
    expect(frame.locator("#messages > li")).to_have_count(replies)


def open_launcher(page: Page) -> Frame:
    page.locator("frontdesk-launcher").click()
    frame = chat(page)
    expect(frame.locator("#body")).to_be_focused()
    return frame


# -- tests ---------------------------------------------------------------------------


def test_floating_widget_answers_with_a_safe_link(page: Page, widget: Widget, seen: Seen) -> None:
    page.goto(widget.site.page("/", "<h1>Bayside Dental</h1><p>Smiles.</p>", widget.snippet))
    launcher = page.locator("frontdesk-launcher")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box and box["width"] == 60 and box["x"] < 40  # position "left"
    assert not has_chat(page)  # the chat frame is created on first open only
    assert launcher_label(page) == "Open chat"
    page.evaluate(
        "window.events = []; for (const name of ['open', 'close', 'message']) "
        "Frontdesk.on(name, (m) => events.push(m ? name + ':' + m.role : name))"
    )

    frame = open_launcher(page)
    assert launcher_label(page) == "Close chat"
    header = frame.locator(".header")
    expect(header).to_contain_text("Bayside Dental")
    expect(header).to_contain_text("We usually answer at once")
    expect(header).to_have_css("background-color", "rgb(15, 118, 110)")
    messages = frame.locator("#messages > li")
    expect(messages).to_have_count(1)  # the welcome, shown before anything is stored
    expect(messages.first.locator("a")).to_have_attribute("href", "https://bayside.example/prices")

    page.keyboard.type("How do I pay my bill?")  # focus is in the chat after opening
    page.keyboard.press("Enter")
    expect(messages).to_have_count(3)  # welcome (now stored), question, answer
    expect(messages.nth(1)).to_have_text("How do I pay my bill?")
    reply = messages.nth(2).locator(".body")
    expect(reply).to_contain_text("our portal")
    expect(reply).to_contain_text(HOSTILE)  # text, not markup
    expect(reply).to_contain_text(SCRIPT_LINK)
    expect(reply.locator("img")).to_have_count(0)
    anchors = reply.locator("a")
    expect(anchors).to_have_count(1)
    expect(anchors).to_have_attribute("href", "https://pay.bayside.example/")
    expect(anchors).to_have_attribute("target", "_blank")
    expect(anchors).to_have_attribute("rel", "noopener noreferrer")
    expect(messages.filter(has_text="Welcome!")).to_have_count(1)
    expect(frame.locator("#body")).to_have_value("")
    roles = [role for role, _ in widget.messages()]
    assert roles == ["ai", "contact", "ai"]

    page.keyboard.press("Escape")  # handled inside the frame, which asks the loader to close
    eventually(page, lambda: launcher_label(page), "Open chat")
    assert page.evaluate("document.activeElement.localName") == "frontdesk-launcher"
    assert frame.evaluate("document.hasFocus()") is False
    events = page.evaluate("events")
    assert events[0] == "open" and events[-1] == "close"
    assert "message:visitor" in events and "message:ai" in events
    assert seen.dialogs == [] and seen.errors == [] and seen.console == []


def test_embedded_widget_keeps_the_conversation_across_reloads(
    page: Page, widget: Widget, seen: Seen
) -> None:
    body = "<h1>Contact us</h1><div id='frontdesk-chat' style='height:560px'></div>"
    page.goto(widget.site.page("/contact", body, widget.snippet))
    frame = chat(page)
    assert "mode=embedded" in frame.url
    expect(page.locator("frontdesk-launcher")).to_have_count(0)  # no launcher when embedded
    expect(frame.locator("#close")).to_have_count(0)
    ask(frame, "Can I have your booking link?", 3)
    link = frame.locator("#messages > li").nth(2).locator(".body a")
    expect(link).to_have_attribute("href", "https://bayside.example/book")
    # Kept by the loader on the host site too: this Chromium denies the frame its storage.
    store = f"localStorage.getItem('frontdesk:{widget.workspace.widget_key}')"
    identity = page.evaluate(store)
    assert re.fullmatch(r"v_[\w-]+\.[0-9a-f]{64}", identity)

    page.reload()
    frame = chat(page)
    messages = frame.locator("#messages > li")
    expect(messages).to_have_count(3)  # the same conversation, nothing doubled
    expect(messages.nth(1)).to_have_text("Can I have your booking link?")
    expect(frame.locator("html")).to_have_attribute("data-connection", "live")
    assert page.evaluate(store) == identity
    ask(frame, "Do you see children?", 5)
    expect(messages.nth(4)).to_contain_text("age three")
    assert [role for role, _ in widget.messages()] == ["ai", "contact", "ai", "contact", "ai"]
    assert seen.dialogs == [] and seen.errors == [] and seen.console == []


def test_a_dropped_connection_loses_and_doubles_nothing(
    page: Page, widget: Widget, seen: Seen
) -> None:
    page.goto(widget.site.page("/", "<div id='frontdesk-chat'></div>", widget.snippet))
    frame = chat(page)
    ask(frame, "Do you see children?", 3)
    conversation_id = widget.conversation_id()
    service, workspace_id = widget.container.conversations, widget.workspace.id
    service.take_over(workspace_id, conversation_id, widget.staff.id)
    html = frame.locator("html")
    expect(html).to_have_attribute("data-connection", "live")

    offline = SocketBlock(page)
    offline.on = True  # the frame stays offline until both sides have written
    assert drop_connections(widget.socketio, "/widget") == 1
    expect(html).not_to_have_attribute("data-connection", "live")
    # While the visitor is away: staff answer, and the visitor keeps typing.
    service.reply(workspace_id, conversation_id, widget.staff.id, "Sam here: from age three.")
    frame.locator("#body").fill("Great, thanks!")
    frame.locator("#body").press("Enter")
    expect(frame.locator("#messages > li.pending")).to_have_text(re.compile("Great, thanks!"))
    offline.on = False

    expect(html).to_have_attribute("data-connection", "live")  # reconnected by itself
    items = frame.locator("#messages > li")
    expect(items.filter(has_text="Sam here: from age three.")).to_have_count(1)
    expect(items.filter(has_text="Great, thanks!")).to_have_count(1)
    expect(frame.locator("#messages > li.pending")).to_have_count(0)
    eventually(
        page,
        lambda: widget.messages()[-2:],
        [
            ("staff", "Sam here: from age three."),
            ("contact", "Great, thanks!"),
        ],
    )
    page.wait_for_timeout(500)  # a late duplicate would show up by now
    expect(items).to_have_count(5)
    assert len(widget.messages()) == 5
    assert seen.dialogs == [] and seen.errors == []
    # Offline: the avatar cannot load, and the refused transports say so.
    assert all(AVATAR in line or "/socket.io/" in line for line in seen.console)


def test_prefill_anchor_url_hash_and_js_send(page: Page, widget: Widget, seen: Seen) -> None:
    body = (
        "<a id='book' href='#frontdesk:prefill=Book%20an%20appointment'>Book a visit</a>"
        "<p style='height:2000px'>Long page</p>"
    )
    url = widget.site.page("/", body, widget.snippet)
    page.goto(url)
    page.locator("#book").click()
    frame = chat(page)
    expect(frame.locator("#body")).to_have_value("Book an appointment")
    expect(frame.locator("#body")).to_be_focused()
    assert page.url == url  # the anchor does not change the address
    expect(frame.locator("#messages > li")).to_have_count(1)  # prefilled, not sent

    page.goto(url + "#frontdesk:prefill=" + quote("Hello from the newsletter"))
    frame = chat(page)
    expect(frame.locator("#body")).to_have_value("Hello from the newsletter")
    eventually(page, lambda: page.url, url)  # the action is taken off the address

    page.evaluate("Frontdesk.send('Do you see children?')")
    messages = frame.locator("#messages > li")
    expect(messages).to_have_count(3)
    expect(messages.nth(1)).to_have_text("Do you see children?")
    expect(messages.nth(2)).to_contain_text("age three")
    expect(frame.locator("#body")).to_have_value("Hello from the newsletter")  # left alone
    assert seen.dialogs == [] and seen.errors == [] and seen.console == []


HOSTILE_CSS = """<style>
* { display: block !important; position: static !important; width: auto !important;
    height: auto !important; margin: 7px !important; padding: 9px !important;
    font: 40px/3 serif !important; color: red !important; background: yellow !important;
    border: 5px dashed lime !important; visibility: visible !important; }
iframe, button, svg { display: none !important; }
body { overflow: hidden !important; }
</style>
<script>
for (const type of ["keydown", "keypress", "keyup"]) {
  document.addEventListener(type, (event) => event.preventDefault(), true);
  window.addEventListener(type, (event) => event.preventDefault(), true);
}
</script>"""


def test_hostile_host_styles_and_key_hijacking_do_not_break_the_widget(
    page: Page, widget: Widget, seen: Seen
) -> None:
    page.goto(
        widget.site.page("/", "<h1>Bayside</h1><input id='search'>", HOSTILE_CSS + widget.snippet)
    )
    launcher = page.locator("frontdesk-launcher")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    viewport = page.viewport_size
    assert box and (box["width"], box["height"]) == (60, 60)
    assert box["y"] + 60 == pytest.approx(viewport["height"] - 20, abs=1)  # still fixed

    frame = open_launcher(page)
    page.keyboard.type("How do I pay my bill?")  # the page cancels every key it sees
    page.keyboard.press("Enter")
    messages = frame.locator("#messages > li")
    expect(messages).to_have_count(3)
    expect(messages.nth(2).locator(".body a")).to_have_attribute(
        "href", "https://pay.bayside.example/"
    )
    iframe_box = frame.frame_element().bounding_box()
    assert iframe_box and iframe_box["width"] >= 300 and iframe_box["height"] >= 400

    page.keyboard.press("Escape")
    eventually(page, lambda: launcher_label(page), "Open chat")
    page.keyboard.press("Enter")  # the launcher has focus; the page cancels the key
    eventually(page, lambda: launcher_label(page), "Close chat")
    expect(frame.locator("#body")).to_be_focused()
    assert seen.dialogs == [] and seen.errors == [] and seen.console == []


def test_staff_takeover_reply_shows_the_name_and_stays_inert(
    page: Page, widget: Widget, seen: Seen
) -> None:
    page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
    frame = open_launcher(page)
    ask(frame, "Can someone call me?", 3)
    conversation_id = widget.conversation_id()
    service = widget.container.conversations
    service.take_over(widget.workspace.id, conversation_id, widget.staff.id)
    expect(frame.locator("#agent")).to_contain_text("Sam Staff")
    body = f"Hi, Sam here. {HOSTILE} {SCRIPT_LINK} See [our team](https://bayside.example/team)."
    service.reply(widget.workspace.id, conversation_id, widget.staff.id, body)

    staff = frame.locator("#messages > li.msg-staff")
    expect(staff).to_have_count(1)
    expect(staff.locator(".author")).to_have_text("Sam Staff")
    expect(staff.locator(".author img")).to_have_attribute("src", AVATAR)
    expect(staff.locator(".body")).to_contain_text(HOSTILE)
    expect(staff.locator(".body")).to_contain_text(SCRIPT_LINK)
    expect(staff.locator(".body img")).to_have_count(0)
    expect(staff.locator(".body a")).to_have_count(1)
    expect(staff.locator(".body a")).to_have_attribute("href", "https://bayside.example/team")
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert seen.dialogs == [] and seen.errors == []
    assert [c for c in seen.console if AVATAR not in c and "ERR_NAME" not in c] == []


def test_long_messages_are_refused_inline(page: Page, widget: Widget, seen: Seen) -> None:
    page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
    frame = open_launcher(page)
    frame.locator("#body").fill("x" * (MAX_CHARS + 1))
    notice = frame.locator("#notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("too long")
    expect(notice).to_contain_text(str(MAX_CHARS))
    frame.locator("#body").press("Enter")
    expect(frame.locator("#messages > li")).to_have_count(1)  # nothing sent
    frame.locator("#body").fill("x" * MAX_CHARS)
    expect(notice).to_be_hidden()
    assert seen.dialogs == [] and seen.errors == []


def test_visitors_sending_too_fast_are_told_to_wait(page: Page, widget: Widget, seen: Seen) -> None:
    page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
    frame = open_launcher(page)
    ask(frame, "Can someone call me?", 3)
    service = widget.container.conversations
    service.take_over(widget.workspace.id, widget.conversation_id(), widget.staff.id)
    for n in range(2, 12):  # no AI turns now: the limit is 10 messages a minute
        frame.locator("#body").fill(f"message {n}")
        frame.locator("#body").press("Enter")
    notice = frame.locator("#notice")
    expect(notice).to_have_text(
        "You're sending messages too quickly. Please wait a minute and try again."
    )
    expect(frame.locator("#messages > li.failed")).to_have_count(1)
    expect(frame.locator("#messages > li.failed")).to_contain_text("message 11")
    visitor = [body for kind, body in widget.messages() if kind == "contact"]
    # Stored once each, in the order typed (the frame sends one message at a time).
    assert visitor == ["Can someone call me?"] + [f"message {n}" for n in range(2, 11)]
    assert seen.dialogs == [] and seen.errors == []


def test_the_visitor_sees_the_ai_typing_until_its_answer_arrives(
    page: Page, sqlite_settings: Settings, site: HostSite, seen: Seen
) -> None:
    dispatcher = RecordingDispatcher()  # queued, as for a worker: the test runs the turn
    with serving(sqlite_settings, site, dispatcher_override=dispatcher) as widget:
        page.goto(site.page("/", "<h1>Bayside</h1>", widget.snippet))
        frame = open_launcher(page)
        ask(frame, "Do you see children?", 2)  # welcome and question; no answer yet
        typing = frame.locator("#typing")
        expect(typing).to_have_text("Bayside Dental is typing…")
        (turn,) = dispatcher.turns
        widget.container.turns.run(*turn)  # what the worker does
        expect(frame.locator("#messages > li")).to_have_count(3)
        expect(frame.locator("#messages > li").last).to_contain_text("age three")
        expect(typing).to_be_hidden()
    assert seen.dialogs == [] and seen.errors == [] and seen.console == []


def test_narrow_screens_get_a_full_screen_chat(
    browser: Browser, widget: Widget, seen: Seen
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 700}, has_touch=True)
    try:
        page = context.new_page()
        page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
        page.locator("frontdesk-launcher").tap()
        frame = chat(page)
        expect(frame.locator("#body")).to_be_visible()
        box = frame.frame_element().bounding_box()
        assert box == {"x": 0, "y": 0, "width": 390, "height": 700}
        frame.locator("#close").tap()  # the launcher is covered: the frame's own close button
        eventually(page, lambda: launcher_label(page), "Open chat")
    finally:
        context.close()


def test_without_the_mobile_popup_narrow_screens_open_the_chat_in_a_tab(
    browser: Browser, widget: Widget
) -> None:
    widget.container.workspaces.update_profile(
        widget.workspace.id, {"widget": {**widget.workspace.widget, "mobile_popup": False}}
    )
    context = browser.new_context(viewport={"width": 390, "height": 700}, has_touch=True)
    try:
        page = context.new_page()
        page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
        with context.expect_page() as opened:
            page.locator("frontdesk-launcher").tap()
        tab = opened.value
        tab.wait_for_url(re.compile(r"/widget/v1/[^/]+/frame\?"))
        assert not has_chat(page)  # nothing drawn over the host page
        expect(tab.locator("html")).to_have_attribute("data-connection", "live")
        tab.locator("#body").fill("Do you see children?")
        tab.locator("#body").press("Enter")
        expect(tab.locator("#messages > li").nth(2)).to_contain_text("age three")
    finally:
        context.close()


def test_a_site_not_on_the_allow_list_gets_nothing(page: Page, widget: Widget, seen: Seen) -> None:
    other = HostSite()  # another port: another origin, not allowed
    try:
        # The refusal is readable cross-origin: the site owner's console says why.
        with page.expect_console_message(lambda m: REFUSED in m.text):
            page.goto(other.page("/", "<h1 id='title'>Someone else's site</h1>", widget.snippet))
        page.wait_for_timeout(300)
        expect(page.locator("#title")).to_be_visible()
        expect(page.locator("frontdesk-launcher")).to_have_count(0)
        assert not has_chat(page)
        assert seen.errors == [] and seen.dialogs == []
        key = widget.workspace.widget_key
        config = Request(f"{widget.url}/widget/v1/{key}/config.json", headers={"Origin": other.url})
        with pytest.raises(HTTPError) as refused:
            urlopen(config)
        assert refused.value.code == 403
        assert json.load(refused.value) == {"error": REFUSED}
        frame_url = f"{widget.url}/widget/v1/{key}/frame?host={quote(other.url)}&mode=embedded"
        with pytest.raises(HTTPError) as refused:
            urlopen(frame_url)
        assert refused.value.code == 403
    finally:
        other.stop()


# -- messages the server refuses or does not answer -------------------------------------

FAILED = "Your message could not be sent. Please try again."
NO_ANSWER = "Your message could not be sent: the chat did not answer. Please try again."


def visitor_bodies(widget: Widget) -> list[str]:
    return [body for kind, body in widget.messages() if kind == "contact"]


def test_a_refused_message_shows_as_failed_and_the_next_ones_still_go(
    page: Page, widget: Widget, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = widget.container.conversations
    receive = service.receive
    refused = {"How do I pay my bill?"}

    def failing(workspace_id: int, inbound: object, **options: object) -> object:
        if inbound.body in refused:  # type: ignore[attr-defined]
            raise RuntimeError("the database went away")
        return receive(workspace_id, inbound, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "receive", failing)
    page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
    frame = open_launcher(page)
    body, items = frame.locator("#body"), frame.locator("#messages > li")
    body.fill("How do I pay my bill?")
    body.press("Enter")
    failed = frame.locator("#messages > li.failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("How do I pay my bill?")
    expect(failed.get_by_role("button", name="Retry")).to_be_visible()
    expect(frame.locator("#notice")).to_have_text(FAILED)
    body.fill("Do you see children?")
    body.press("Enter")
    expect(items.filter(has_text="age three")).to_have_count(1)  # the next one goes on
    # Half an emoji, as JavaScript's slice leaves it: stored (as U+FFFD) and acknowledged.
    frame.evaluate("document.getElementById('body').value = 'Cut ' + '\U0001f600'.slice(0, 1)")
    body.press("Enter")
    eventually(page, lambda: visitor_bodies(widget), ["Do you see children?", "Cut \ufffd"])
    expect(frame.locator("#messages > li.pending")).to_have_count(0)
    expect(failed).to_have_count(1)

    refused.clear()  # the server is well again: Retry sends the failed message
    failed.get_by_role("button", name="Retry").click()
    expect(failed).to_have_count(0)
    expect(items.filter(has_text="our portal")).to_have_count(1)
    expect(frame.locator("#messages > li.pending")).to_have_count(0)
    expect(frame.locator("#notice")).to_be_hidden()
    expected = ["Do you see children?", "Cut \ufffd", "How do I pay my bill?"]
    eventually(page, lambda: visitor_bodies(widget), expected)
    texts = items.all_inner_texts()  # in the order stored: the retried one comes last
    order = [next(i for i, t in enumerate(texts) if t.startswith(b[:4])) for b in expected]
    assert order == sorted(order), texts
    assert seen.dialogs == [] and seen.errors == []


def test_an_unanswered_message_shows_as_failed_without_holding_up_the_next(
    page: Page, widget: Widget, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_routes, "ANSWER_TIMEOUT", 3)  # seconds, instead of 30
    service = widget.container.conversations
    receive = service.receive
    release = threading.Event()

    def stuck(workspace_id: int, inbound: object, **options: object) -> object:
        if inbound.body == "How do I pay my bill?":  # type: ignore[attr-defined]
            release.wait(30)  # a server that hangs on this one message
        return receive(workspace_id, inbound, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "receive", stuck)
    page.goto(widget.site.page("/", "<h1>Bayside</h1>", widget.snippet))
    frame = open_launcher(page)
    body, items = frame.locator("#body"), frame.locator("#messages > li")
    body.fill("How do I pay my bill?")
    body.press("Enter")
    body.fill("Do you see children?")
    body.press("Enter")
    failed = frame.locator("#messages > li.failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("How do I pay my bill?")
    expect(failed.get_by_role("button", name="Retry")).to_be_visible()
    expect(frame.locator("#notice")).to_have_text(NO_ANSWER)
    expect(items.filter(has_text="age three")).to_have_count(1)  # not held up behind it
    assert visitor_bodies(widget) == ["Do you see children?"]

    release.set()  # the server gets to it after all: stored, and no longer shown as failed
    expect(failed).to_have_count(0)
    expect(items.filter(has_text="our portal")).to_have_count(1)
    expect(frame.locator("#notice")).to_be_hidden()
    assert visitor_bodies(widget) == ["Do you see children?", "How do I pay my bill?"]
    assert seen.dialogs == [] and seen.errors == []

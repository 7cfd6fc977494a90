"""The widget settings page, the WordPress plugin ZIP and the demo pages, over HTTP on the
real app (SQLite): saving, the limits, who may see what, the snippet and escaping."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import zipfile

import pytest
from markupsafe import escape
from playwright.sync_api import expect

from agent.core.workspaces import WIDGET_DEFAULTS
from tests import test_inbox, test_inbox_browser
from tests.conftest import make_workspace
from tests.test_inbox import login
from tests.test_inbox_browser import ADMIN, sign_in
from widget.snippet import embedded_snippet, snippet
from widget.wordpress import php_string

web = test_inbox.web
bayside = test_inbox.bayside
# The browser tests' live server, a signed-out page and what the page did (tests/browser.py).
inbox = test_inbox_browser.inbox
page = test_inbox_browser.page
seen = test_inbox_browser.seen

PAGE = "/settings/widget"
HOSTILE = "<script>alert(1)</script>"


def signed_in(web, email: str = "dana@bayside-dental.example"):
    client = web[0].test_client()
    response, token = login(client, email)
    assert response.status_code == 302
    return client, token


def saved_widget(container, workspace_id: int) -> dict:
    with container.uow() as uow:
        return dict(uow.workspace(workspace_id).workspace().widget)


def widget_form(token: str, **overrides) -> dict:
    form = {
        "csrf_token": token,
        "greeting": "Hello from Bayside!",
        "initial_message": "Hi! Ask me anything or [book a visit](https://bayside.example/book).",
        "primary_color": "#112233",
        "accent_color": "#445566",
        "text_color": "#fefefe",
        "position": "left",
        "allowed_origins": "https://bayside.example\n\n  https://www.bayside.example  \n",
    }
    form.update(overrides)
    return form


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error error" id="{name}-error">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else ""


def test_admin_saves_every_widget_setting(web, bayside, app_container):
    workspace = bayside[0]
    client, token = signed_in(web)
    response = client.post(PAGE, data=widget_form(token))
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    assert saved_widget(app_container, workspace.id) == {
        "greeting": "Hello from Bayside!",
        "initial_message": "Hi! Ask me anything or [book a visit](https://bayside.example/book).",
        "primary_color": "#112233",
        "accent_color": "#445566",
        "text_color": "#fefefe",
        "position": "left",
        "mobile_popup": False,  # an unticked checkbox is not sent
        "allowed_origins": ["https://bayside.example", "https://www.bayside.example"],
        "away_message": "",  # set on Settings > Channels, kept by this page
    }
    assert set(saved_widget(app_container, workspace.id)) == set(WIDGET_DEFAULTS)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Widget settings saved" in page
    assert 'value="#112233"' in page and 'value="left" checked' in page
    assert "https://bayside.example\nhttps://www.bayside.example</textarea>" in page
    assert 'name="mobile_popup" checked' not in page

    client.post(PAGE, data=widget_form(token, mobile_popup="on", allowed_origins=""))
    widget = saved_widget(app_container, workspace.id)
    assert widget["mobile_popup"] is True and widget["allowed_origins"] == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("greeting", "g" * 71, "must be at most 70 characters"),
        ("initial_message", "m" * 601, "must be at most 600 characters"),
    ],
)
def test_too_long_messages_are_refused_next_to_the_field(
    web, bayside, app_container, field, value, message
):
    workspace = bayside[0]
    before = saved_widget(app_container, workspace.id)
    client, token = signed_in(web)
    response = client.post(PAGE, data=widget_form(token, **{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_error(page, field) == message
    assert f'aria-invalid="true" aria-describedby="{field}-error' in page
    assert "Nothing was saved" in page
    assert value in page  # the form keeps what the admin typed...
    assert 'value="#112233"' in page  # ...in every field
    assert saved_widget(app_container, workspace.id) == before


def test_the_limits_themselves_are_accepted(web, bayside, app_container):
    client, token = signed_in(web)
    form = widget_form(token, greeting="g" * 70, initial_message="m" * 600)
    assert client.post(PAGE, data=form).status_code == 302
    widget = saved_widget(app_container, bayside[0].id)
    assert (len(widget["greeting"]), len(widget["initial_message"])) == (70, 600)


def test_allowed_websites_are_checked_and_normalised(web, bayside, app_container):
    before = saved_widget(app_container, bayside[0].id)
    client, token = signed_in(web)
    typed = "https://bayside.example\nbayside.example/contact"
    response = client.post(PAGE, data=widget_form(token, allowed_origins=typed))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "'bayside.example/contact'" in field_error(page, "allowed_origins")
    assert f"{typed}</textarea>" in page
    assert saved_widget(app_container, bayside[0].id) == before

    typed = "HTTPS://Bayside.Example/\nhttp://localhost:8000"
    assert client.post(PAGE, data=widget_form(token, allowed_origins=typed)).status_code == 302
    saved = saved_widget(app_container, bayside[0].id)["allowed_origins"]
    assert saved == ["https://bayside.example", "http://localhost:8000"]


def test_every_bad_field_is_reported_at_once(web, bayside, app_container):
    client, token = signed_in(web)
    form = widget_form(token, greeting="g" * 71, initial_message="m" * 601, position="top")
    page = client.post(PAGE, data=form).get_data(as_text=True)
    assert field_error(page, "greeting") and field_error(page, "initial_message")
    assert field_error(page, "position") == "must be left or right"
    assert "fix the 3 problems" in page


def test_staff_and_strangers_cannot_use_the_widget_settings(web, bayside, app_container):
    before = saved_widget(app_container, bayside[0].id)
    client, token = signed_in(web, "sam@bayside.example")
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, data=widget_form(token)).status_code == 403
    assert client.get(f"{PAGE}/wordpress.zip").status_code == 403
    assert saved_widget(app_container, bayside[0].id) == before
    stranger = web[0].test_client()
    assert stranger.get(PAGE).status_code == 302
    assert stranger.get(PAGE).headers["Location"].startswith("/login")
    assert stranger.get(f"{PAGE}/wordpress.zip").status_code == 302


def test_saving_needs_the_csrf_token(web, bayside, app_container):
    before = saved_widget(app_container, bayside[0].id)
    client, _ = signed_in(web)
    assert client.post(PAGE, data=widget_form("forged")).status_code == 400
    assert saved_widget(app_container, bayside[0].id) == before


def test_the_page_shows_the_snippets_instructions_and_links(web, bayside):
    key = bayside[0].widget_key
    client, _ = signed_in(web)
    response = client.get(PAGE)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    floating = f'<script async src="http://localhost/widget/v1/{key}/loader.js"></script>'
    assert snippet("http://localhost", key) == floating
    assert escape(floating) in page  # shown as text to copy, not run
    assert escape(embedded_snippet("http://localhost", key)) in page
    assert escape('<div id="frontdesk-chat"></div>') in page
    assert page.count("data-copy=") == 2
    for platform in ("WordPress", "Shopify", "theme.liquid", "Wix", "Squarespace", "Webflow"):
        assert platform in page
    assert 'href="/settings/widget/wordpress.zip"' in page
    assert 'href="/demo"' in page and 'href="/demo/embedded"' in page
    assert '<script src="/static/widget_settings.js"></script>' in page
    assert "<script>" not in page and " style=" not in page  # nothing inline under the CSP
    assert '<a href="/settings/widget" aria-current="page">Widget</a>' in page
    profile = client.get("/settings/profile").get_data(as_text=True)
    assert '<a href="/settings/widget">Widget</a>' in profile  # in the settings navigation


def public_url(container, url: str) -> None:
    container.settings = dataclasses.replace(container.settings, public_url=url)


def test_the_snippet_uses_the_public_url_when_set(web, bayside, app_container):
    public_url(app_container, "https://chat.bayside.example/")
    key = bayside[0].widget_key
    client, _ = signed_in(web)
    page = client.get(PAGE).get_data(as_text=True)
    expected = f'<script async src="https://chat.bayside.example/widget/v1/{key}/loader.js">'
    assert escape(expected) in page
    assert "localhost/widget" not in page
    plugin = _plugin_files(client.get(f"{PAGE}/wordpress.zip").data)
    assert expected in plugin["frontdesk-chat/frontdesk-chat.php"]


def _plugin_files(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_wordpress_plugin_zip(web, bayside):
    key = bayside[0].widget_key
    client, _ = signed_in(web)
    response = client.get(f"{PAGE}/wordpress.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="frontdesk-chat.zip"'
    files = _plugin_files(response.data)
    assert sorted(files) == ["frontdesk-chat/frontdesk-chat.php", "frontdesk-chat/readme.txt"]
    php = files["frontdesk-chat/frontdesk-chat.php"]
    assert php.startswith("<?php\n/**\n * Plugin Name:       Frontdesk Chat\n")
    assert re.search(r"^ \* Version:\s+1\.0\.0$", php, re.M)
    assert "if ( ! defined( 'ABSPATH' ) )" in php
    assert f"define( 'FRONTDESK_CHAT_SNIPPET', '{snippet('http://localhost', key)}' );" in php
    assert "add_action( 'wp_head', 'frontdesk_chat_print_snippet' );" in php
    assert "echo wp_kses(" in php
    readme = files["frontdesk-chat/readme.txt"]
    assert readme.startswith("=== Frontdesk Chat ===") and "Stable tag: 1.0.0" in readme
    assert client.get(f"{PAGE}/wordpress.zip").data == response.data  # same bytes every time


def test_the_plugin_escapes_the_snippet_for_php_and_html():
    assert php_string("it's a \\ path") == "'it\\'s a \\\\ path'"
    hostile = snippet("https://evil.example/'); system('id'); //\"", "k")
    assert "'" not in hostile and '"https' in hostile  # HTML-escaped by the snippet builder
    assert hostile.count('"') == 2
    assert php_string("\\'") == "'\\\\\\''"


def test_the_demo_pages_show_the_widget_without_login(web, bayside):
    workspace = bayside[0]
    client = web[0].test_client()
    floating = client.get("/demo")
    page = floating.get_data(as_text=True)
    tag = snippet("http://localhost", workspace.widget_key)
    assert floating.status_code == 200
    head = page.split("</head>")[0]
    assert tag in head  # pasted in <head>, as the instructions say
    assert page.count("loader.js") == 1
    assert '<div id="frontdesk-chat">' not in page
    assert "Bayside Dental" in page and "#frontdesk:prefill=" in page
    assert "script-src 'self';" in floating.headers["Content-Security-Policy"]

    embedded = client.get("/demo/embedded")
    page = embedded.get_data(as_text=True)
    assert embedded.status_code == 200
    assert embedded_snippet("http://localhost", workspace.widget_key) in page
    assert page.count("loader.js") == 1
    for html_text in (floating.get_data(as_text=True), page):
        assert "<script>" not in html_text and " style=" not in html_text
        assert '<link rel="stylesheet" href="/demo/static/demo.css">' in html_text
    assert client.get("/demo/static/demo.css").status_code == 200


def test_the_demo_uses_the_first_workspace_and_its_profile(web, app_container):
    first, _ = make_workspace(
        app_container,
        "Harbour Bikes",
        address="1 Quay St",
        services=["Tune-up", "Puncture repair"],
        hours={"mon": ["09:00-17:00"]},
    )
    make_workspace(app_container, "Second Shop")
    page = web[0].test_client().get("/demo").get_data(as_text=True)
    assert "Harbour Bikes" in page and "Second Shop" not in page
    assert first.widget_key in page
    assert "Tune-up" in page and "1 Quay St" in page and "09:00-17:00" in page


def test_the_demo_without_any_workspace_says_what_to_do(web):
    response = web[0].test_client().get("/demo")
    assert response.status_code == 404
    assert "frontdesk demo" in response.get_data(as_text=True)


def test_the_demo_trusts_a_public_url_on_another_host(web, bayside, app_container):
    public_url(app_container, "https://chat.bayside.example")
    response = web[0].test_client().get("/demo")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://chat.bayside.example;" in csp
    assert "connect-src 'self' https://chat.bayside.example;" in csp
    assert "frame-src 'self' https://chat.bayside.example" in csp
    assert "https://chat.bayside.example/widget/v1/" in response.get_data(as_text=True)


def test_a_hostile_business_name_is_escaped_everywhere(web, app_container):
    make_workspace(app_container, HOSTILE)
    client, _ = signed_in(web, "dana@script-alert-1-script.example")
    pages = [client.get(PAGE), client.get("/demo"), client.get("/demo/embedded")]
    for response in pages:
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert HOSTILE not in page
        assert html.escape(HOSTILE) in page


# -- in Chromium: counters, preview and copy under the strict CSP ---------------------


def test_counters_preview_and_copy_work_in_the_browser(page, seen):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, ADMIN)
    page.goto(PAGE)
    greeting = page.get_by_label("Greeting in the chat header")
    expect(page.locator("#greeting-count")).to_have_text(
        f"{len(WIDGET_DEFAULTS['greeting'])} / 70 characters"
    )
    greeting.fill("g" * 71)
    expect(page.locator("#greeting-count")).to_have_text("71 / 70 characters: 1 too many")
    expect(page.locator("#greeting-count")).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#preview-greeting")).to_have_text("g" * 71)
    page.locator("#primary_color").fill("#ff0000")
    expect(page.locator("#preview-header")).to_have_css("background-color", "rgb(255, 0, 0)")
    page.get_by_label("Bottom left").check()
    expect(page.locator(".widget-preview")).to_have_attribute("data-position", "left")

    page.locator('button[data-copy="snippet-embedded"]').click()
    expect(page.locator('button[data-copy="snippet-embedded"]')).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#snippet-embedded").input_value()
    assert copied.startswith('<div id="frontdesk-chat"></div>\n<script async src="')

    assert seen.console_errors == [] and seen.dialogs == []  # no CSP violation, no error

    page.get_by_role("button", name="Save widget settings").click()
    expect(page.locator("#greeting-error")).to_have_text("must be at most 70 characters")
    expect(greeting).to_have_value("g" * 71)

"""The demo pages: a sample business website (the first workspace's profile) with the chat
installed exactly as a customer would paste it, floating and embedded. No login needed.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, render_template, request

from agent.core.models import Workspace
from agent.core.validation import DAY_NAMES
from web.context import container
from web.security import CSP
from widget.origins import origin_of
from widget.snippet import embedded_snippet, snippet, snippet_base

bp = Blueprint(
    "demo",
    __name__,
    url_prefix="/demo",
    template_folder="templates",
    static_folder="demo_static",
    static_url_path="/static",
)


def demo_csp(base: str, host_url: str) -> str:
    """The app's CSP, also trusting frontdesk's public address when it is not this host."""
    origin = origin_of(base)
    if origin is None or origin == origin_of(host_url):
        return CSP
    return (
        CSP.replace("script-src 'self'", f"script-src 'self' {origin}").replace(
            "connect-src 'self'", f"connect-src 'self' {origin}"
        )
        + f"; frame-src 'self' {origin}"
    )


def _first_workspace() -> Workspace:
    workspaces = container().workspaces.all()
    if not workspaces:
        abort(
            404,
            description="No business yet: create one with `frontdesk demo` or `frontdesk init`.",
        )
    return workspaces[0]


def _render(template: str, build: Callable[[str, str], str]) -> tuple[str, int, dict[str, str]]:
    """The page with the snippet ``build`` makes, under a CSP that lets that snippet load."""
    workspace = _first_workspace()
    base = snippet_base(container().settings.public_url, request.host_url)
    page = render_template(
        template,
        workspace=workspace,
        days=DAY_NAMES,
        snippet=build(base, workspace.widget_key),
    )
    return page, 200, {"Content-Security-Policy": demo_csp(base, request.host_url)}


@bp.get("")
def floating():  # type: ignore[no-untyped-def]
    return _render("demo/floating.html", snippet)


@bp.get("/embedded")
def embedded():  # type: ignore[no-untyped-def]
    return _render("demo/embedded.html", embedded_snippet)

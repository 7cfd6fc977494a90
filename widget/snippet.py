"""The install snippet: the one tag a customer pastes, built in one place for every page."""

from __future__ import annotations

from html import escape

EMBED_CONTAINER = '<div id="frontdesk-chat"></div>'


def snippet_base(public_url: str, host_url: str) -> str:
    """Where browsers reach frontdesk: the configured public URL, else this request's host."""
    return (public_url or host_url).rstrip("/")


def loader_url(base: str, key: str) -> str:
    return f"{base}/widget/v1/{key}/loader.js"


def snippet(base: str, key: str) -> str:
    """The floating widget: one async tag that works anywhere in the page, `<head>` included."""
    return f'<script async src="{escape(loader_url(base, key))}"></script>'


def embedded_snippet(base: str, key: str) -> str:
    """The embedded widget: the container it renders into, then the same tag."""
    return f"{EMBED_CONTAINER}\n{snippet(base, key)}"

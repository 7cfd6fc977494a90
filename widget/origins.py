"""Which websites may show a workspace's chat widget (pure).

The normaliser itself lives in ``agent.core.validation`` so the admin's settings and the
public endpoints agree on one spelling of an origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from agent.core import validation
from agent.core.errors import ValidationError

REFUSED = "This website is not allowed to show this chat widget."


def normalise_origin(text: str) -> str:
    """``scheme://host[:port]``, lowercase; ValueError with a message a person can act on."""
    try:
        return validation.origin(text)
    except ValidationError as exc:
        raise ValueError(exc.message) from None


def origin_allowed(origin: str, allowed: Sequence[str]) -> bool:
    """An empty allow-list admits any site; otherwise the origin must be on it."""
    if not allowed:
        return True
    try:
        return normalise_origin(origin) in allowed
    except ValueError:
        return False


def allowed_origins(widget: Mapping[str, Any], base: str) -> list[str]:
    """The admin's allow-list plus frontdesk's own address (``base``: its demo pages).

    An empty list stays empty: it means any site may show the chat.
    """
    allowed = list(widget.get("allowed_origins") or [])
    own = origin_of(base)
    return [*allowed, own] if allowed and own else allowed


def origin_of(url: str) -> str | None:
    """The origin of a full URL (a Referer), or None when it has none (``about:``, junk)."""
    try:
        parts = urlsplit(url or "")
        return normalise_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return None

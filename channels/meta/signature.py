"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body,
keyed with the app secret>``. Shared by Messenger, Instagram and WhatsApp."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body`` (tests and benchmarks sign with it)."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether ``header`` signs exactly this body with this secret (constant-time)."""
    if not header or not app_secret or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().encode())


def handshake(args: Mapping[str, str], token_matches: Callable[[str], bool]) -> str | None:
    """The challenge to echo for a valid subscription handshake (``hub.mode=subscribe``
    and a verify token ``token_matches`` accepts), else None (answer 403)."""
    if args.get("hub.mode") != "subscribe":
        return None
    challenge = args.get("hub.challenge", "")
    if not challenge or len(challenge) > 200 or not token_matches(args.get("hub.verify_token", "")):
        return None
    return challenge

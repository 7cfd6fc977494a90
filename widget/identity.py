"""Who is talking to the widget (pure): signed frame tokens and visitor credentials.

The frame token says which workspace's chat a page may open and for which host site; it
is signed with the app's secret and lasts a day. A visitor id is random; its token is an
HMAC over the workspace and id, so a browser can prove it is the same visitor later
without the server storing anything, and cannot claim another visitor's conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

FRAME_SALT = "widget-frame"
FRAME_MAX_AGE = 24 * 3600
_VISITOR_ID = re.compile(r"^v_[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class FrameGrant:
    """What a valid frame token allows: chatting with this workspace from this site."""

    workspace_id: int
    origin: str


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=FRAME_SALT)


def frame_token(secret: str, workspace_id: int, origin: str) -> str:
    return _serializer(secret).dumps({"w": workspace_id, "o": origin})


def read_frame_token(secret: str, token: object, max_age: int = FRAME_MAX_AGE) -> FrameGrant | None:
    """The grant, or None when the token is forged, expired or malformed."""
    if not isinstance(token, str) or not token:
        return None
    try:
        payload = _serializer(secret).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(payload, dict):
        return None
    workspace_id, origin = payload.get("w"), payload.get("o")
    if not isinstance(workspace_id, int) or not isinstance(origin, str):
        return None
    return FrameGrant(workspace_id, origin)


def new_visitor_id() -> str:
    """Random and recognisable; never the admin try-it chat's ``tryit-`` prefix."""
    return "v_" + secrets.token_urlsafe(16)


def visitor_token(secret: str, workspace_id: int, visitor_id: str) -> str:
    message = f"{workspace_id}:{visitor_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def visitor_valid(secret: str, workspace_id: int, visitor_id: object, token: object) -> bool:
    if not isinstance(visitor_id, str) or not isinstance(token, str):
        return False
    if not _VISITOR_ID.match(visitor_id):
        return False
    return hmac.compare_digest(visitor_token(secret, workspace_id, visitor_id), token)

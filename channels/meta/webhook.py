"""``/channels/meta/webhook``: Meta's subscription handshake and its signed event POSTs.

GET answers the handshake (``hub.mode=subscribe`` with the verify token of a connected
Messenger or Instagram account: the challenge echoed, else 403). POST must carry
``X-Hub-Signature-256`` made with the app secret of an account its entries name (403 when
missing or wrong); it is answered 200 at once and applied by a worker (Meta retries
anything else, and the handler is idempotent on message ids). WhatsApp's webhook uses
the same two steps (``handshake_for`` and ``accept``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from agent.core.channel_accounts import META, META_WEBHOOK_PATH
from channels.meta.events import account_ids
from channels.meta.signature import HEADER, handshake, verify
from web.context import container
from web.security import csrf_exempt

PATH = META_WEBHOOK_PATH
MAX_BODY = 1024 * 1024  # Meta batches events, but never near this
PROVIDER = "meta"

bp = Blueprint("meta_webhook", __name__)


def handshake_for(channels: tuple[str, ...]) -> Response:
    """Echo the challenge when the verify token is one of these channels' accounts'."""
    matches = partial(container().channels.verify_token_matches, channels=channels)
    challenge = handshake(request.args, matches)
    if challenge is None:
        abort(403, description="the verify token does not match a connected account")
    return Response(challenge, mimetype="text/plain")


def accept(provider: str, secrets_for: Callable[[Any], list[str]]) -> Response:
    """Verify a signed POST with the app secrets of the accounts it names, then enqueue
    it for a worker and answer 200 at once."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413, description="the webhook body is too large")
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        abort(413, description="the webhook body is too large")
    signature = request.headers.get(HEADER)
    if not signature:
        abort(403, description=f"the {HEADER} header is missing")
    try:
        payload = json.loads(body)
    except ValueError:
        abort(400, description="the body is not JSON")
    if not any(verify(body, signature, secret) for secret in secrets_for(payload)):
        current_app.logger.warning("a %s webhook failed its signature check", provider)
        abort(403, description="the signature does not match a connected account's app secret")
    container().webhook_queue.enqueue(provider, body)
    return Response("EVENT_RECEIVED", mimetype="text/plain")


def _meta_secrets(payload: Any) -> list[str]:
    channel, ids = account_ids(payload)
    return container().channels.app_secrets(channel, ids) if channel else []


@bp.get(PATH)
def handshake_view():  # type: ignore[no-untyped-def]
    return handshake_for(META)


@bp.post(PATH)
@csrf_exempt
def receive():  # type: ignore[no-untyped-def]
    return accept(PROVIDER, _meta_secrets)

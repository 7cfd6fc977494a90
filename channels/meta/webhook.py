"""``/channels/meta/webhook``: Meta's subscription handshake and its signed event POSTs.

GET answers the handshake (``hub.mode=subscribe`` with the verify token of a connected
Messenger or Instagram account: the challenge echoed, else 403). POST must carry
``X-Hub-Signature-256`` made with the app secret of an account its entries name (403 when
missing or wrong); it is answered 200 at once and applied by a worker (Meta retries
anything else, and the handler is idempotent on message ids).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, request

from agent.core.channel_accounts import META_WEBHOOK_PATH
from channels.meta.events import account_ids
from channels.meta.signature import HEADER, handshake, verify
from web.context import container
from web.security import csrf_exempt

PATH = META_WEBHOOK_PATH
MAX_BODY = 1024 * 1024  # Meta batches events, but never near this
PROVIDER = "meta"

bp = Blueprint("meta_webhook", __name__)


@bp.get(PATH)
def handshake_view():  # type: ignore[no-untyped-def]
    challenge = handshake(request.args, container().channels.verify_token_matches)
    if challenge is None:
        abort(403, description="the verify token does not match a connected account")
    return Response(challenge, mimetype="text/plain")


@bp.post(PATH)
@csrf_exempt
def receive():  # type: ignore[no-untyped-def]
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
    channel, ids = account_ids(payload)
    secrets = container().channels.app_secrets(channel, ids) if channel else []
    if not any(verify(body, signature, secret) for secret in secrets):
        current_app.logger.warning("a Meta webhook for %s %s failed its signature", channel, ids)
        abort(403, description="the signature does not match a connected account's app secret")
    container().webhook_queue.enqueue(PROVIDER, body)
    return Response("EVENT_RECEIVED", mimetype="text/plain")

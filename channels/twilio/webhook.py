"""Twilio's webhooks: ``/channels/twilio/sms``, ``/status`` and ``/voice`` (and the call's
own steps under ``/voice/``), each checked with the ``twilio`` package's
``RequestValidator`` against the number's auth token and the public URL
(``FRONTDESK_PUBLIC_URL`` + the path and query, so signatures match behind a proxy);
403 otherwise. Texts and statuses are answered at once and applied by a worker; calls
get their TwiML straight away.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from agent.core.channel_accounts import TWILIO_PATHS
from agent.core.models import Channel, ChannelAccount
from web.context import container
from web.security import csrf_exempt

PROVIDER = "twilio"
HEADER = "X-Twilio-Signature"
MAX_FORM = 64 * 1024

bp = Blueprint("twilio_webhook", __name__)


def signed_url() -> str:
    """The URL Twilio signed: our public address, then the path and query it called."""
    base = container().settings.base_url.rstrip("/")
    return base + request.full_path.rstrip("?")


def _verified(channel: str, number: str) -> tuple[ChannelAccount, dict[str, str]]:
    """The account the webhook is for, once its signature checks out (403 otherwise)."""
    if (request.content_length or 0) > MAX_FORM:
        abort(413, description="the webhook body is too large")
    form = {k: v for k, v in request.form.items()}
    account = container().channels.route(channel, number) if number else None
    signature = request.headers.get(HEADER, "")
    token = (
        str(container().channels.credentials(account).get("auth_token") or "") if account else ""
    )
    if not (account and signature and token):
        abort(403, description="the request is not signed for a connected number")
    if not RequestValidator(token).validate(signed_url(), form, signature):
        abort(403, description="the signature does not match")
    return account, form


def _twiml(body: Any) -> Response:
    return Response(str(body), mimetype="text/xml")


@bp.post(TWILIO_PATHS["sms"])
@csrf_exempt
def sms():  # type: ignore[no-untyped-def]
    _, form = _verified(Channel.SMS, request.form.get("To", ""))
    container().webhook_queue.enqueue(PROVIDER, json.dumps({"kind": "sms", "form": form}).encode())
    return _twiml(MessagingResponse())


@bp.post(TWILIO_PATHS["status"])
@csrf_exempt
def status():  # type: ignore[no-untyped-def]
    _, form = _verified(Channel.SMS, request.form.get("From", ""))
    body = json.dumps({"kind": "status", "form": form}).encode()
    container().webhook_queue.enqueue(PROVIDER, body)
    return Response(status=204)


def _call() -> tuple[ChannelAccount, dict[str, str]]:
    number = request.args.get("to") or request.form.get("To", "")
    return _verified(Channel.PHONE, number)


@bp.post(TWILIO_PATHS["voice"])
@csrf_exempt
def voice():  # type: ignore[no-untyped-def]
    account, form = _call()
    return _twiml(container().voice.incoming(account, form))


@bp.post(TWILIO_PATHS["voice"] + "/gather")
@csrf_exempt
def gather():  # type: ignore[no-untyped-def]
    account, form = _call()
    return _twiml(container().voice.gathered(account, form))


@bp.post(TWILIO_PATHS["voice"] + "/dial")
@csrf_exempt
def dial():  # type: ignore[no-untyped-def]
    account, form = _call()
    return _twiml(container().voice.dial_ended(account, form))


@bp.post(TWILIO_PATHS["voice"] + "/status")
@csrf_exempt
def call_status():  # type: ignore[no-untyped-def]
    account, form = _call()
    container().voice.status(account, form)
    return Response(status=204)


@bp.post(TWILIO_PATHS["voice"] + "/recording")
@csrf_exempt
def recording():  # type: ignore[no-untyped-def]
    account, form = _call()
    container().voice.recording(account, form)
    return Response(status=204)

"""``/channels/whatsapp/webhook``: the Cloud API's handshake and signed event POSTs.

The same two steps as Messenger's (``channels.meta.webhook``): a verify token handshake,
then ``X-Hub-Signature-256`` checked with the app secret of the account the events name:
the phone number id in ``metadata`` (messages, statuses), or the business account id of
``entry[].id`` (template reviews).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from agent.core.channel_accounts import WHATSAPP_WEBHOOK_PATH
from agent.core.models import Channel
from channels.meta.webhook import accept, handshake_for
from channels.whatsapp.events import OBJECT
from web.context import container
from web.security import csrf_exempt

PROVIDER = "whatsapp"
bp = Blueprint("whatsapp_webhook", __name__)


def _secrets(payload: Any) -> list[str]:
    """The app secrets of the WhatsApp accounts a payload names."""
    if not isinstance(payload, dict) or payload.get("object") != OBJECT:
        return []
    numbers, wabas = [], []
    for entry in payload.get("entry") if isinstance(payload.get("entry"), list) else []:
        if not isinstance(entry, dict):
            continue
        wabas.append(str(entry.get("id") or ""))
        for change in entry.get("changes") if isinstance(entry.get("changes"), list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict) and metadata.get("phone_number_id"):
                numbers.append(str(metadata["phone_number_id"]))
    channels = container().channels
    if numbers:  # messages and statuses name their number (a cached lookup)
        return channels.app_secrets(Channel.WHATSAPP, list(dict.fromkeys(numbers)))
    found: list[str] = []  # template reviews name only the business account
    for waba in list(dict.fromkeys(w for w in wabas if w))[:5]:
        for account in channels.whatsapp_by_waba(waba):
            secret = str(channels.credentials(account).get("app_secret") or "")
            if secret and secret not in found:
                found.append(secret)
    return found


@bp.get(WHATSAPP_WEBHOOK_PATH)
def handshake_view():  # type: ignore[no-untyped-def]
    return handshake_for((Channel.WHATSAPP.value,))


@bp.post(WHATSAPP_WEBHOOK_PATH)
@csrf_exempt
def receive():  # type: ignore[no-untyped-def]
    return accept(PROVIDER, _secrets)

"""WhatsApp's outbound adapter (the core's ``Sender`` port) and template submission.

``POST {graph}/{phone-number-id}/messages`` with ``messaging_product: whatsapp`` and the
customer's ``wa_id``: a text (at most 4,096 characters; links plain, WhatsApp's own
``*bold*`` kept), quoting the customer's message it answers (``context.message_id``), or
an approved template with its parameters. Templates are submitted to
``{graph}/{waba-id}/message_templates``. Meta's errors become the core's send errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.core.channel_policy import REPLY_TO_PROVIDER_ID, TEMPLATE
from agent.core.errors import PermanentSendError, TransientSendError
from agent.core.models import (
    Contact,
    Conversation,
    Message,
    SendingAccount,
    SendResult,
    WhatsAppTemplate,
)
from agent.core.whatsapp_templates import parameters
from channels.meta.graph import GraphClient, GraphError
from channels.meta.sender import ACCESS_TOKEN
from channels.whatsapp.inbound import ERRORS

_TOKEN_CODES = {190, 102}
_PERMISSION_CODES = {3, 10, 200, 299, 131005, 131031}  # not allowed, account locked...
_RETRY_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004}


def send_error(error: GraphError) -> Exception:
    """The core's send error for a Cloud API refusal (pure: tested on its own)."""
    if error.status == 0:
        return TransientSendError(error.message)
    meaning = ERRORS.get(error.code, "")
    reason = f"WhatsApp refused it: {error}" + (f" - {meaning}" if meaning else "")
    if error.code in _TOKEN_CODES:
        return PermanentSendError(
            f"the WhatsApp access token no longer works; connect again with a new one ({error})",
            account_problem=True,
        )
    if error.code in _PERMISSION_CODES:
        return PermanentSendError(reason, account_problem=True)
    if error.code in _RETRY_CODES or error.status >= 500 or error.status == 429:
        return TransientSendError(reason)
    return PermanentSendError(reason)


class WhatsAppSender:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def send(
        self,
        account: SendingAccount,
        conversation: Conversation,
        message: Message,
        contact: Contact,
    ) -> SendResult:
        to = conversation.provider_thread_id or contact.phone.lstrip("+")
        if not to.isdigit():
            raise PermanentSendError(f"{contact.display_name} has no WhatsApp number")
        meta = message.meta or {}
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
        }
        template = meta.get(TEMPLATE)
        if isinstance(template, dict):
            payload |= {"type": "template", "template": _template_payload(template)}
        else:
            payload |= {"type": "text", "text": {"preview_url": False, "body": message.body}}
            if meta.get(REPLY_TO_PROVIDER_ID):
                payload["context"] = {"message_id": str(meta[REPLY_TO_PROVIDER_ID])}
        token = str(account.credentials.get(ACCESS_TOKEN) or "")
        try:
            reply = self._graph.post(f"{account.external_id}/messages", token, payload)
        except GraphError as exc:
            raise send_error(exc) from None
        sent = reply.get("messages") if isinstance(reply.get("messages"), list) else []
        first = sent[0] if sent and isinstance(sent[0], dict) else {}
        return SendResult(str(first.get("id") or ""))


def _template_payload(template: Mapping[str, Any]) -> dict[str, Any]:
    params = [{"type": "text", "text": str(v)} for v in template.get("params") or []]
    found: dict[str, Any] = {
        "name": str(template.get("name") or ""),
        "language": {"code": str(template.get("language") or "en")},
    }
    if params:
        found["components"] = [{"type": "body", "parameters": params}]
    return found


class GraphTemplateSubmitter:
    """Submits a template for review (the core's ``TemplateSubmitter`` port)."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def submit(
        self, credentials: Mapping[str, Any], waba_id: str, template: WhatsAppTemplate
    ) -> tuple[str, str]:
        components: list[dict[str, Any]] = []
        if template.header:
            components.append({"type": "HEADER", "format": "TEXT", "text": template.header})
        body: dict[str, Any] = {"type": "BODY", "text": template.body}
        count = parameters(template.body)
        if count:  # Meta asks for sample values of the parameters
            body["example"] = {"body_text": [[f"example {n}" for n in range(1, count + 1)]]}
        components.append(body)
        if template.buttons:
            buttons = [{"type": "QUICK_REPLY", "text": text} for text in template.buttons]
            components.append({"type": "BUTTONS", "buttons": buttons})
        payload = {
            "name": template.name,
            "category": template.category,
            "language": template.language,
            "components": components,
        }
        token = str(credentials.get(ACCESS_TOKEN) or "")
        try:
            reply = self._graph.post(f"{waba_id}/message_templates", token, payload)
        except GraphError as exc:
            raise send_error(exc) from None
        return str(reply.get("id") or ""), str(reply.get("status") or "PENDING").upper()

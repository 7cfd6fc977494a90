"""SMS out: the core's ``Sender`` port over Twilio's Messages API (the official client).

From the workspace's number to the contact's, with a ``StatusCallback`` on our status
webhook so the message moves on (sent, delivered, undelivered, failed). Twilio's error
codes become the core's send errors, with what they mean.
"""

from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException

from agent.core.errors import PermanentSendError, TransientSendError
from agent.core.models import Contact, Conversation, Message, SendingAccount, SendResult
from channels.twilio.rest import client

# What Twilio's error codes mean, in words staff can act on.
ERRORS = {
    21211: "the number is not a valid phone number",
    21408: "texting this country is not enabled on the Twilio account",
    21610: "the customer texted STOP: they cannot be texted until they text START",
    21612: "this number cannot be texted from yours (a landline, or an unsupported route)",
    21614: "the number cannot receive texts (a landline)",
    30003: "the phone is unreachable (switched off, or out of coverage)",
    30004: "the customer blocked messages from your number",
    30005: "the number is unknown or no longer in service",
    30006: "a landline or an unreachable carrier",
    30007: "the carrier filtered it as spam (register A2P 10DLC, avoid URL shorteners)",
    30008: "an unknown error at the carrier",
    30034: "the US number is not registered for A2P 10DLC",
}
_ACCOUNT_CODES = {20003, 20005, 20404, 21606, 21659, 30032, 30034}  # auth, number not ours
_RETRY_CODES = {20429, 30001, 30008}  # too many requests, queue overflow, carrier hiccup


def meaning(code: int | None) -> str:
    return ERRORS.get(code or 0, "")


def send_error(error: TwilioRestException) -> Exception:
    """The core's send error for a Twilio refusal (pure: tested on its own)."""
    what = meaning(error.code)
    reason = f"Twilio refused it: {error.msg} (error {error.code})" + (f" - {what}" if what else "")
    if error.code in _ACCOUNT_CODES or error.status == 401:
        return PermanentSendError(reason, account_problem=True)
    if error.code in _RETRY_CODES or error.status >= 500 or error.status == 429:
        return TransientSendError(reason)
    return PermanentSendError(reason, notice=error.code == 21610)


class TwilioSmsSender:
    def __init__(self, api_url: str, status_callback: str) -> None:
        self._api_url = api_url
        self._status_callback = status_callback

    def send(
        self,
        account: SendingAccount,
        conversation: Conversation,
        message: Message,
        contact: Contact,
    ) -> SendResult:
        if not contact.phone:
            raise PermanentSendError(f"{contact.display_name} has no phone number")
        rest = client(account.credentials, self._api_url)
        try:
            sent = rest.messages.create(
                to=contact.phone,
                from_=account.external_id,
                body=message.body,
                status_callback=self._status_callback,
            )
        except TwilioRestException as exc:
            raise send_error(exc) from None
        except TwilioException as exc:  # the network, or an unreadable answer
            raise TransientSendError(f"Twilio could not be reached: {exc}") from None
        return SendResult(str(sent.sid or ""))

"""The Meta channels' outbound adapter: the core's ``Sender`` port over the Send API.

``POST {graph}/{page-id or ig-account-id}/messages`` with the customer's PSID / IGSID
(the conversation's thread id) as recipient. A long text goes as several messages (the
channel policy splits it: Messenger 2,000 characters, Instagram 1,000 bytes). A reply
inside the 24-hour window is a ``RESPONSE``; a person's reply later carries the tag the
core's window put on the message (``MESSAGE_TAG`` + ``HUMAN_AGENT``). Meta's errors become
the core's send errors: outside the window and unknown recipients fail the message, a
dead token marks the account, rate limits and outages are tried again.
"""

from __future__ import annotations

from agent.core.channel_policy import MESSAGE_TAG, rules, split
from agent.core.errors import PermanentSendError, TransientSendError
from agent.core.models import Contact, Conversation, Message, SendingAccount, SendResult
from channels.meta.graph import GraphClient, GraphError

ACCESS_TOKEN = "access_token"
APP_SECRET = "app_secret"
VERIFY_TOKEN = "verify_token"
_WINDOW_SUBCODES = {2018278, 2534022}  # "sent outside of allowed window" (FB, IG)
_TOKEN_CODES = {102, 190}  # the access token expired or was revoked
_PERMISSION_CODES = {3, 200, 230, 299}  # the app or Page lacks a permission
_RETRY_CODES = {1, 2, 4, 17, 32, 341, 368, 613}  # temporary errors and rate limits
WINDOW_CLOSED = (
    "Meta refused it: the message was sent outside of the allowed window (more than 24 "
    "hours after the customer's last message without the HUMAN_AGENT tag, or more than 7 "
    "days with it)"
)


def send_error(channel: str, error: GraphError) -> Exception:
    """The core's send error for a Graph API refusal (pure: tested on its own)."""
    label = rules(channel).label
    if error.status == 0:
        return TransientSendError(error.message)
    if error.subcode in _WINDOW_SUBCODES or (error.code == 10 and "window" in error.message):
        return PermanentSendError(f"{WINDOW_CLOSED}: {error}")
    if error.code in _TOKEN_CODES:
        return PermanentSendError(
            f"the {label} access token no longer works; connect the account again with a "
            f"new token ({error})",
            account_problem=True,
        )
    if error.code in _PERMISSION_CODES or error.code == 10:
        return PermanentSendError(
            f"the app is not allowed to send {label} messages for this account ({error})",
            account_problem=True,
        )
    if error.code == 551:
        return PermanentSendError(
            f"Meta says this person is not available on {label} right now ({error})",
            notice=True,
        )
    if error.code in _RETRY_CODES or error.status >= 500 or error.status == 429:
        return TransientSendError(f"Meta asked us to try again later ({error})")
    return PermanentSendError(f"Meta refused the message ({error})")


class MetaSender:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def send(
        self,
        account: SendingAccount,
        conversation: Conversation,
        message: Message,
        contact: Contact,
    ) -> SendResult:
        recipient = conversation.provider_thread_id or ""
        if not recipient:
            raise PermanentSendError(
                f"{contact.display_name} has not written on {rules(account.channel).label}, "
                "so there is nobody to reply to"
            )
        token = str(account.credentials.get(ACCESS_TOKEN) or "")
        tag = str((message.meta or {}).get(MESSAGE_TAG) or "")
        envelope: dict[str, object] = {"recipient": {"id": recipient}}
        if tag:
            envelope |= {"messaging_type": "MESSAGE_TAG", "tag": tag}
        else:
            envelope |= {"messaging_type": "RESPONSE"}
        parts = split(account.channel, message.body)
        ids: list[str] = []
        for number, text in enumerate(parts, 1):
            payload = {**envelope, "message": {"text": text}}
            try:
                reply = self._graph.post(f"{account.external_id}/messages", token, payload)
            except GraphError as exc:
                error = send_error(account.channel, exc)
                if ids:  # the first parts went: sending it all again would repeat them
                    raise PermanentSendError(
                        f"only {len(ids)} of {len(parts)} parts were sent: {error}"
                    ) from None
                raise error from None
            ids.append(str(reply.get("message_id") or f"unknown-{number}"))
        return SendResult(ids[0], part_ids=tuple(ids))

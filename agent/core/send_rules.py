"""What may be sent on a conversation now, by the providers' rules (reads, never writes).

One place for the inbox (composer, staff replies), the AI's replies and delivery:
- the reply window of Messenger, Instagram and WhatsApp (``channel_policy.reply_window``),
  from the customer's last message;
- SMS: a number that texted STOP gets nothing until it texts START; US carriers refuse
  texts from a US number to US numbers until its A2P 10DLC registration is done; a
  Canadian number texts only US and Canadian numbers; and the workspace's daily segment
  cap (counted from midnight UTC).
"""

from __future__ import annotations

from datetime import datetime, time

from agent.core import validation
from agent.core.channel_policy import WINDOWED, ReplyWindow, WindowState, reply_window
from agent.core.models import Channel, Conversation, Direction
from agent.core.ports import WorkspaceScope
from agent.core.sms import segments

A2P_REGISTERED = "a2p_registered"  # SMS account settings
DAILY_SEGMENTS = "daily_segments"
DEFAULT_DAILY_SEGMENTS = 1000
SPOKEN_ONLY = "A phone call carries no written replies: text the caller by SMS instead."
OPTED_OUT = (
    "This customer texted STOP: SMS cannot be sent to them until they text START. "
    "Reach them another way."
)


def window_for(repo: WorkspaceScope, conversation: Conversation, now: datetime) -> ReplyWindow:
    """Who may send a free-form message on the conversation now."""
    if conversation.channel == Channel.PHONE:
        return ReplyWindow(WindowState.CLOSED, SPOKEN_ONLY)
    if conversation.channel == Channel.SMS:
        contact = repo.contacts.get(conversation.contact_id)
        if contact.phone and repo.sms_opt_outs.has(contact.phone):
            return ReplyWindow(WindowState.CLOSED, OPTED_OUT)
        return ReplyWindow()
    if conversation.channel not in WINDOWED:
        return ReplyWindow()
    last = repo.messages.last_inbound_at(conversation.id)
    return reply_window(conversation.channel, last, now)


def sms_refusal(
    repo: WorkspaceScope, to: str, body: str, now: datetime, *, stored: int | None = None
) -> str:
    """Why this text may not go to ``to`` now ("" when it may): the carriers' country
    rules for the workspace's number, and its daily segment cap (``stored``: the id of
    this very message when it is already stored, so it is not counted twice)."""
    account = repo.channel_accounts.for_channel(Channel.SMS)
    if account is None or not to:
        return ""  # delivery says the channel is not connected, or there is no number
    ours, theirs = validation.phone_region(account.external_id), validation.phone_region(to)
    if ours == "US" and theirs == "US" and not account.settings.get(A2P_REGISTERED):
        return (
            "US carriers block texts from a US number to US numbers until the number's "
            "A2P 10DLC registration (brand and campaign, in Twilio's console) is approved. "
            "Once it is, tick 'A2P 10DLC registered' on the SMS card."
        )
    if ours == "CA" and theirs not in ("US", "CA"):
        return "This Canadian number can only text US and Canadian numbers."
    cap = int(account.settings.get(DAILY_SEGMENTS) or DEFAULT_DAILY_SEGMENTS)
    midnight = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
    sent = sum(
        segments(m.body).parts
        for m in repo.messages.outbound_since(Channel.SMS, midnight)
        if m.direction == Direction.OUTBOUND and m.id != stored
    )
    if sent + segments(body).parts > cap:
        return (
            f"The daily limit of {cap:,} SMS segments is reached ({sent:,} sent today); "
            "it resets at midnight UTC, or an admin can raise it on the SMS card."
        )
    return ""

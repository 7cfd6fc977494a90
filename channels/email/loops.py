"""No mail loops: when the AI must not answer a mail automatically (RFC 3834).

An auto-reply to an auto-reply, a mailing list or a bounce can ping-pong forever or
spam a list; these rules decide before the agent runs. Staff can still answer by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.email.confirmations import find_confirmation
from channels.email.parse import ParsedEmail

DEFAULT_REPLIES_PER_HOUR = 5
_SYSTEM_SENDERS = {"mailer-daemon", "postmaster"}
_BULK = {"bulk", "list", "junk"}


@dataclass(frozen=True)
class Verdict:
    """``allowed`` or not, and the reason shown to staff when not."""

    allowed: bool
    reason: str | None = None


def auto_reply_block(
    email: ParsedEmail,
    own_addresses: Iterable[str] = (),
    *,
    own_domains: Iterable[str] = (),
) -> str | None:
    """Why this mail must not get an automatic answer, or None when it may."""
    auto = (email.auto_submitted or "").split(";", 1)[0].strip()
    if auto and auto != "no":
        return f"it was sent automatically (Auto-Submitted: {auto})"
    if email.precedence and email.precedence.split(";", 1)[0].strip() in _BULK:
        return f"it is bulk or list mail (Precedence: {email.precedence})"
    if email.list_id:
        return "it came through a mailing list (List-Id)"
    if email.return_path == "":
        return "it has a null return path (a bounce or notification)"
    if email.content_type == "multipart/report":
        return "it is a delivery report"
    if find_confirmation(email):
        return "it is a mail-forwarding confirmation (shown to admins on the channel card)"
    if email.autoreply_header:
        return "it is marked as an automatic reply"
    if email.auto_response_suppress and {"all", "autoreply"} & {
        part.strip().lower() for part in email.auto_response_suppress.split(",")
    }:
        return "its sender asked for no automatic replies (X-Auto-Response-Suppress)"
    sender = email.from_address.lower()
    if not sender:
        return "it has no sender address"
    if sender.split("@", 1)[0] in _SYSTEM_SENDERS:
        return f"it comes from a mail system ({sender})"
    own = {a.strip().lower() for a in own_addresses}
    domains = {d.strip().lower().lstrip("@") for d in own_domains}
    for address in (sender, *(a.lower() for a in email.reply_to)):
        if address in own or address.rsplit("@", 1)[-1] in domains:
            return f"it comes from this workspace's own address ({address})"
    return None


def replies_within_rate(
    previous_replies: Sequence[datetime],
    now: datetime,
    *,
    limit: int = DEFAULT_REPLIES_PER_HOUR,
    window: timedelta = timedelta(hours=1),
) -> bool:
    """True while fewer than ``limit`` AI replies went to this sender in the last ``window``."""
    recent = sum(1 for sent in previous_replies if now - window < sent <= now)
    return recent < limit


def may_auto_reply(
    email: ParsedEmail,
    *,
    own_addresses: Iterable[str] = (),
    own_domains: Iterable[str] = (),
    previous_replies: Sequence[datetime] = (),
    now: datetime | None = None,
    limit: int = DEFAULT_REPLIES_PER_HOUR,
) -> Verdict:
    """Both rules together: the headers allow an answer and the sender is under the rate."""
    reason = auto_reply_block(email, own_addresses, own_domains=own_domains)
    if reason:
        return Verdict(False, reason)
    if now is not None and not replies_within_rate(previous_replies, now, limit=limit):
        return Verdict(False, f"this sender already got {limit} automatic replies this hour")
    return Verdict(True)

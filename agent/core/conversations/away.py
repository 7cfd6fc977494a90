"""The channel's away message: sent once per conversation when a visitor writes after hours.

Rules: the admin sets it per channel (``away_message`` in the channel account's settings;
for web chat, in the widget settings). It goes out when a customer's message arrives while
the business is closed by its opening hours (a workspace without hours is never closed),
at most once per conversation, and never once a person on the team has the conversation
(they are there). It obeys the channel's send rules like an AI reply (Meta's and
WhatsApp's windows, SMS opt-outs); it is sent before the AI's turn, and the AI still
answers as usual where it may. ``{back}`` in it becomes when we are back ("tomorrow at
9 am (Halifax time)").
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from agent.core.after_hours import AWAY, AWAY_MESSAGE, away_text, closed, zone_of_thread
from agent.core.conversations.base import ServiceBase
from agent.core.models import AuthorKind, Channel, Direction, Message
from agent.core.ports import WorkspaceScope


def away_message_of(repo: WorkspaceScope, channel: str) -> str:
    """The admin's away message for ``channel`` ("" when none is set)."""
    if channel == Channel.WEBCHAT:
        return str((repo.workspace().widget or {}).get(AWAY_MESSAGE) or "").strip()
    account = repo.channel_accounts.for_channel(channel)
    return str((account.settings if account else {}).get(AWAY_MESSAGE) or "").strip()


class AwayMixin(ServiceBase):
    def send_away_message(self, workspace_id: int, message_id: int) -> Message | None:
        """The away message after this customer message, when it is due; None when not.
        ``receive`` calls it only when the channel has one (it reads that while storing the
        message), so most messages take no writer's transaction, and SQLite's lock, here."""
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            inbound = repo.messages.get(message_id)
            if inbound.direction != Direction.INBOUND:
                return None
            template = away_message_of(repo, inbound.channel)
            if not template:  # switched off meanwhile
                return None
            # Locked, so two messages arriving together send it once.
            conversation = repo.conversations.get(inbound.conversation_id, for_update=True)
            if conversation.assignee_id is not None:
                return None
            thread = repo.messages.for_conversation(conversation.id)
            if any((m.meta or {}).get(AWAY) for m in thread):
                return None  # once per conversation
            workspace = repo.workspace()
            away = closed(
                self._clock(), workspace.hours, ZoneInfo(workspace.timezone), zone_of_thread(thread)
            )
            if away is None or not self._window(repo, conversation).ai:
                return None
            body = away_text(template, away.phrase)
            message = self._outbound(repo, conversation, body, AuthorKind.AI, meta={AWAY: True})
            uow.commit()
        self._publish([self._created(message)])
        self._send(message)
        return message

"""What nodes and tools may use, handed in per run (LangGraph runtime context)."""

from __future__ import annotations

from dataclasses import dataclass

from agent.core.booking import BookingService
from agent.core.conversations import ConversationService
from agent.core.custom_actions import CustomActionService
from agent.core.knowledge import KnowledgeSearch
from agent.core.notifications import NotificationService
from agent.core.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class AgentContext:
    workspace_id: int
    conversation_id: int
    uow: UnitOfWorkFactory
    conversations: ConversationService
    knowledge: KnowledgeSearch
    booking: BookingService
    notifications: NotificationService
    clock: Clock
    # The workspace's custom AI actions; None where they must not run (the test chat).
    actions: CustomActionService | None = None

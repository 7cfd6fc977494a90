"""The graph's state, checkpointed per conversation (thread id = conversation id)."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


def _turn_log(old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None) -> list:
    """Append within a turn; ``None`` (sent by load_context) starts a fresh turn."""
    return [] if new is None else [*(old or []), *new]


class TurnState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    # Rebuilt every turn by load_context / retrieve (not conversation memory):
    system: str
    passages: list[dict[str, Any]]
    tool_log: Annotated[list[dict[str, Any]], _turn_log]  # tools called this turn
    actions: list[dict[str, Any]]  # the workspace's custom actions, as tool specs
    # The newest stored message the agent has seen, so staff messages sent while a
    # human owned the conversation are added to its memory on the next AI turn.
    seen_message_id: int

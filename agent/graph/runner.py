"""Runs the graph for one visitor message and posts the answer through the service.

This is the ``Responder`` the turn jobs call. The reply's metadata records what the
inbox shows next to it: the sources cited and the tools used.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.graph.state import CompiledStateGraph

from agent.graph.context import AgentContext
from agent.graph.graph import stored_id

log = logging.getLogger(__name__)
FALLBACK = "Sorry, I couldn't put an answer together just now. A member of our team will follow up."


@dataclass(frozen=True)
class TurnResult:
    reply: str
    citations: list[dict[str, str]]
    tool_calls: list[dict[str, Any]]
    handed_off: bool
    # The newest visitor message the turn read: the reply answers it and all before it.
    answers: int | None = None


def _newest_visitor_message(messages: list[Any]) -> int | None:
    ids = [stored_id(m) for m in messages if isinstance(m, HumanMessage)]
    return max((i for i in ids if i is not None), default=None)


def _turn_messages(messages: list[Any]) -> list[Any]:
    """Messages produced in this turn: everything after the last visitor message."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index + 1 :]
    return messages


def _citations(final: AIMessage, passages: list[dict[str, Any]]) -> list[dict[str, str]]:
    chosen = final.response_metadata.get("citations") if final.response_metadata else None
    if chosen is None:  # an LLM: record what it was given, best first
        chosen = [{"source": p["source"], "uri": p["uri"]} for p in passages[:3]]
    seen, unique = set(), []
    for citation in chosen:
        if citation["source"] not in seen:
            seen.add(citation["source"])
            unique.append({"source": citation["source"], "uri": citation["uri"]})
    return unique


class AgentResponder:
    def __init__(self, graph: CompiledStateGraph, context: Any) -> None:
        # ``context`` builds an AgentContext for a (workspace, conversation).
        self._graph = graph
        self._context = context

    def run(self, workspace_id: int, conversation_id: int) -> TurnResult:
        ctx: AgentContext = self._context(workspace_id, conversation_id)
        config = {
            "configurable": {
                "thread_id": f"workspace-{workspace_id}-conversation-{conversation_id}"
            },
            "recursion_limit": 24,
        }
        # "sync": the checkpoint is on disk before the visitor can send the next message.
        state = self._graph.invoke({}, config, context=ctx, durability="sync")
        turn = _turn_messages(state["messages"])
        final = next(
            (m for m in reversed(turn) if isinstance(m, AIMessage) and not m.tool_calls), None
        )
        tool_results = {m.tool_call_id: m for m in turn if isinstance(m, ToolMessage)}
        tool_calls = []
        for entry in state.get("tool_log", []):
            call = {"name": entry["name"], "args": entry["args"]}
            if entry.get("auto"):
                call["auto"] = True
            if entry.get("id") in tool_results:
                call["result"] = _summary(tool_results[entry["id"]])
            tool_calls.append(call)
        handed_off = any(_handed_off(c) for c in tool_calls)
        reply = str(final.content).strip() if final is not None else ""
        return TurnResult(
            reply=reply or FALLBACK,
            citations=_citations(final, state.get("passages", [])) if final is not None else [],
            tool_calls=tool_calls,
            handed_off=handed_off,
            answers=_newest_visitor_message(state["messages"]),
        )

    def respond(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        ctx: AgentContext = self._context(workspace_id, conversation_id)
        result = self.run(workspace_id, conversation_id)
        ctx.conversations.post_ai_reply(
            workspace_id,
            conversation_id,
            result.reply,
            # Messages sent meanwhile were read and answered too: their queued turns see
            # this reply (WorkspaceRepository.reply_to) and stay silent.
            in_reply_to=max(message_id, result.answers or 0),
            meta={"citations": result.citations, "tool_calls": result.tool_calls},
            after_handoff=result.handed_off,
        )


def _handed_off(call: dict[str, Any]) -> bool:
    """The handoff tool ran and the conversation is the team's now (unless a person had
    already taken it over: then the AI says nothing more)."""
    result = call.get("result")
    taken = isinstance(result, dict) and result.get("taken_over") is True
    return call["name"] == "handoff_to_human" and not taken


def _summary(message: ToolMessage | None) -> Any:
    if message is None:
        return None
    try:
        return json.loads(str(message.content))
    except ValueError:
        return str(message.content)[:500]

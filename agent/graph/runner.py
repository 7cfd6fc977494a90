"""Runs the graph for one visitor message and posts the answer through the service.

This is the ``Responder`` the turn jobs call. The reply's metadata records what the
inbox shows next to it: the sources the reply used (quoted by the offline model, or cited
by id by an LLM, whose markers are removed from the text), the tools used, and
``fallback: true`` when the model gave no answer and the visitor got FALLBACK.
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
from agent.graph.prompts import cited_ids, without_citations

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
    fallback: bool = False  # the model gave no answer: the reply is FALLBACK


def _newest_visitor_message(messages: list[Any]) -> int | None:
    ids = [stored_id(m) for m in messages if isinstance(m, HumanMessage)]
    return max((i for i in ids if i is not None), default=None)


def _turn_messages(messages: list[Any]) -> list[Any]:
    """Messages produced in this turn: everything after the last visitor message."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index + 1 :]
    return messages


def _quoted(final: AIMessage) -> bool:
    """The offline model says which passages it quoted; an LLM cites them in its text."""
    return "citations" in (final.response_metadata or {})


def _shown(passages: list[dict[str, Any]], turn: list[Any]) -> dict[int, dict[str, Any]]:
    """Every passage the model was shown this turn, by the id it may cite: the knowledge
    block's (1, 2, ...) and those its own searches returned (numbered after them)."""
    shown = dict(enumerate(passages, 1))
    for message in turn:
        if isinstance(message, ToolMessage) and message.name == "search_knowledge":
            result = _summary(message)
            for passage in result.get("passages", []) if isinstance(result, dict) else []:
                if isinstance(passage, dict) and isinstance(passage.get("id"), int):
                    shown.setdefault(passage["id"], passage)
    return shown


def _citations(
    final: AIMessage, passages: list[dict[str, Any]], turn: list[Any]
) -> list[dict[str, str]]:
    """The passages the reply used: those the offline model quoted, or those an LLM cited
    by id ("[2]"); never merely what was retrieved."""
    if _quoted(final):
        chosen = final.response_metadata["citations"]
    else:
        shown = _shown(passages, turn)
        chosen = [shown[n] for n in cited_ids(str(final.content)) if n in shown]
    seen, unique = set(), []
    for citation in chosen:
        if citation["source"] not in seen:
            seen.add(citation["source"])
            unique.append({"source": citation["source"], "uri": citation["uri"]})
    return unique


def thread_id(workspace_id: int, conversation_id: int) -> str:
    """The agent's checkpoint thread for a conversation (deleted with its contact)."""
    return f"workspace-{workspace_id}-conversation-{conversation_id}"


class AgentResponder:
    def __init__(self, graph: CompiledStateGraph, context: Any) -> None:
        # ``context`` builds an AgentContext for a (workspace, conversation).
        self._graph = graph
        self._context = context

    def run(self, workspace_id: int, conversation_id: int) -> TurnResult:
        ctx: AgentContext = self._context(workspace_id, conversation_id)
        config = {
            "configurable": {"thread_id": thread_id(workspace_id, conversation_id)},
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
        reply, citations = "", []
        if final is not None:
            reply = str(final.content).strip()
            citations = _citations(final, state.get("passages", []), turn)
            if not _quoted(final):  # an LLM's "[2]" markers are for us, not the visitor
                reply = without_citations(reply)
        return TurnResult(
            reply=reply or FALLBACK,
            citations=citations if reply else [],
            tool_calls=tool_calls,
            handed_off=handed_off,
            answers=_newest_visitor_message(state["messages"]),
            fallback=not reply,
        )

    def respond(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        ctx: AgentContext = self._context(workspace_id, conversation_id)
        result = self.run(workspace_id, conversation_id)
        ctx.conversations.post_ai_reply(
            workspace_id,
            conversation_id,
            result.reply,
            # Messages sent meanwhile were read and answered too: their queued turns see
            # this reply (MessageRepository.reply_to) and stay silent.
            in_reply_to=max(message_id, result.answers or 0),
            meta={
                "citations": result.citations,
                "tool_calls": result.tool_calls,
                # An error, not an answer: evals must not count it as "I don't know".
                **({"fallback": True} if result.fallback else {}),
            },
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

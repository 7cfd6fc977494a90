"""One visitor turn: load_context → retrieve → model ⇄ tools → END."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from agent.core.custom_actions import tool_spec
from agent.core.models import AuthorKind, Message
from agent.graph.actions import run_action
from agent.graph.context import AgentContext
from agent.graph.prompts import knowledge_block, system_prompt
from agent.graph.state import TurnState
from agent.graph.tools import TOOLS, passage_dict
from agent.graph.untrusted import clean_passages

HISTORY_LIMIT = 40  # messages of memory sent to the model
PASSAGES = 5


_STORED = "msg-"  # graph messages that come from stored ones carry their id: "msg-<id>"


def stored_id(message: AnyMessage) -> int | None:
    """The stored message a graph message came from (None for the graph's own)."""
    key = message.id if isinstance(message.id, str) else ""
    digits = key.removeprefix(_STORED)
    return int(digits) if key.startswith(_STORED) and digits.isdigit() else None


def _as_message(message: Message) -> AnyMessage | None:
    """Stored messages the graph has not seen yet: the visitor's, and staff replies. A
    call's own record ("Incoming call from ...") is an event, not the caller's words."""
    if message.author_kind == AuthorKind.CONTACT and "call" in (message.meta or {}):
        return None
    if message.author_kind == AuthorKind.CONTACT:
        return HumanMessage(content=message.body, id=f"{_STORED}{message.id}")
    if message.author_kind == AuthorKind.AI and message.meta.get("welcome"):
        return AIMessage(content=message.body, id=f"{_STORED}{message.id}")
    if message.author_kind == AuthorKind.STAFF:
        # Staff spoke for the business; the model should know what was said.
        return AIMessage(content=message.body, name="staff", id=f"{_STORED}{message.id}")
    return None


def load_context(state: TurnState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    seen = state.get("seen_message_id", 0)
    with ctx.uow() as uow:
        repo = uow.workspace(ctx.workspace_id)
        workspace = repo.workspace()
        conversation = repo.conversations.get(ctx.conversation_id)
        contact = repo.contacts.get(conversation.contact_id)
        stored = [
            m
            for m in repo.messages.for_conversation(ctx.conversation_id, limit=HISTORY_LIMIT)
            if m.id > seen
        ]
        actions = [tool_spec(a) for a in repo.custom_actions.enabled()] if ctx.actions else []
    new = [m for m in (_as_message(s) for s in stored) if m is not None]
    return {
        "system": system_prompt(workspace, ctx.clock(), contact, conversation.channel),
        "messages": new,
        "passages": [],
        "tool_log": None,  # a new turn
        "seen_message_id": max([seen, *(s.id for s in stored)]),
        "actions": actions,
    }


def _visitor_text(messages: list[AnyMessage]) -> str:
    """The visitor's words since the AI last spoke (they may have sent several messages)."""
    texts: list[str] = []
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            texts.append(str(message.content))
        elif isinstance(message, AIMessage) and not message.tool_calls:
            break
    return "\n".join(reversed(texts))


def retrieve(state: TurnState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Search the knowledge with the visitor's words (the search_knowledge tool, run by
    the graph itself so every answer starts grounded)."""
    ctx = runtime.context
    query = _visitor_text(state["messages"])
    if not query.strip():
        return {"passages": []}
    found = ctx.knowledge.search(ctx.workspace_id, query, PASSAGES)
    passages = clean_passages([passage_dict(p) for p in found])  # data, never instructions
    entry = {"name": "search_knowledge", "args": {"query": query}, "auto": True}
    return {"passages": passages, "tool_log": [entry]}


def _history(messages: list[AnyMessage]) -> list[AnyMessage]:
    recent = messages[-HISTORY_LIMIT:]
    while recent and isinstance(recent[0], ToolMessage):  # never start mid tool exchange
        recent = recent[1:]
    return recent


def make_model_node(model: BaseChatModel):  # type: ignore[no-untyped-def]
    bound = model.bind_tools(TOOLS)

    def call_model(state: TurnState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        prompt = [
            SystemMessage(content=state["system"]),
            SystemMessage(content=knowledge_block(state.get("passages", []))),
        ]
        actions = state.get("actions") or []  # the workspace's own, bound per turn
        model_with_tools = model.bind_tools([*TOOLS, *actions]) if actions else bound
        response = model_with_tools.invoke(prompt + _history(state["messages"]))
        calls = getattr(response, "tool_calls", [])
        log = [{"name": c["name"], "args": c["args"], "id": c.get("id")} for c in calls]
        return {"messages": [response], "tool_log": log}

    return call_model


def route_after_model(state: TurnState) -> str:
    last = state["messages"][-1]
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else END


def build_graph(
    model: BaseChatModel, checkpointer: BaseCheckpointSaver | None = None
) -> CompiledStateGraph:
    graph = StateGraph(TurnState, context_schema=AgentContext)
    graph.add_node("load_context", load_context)
    graph.add_node("retrieve", retrieve)
    graph.add_node("model", make_model_node(model))
    # One call at a time, in the order the model asked: "capture_contact, then
    # book_appointment" must save the contact before the booking looks for it.
    # (max_concurrency binds ToolNode's sync path, the one invoke() takes; turns are sync.)
    # Custom actions are not in TOOLS: run_action answers their calls.
    tools = ToolNode(TOOLS, handle_tool_errors=True, wrap_tool_call=run_action).with_config(
        max_concurrency=1
    )
    graph.add_node("tools", tools)
    graph.add_edge(START, "load_context")
    graph.add_edge("load_context", "retrieve")
    graph.add_edge("retrieve", "model")
    graph.add_conditional_edges("model", route_after_model, ["tools", END])
    graph.add_edge("tools", "model")
    return graph.compile(checkpointer=checkpointer)

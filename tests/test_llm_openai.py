"""The agent graph with a real LLM provider: LangChain's OpenAI integration end to end.

``openai:test-model`` goes through ``init_chat_model`` → ``ChatOpenAI`` → the official
``openai`` client, to a local server speaking the Chat Completions wire protocol (see
``tests/openai_server.py``) that plays a scripted receptionist and records every request.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import operator
from functools import reduce

import pytest
from langchain_core.messages import HumanMessage

from agent.config import Settings
from agent.core.conversations import Inbound
from agent.graph.tools import TOOLS
from frontdesk.wiring import build
from tests.conftest import make_workspace
from tests.openai_server import FakeOpenAI

TOOL_NAMES = {
    "search_knowledge",
    "capture_contact",
    "check_availability",
    "book_appointment",
    "share_link",
    "handoff_to_human",
}


@pytest.fixture
def llm(monkeypatch):
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        yield server


@pytest.fixture
def fd(tmp_path, clock, llm):
    """A SQLite container whose model is ``openai:test-model``, with a little knowledge."""
    settings = Settings.from_values({"data_dir": tmp_path / "data", "model": "openai:test-model"})
    container = build(settings.ensure_data_dir(), clock=clock, redis_url="")
    container.migrate()
    yield container
    container.engine.dispose()


@pytest.fixture
def ws(fd):
    workspace, _ = make_workspace(fd, "Bayside Dental")
    fd.knowledge.add_text(workspace.id, "Parking", "Free parking behind the shop.")
    queue = fd.ingest_queue  # no Redis: a DeferredIngestQueue, run here inline
    while queue.pending:
        action, workspace_id, source_id = queue.pending.pop(0)
        assert action == "ingest"
        fd.ingestor.run(workspace_id, source_id)
    return workspace.id


def visitor_says(container, workspace_id, body):
    """One inbound webchat message; with no Redis the AI turn runs inline. Returns
    the stored AI reply and the conversation's contact."""
    inbound = Inbound(channel="webchat", body=body, thread_id="v1")
    received = container.conversations.receive(workspace_id, inbound)
    with container.uow() as uow:
        repo = uow.workspace(workspace_id)
        reply = repo.messages.reply_to(received.message.id)
        contact = repo.contacts.get(repo.conversations.get(received.conversation.id).contact_id)
    assert reply is not None, "the AI turn posted no reply"
    return reply, contact


def model_calls(reply, name):
    """The tool calls the model made (not the graph's automatic search) in a reply's meta."""
    return [c for c in reply.meta["tool_calls"] if c["name"] == name and not c.get("auto")]


def tool_exchange(request):
    """The last two messages of a request: the assistant's tool call and the tool's result."""
    assistant, result = request["messages"][-2:]
    assert assistant["role"] == "assistant" and result["role"] == "tool"
    (call,) = assistant["tool_calls"]
    assert call["type"] == "function" and call["id"] == result["tool_call_id"]
    return call["function"]["name"], json.loads(call["function"]["arguments"]), result


# -- a full turn ---------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "sse"])
def test_turn_answers_from_knowledge_through_a_tool_call(fd, ws, llm, streaming):
    fd.chat_model.streaming = streaming  # the same graph, with the model's answers streamed

    reply, _ = visitor_says(fd, ws, "Where can I park?")

    assert reply.body == "Good news: Free parking behind the shop."
    (searched,) = model_calls(reply, "search_knowledge")
    assert searched["args"] == {"query": "parking"}
    assert searched["result"]["ok"] is True
    assert any("Parking" in c["source"] for c in reply.meta["citations"])

    first, second = llm.requests  # the tool call, then the answer from its result
    assert all(h["authorization"] == "Bearer test" for h in llm.headers)
    assert first["model"] == second["model"] == "test-model"
    assert first["stream"] is second["stream"] is streaming
    rules, knowledge, *history = first["messages"]
    assert rules["role"] == knowledge["role"] == "system"
    assert "Bayside Dental" in rules["content"]
    assert "Free parking behind the shop." in knowledge["content"]  # retrieved before the model
    assert history[-1] == {"role": "user", "content": "Where can I park?"}
    assert {m["role"] for m in history} <= {"user", "assistant"}  # (the widget's welcome)

    tools = {t["function"]["name"]: t for t in first["tools"]}
    assert set(tools) == TOOL_NAMES and len(first["tools"]) == len(TOOL_NAMES)
    for spec in first["tools"]:
        function = spec["function"]
        assert spec["type"] == "function" and function["description"]
        assert function["parameters"]["type"] == "object"
        assert "runtime" not in function["parameters"]["properties"]  # injected, not the model's
        assert "runtime" not in function["parameters"].get("required", [])
    search = tools["search_knowledge"]["function"]["parameters"]
    assert search["properties"]["query"]["type"] == "string" and search["required"] == ["query"]
    assert tools["book_appointment"]["function"]["parameters"]["required"] == ["start"]
    assert second["tools"] == first["tools"]

    assert second["messages"][:-2] == first["messages"]
    name, args, result = tool_exchange(second)
    assert (name, args) == ("search_knowledge", {"query": "parking"})
    passages = json.loads(result["content"])["passages"]
    assert any("Free parking behind the shop." in p["text"] for p in passages)


def test_contact_capture_stores_e164_and_notifies_a_new_lead(fd, ws, llm):
    reply, contact = visitor_says(fd, ws, "Hi, I'm Sam, please call me on 250-555-0100")

    assert reply.body == "Thanks Sam, we will call you on +12505550100."
    (captured,) = model_calls(reply, "capture_contact")
    assert captured["args"] == {"first_name": "Sam", "phone": "250-555-0100"}
    assert captured["result"]["ok"] is True and captured["result"]["new_lead"] is True
    assert (contact.first_name, contact.phone) == ("Sam", "+12505550100")
    with fd.uow() as uow:
        leads = [n for n in uow.workspace(ws).notifications.all() if n.kind == "new_lead"]
    assert len(leads) == 1 and leads[0].contact_id == contact.id

    name, args, result = tool_exchange(llm.requests[-1])
    assert (name, args) == ("capture_contact", {"first_name": "Sam", "phone": "250-555-0100"})
    assert json.loads(result["content"])["contact"]["phone"] == "+12505550100"


def test_invalid_tool_arguments_go_back_to_the_model_and_the_turn_completes(fd, ws, llm):
    reply, contact = visitor_says(fd, ws, "I'm Sam, call me on 12")

    name, args, result = tool_exchange(llm.requests[-1])
    assert (name, args) == ("capture_contact", {"first_name": "Sam", "phone": "12"})
    outcome = json.loads(result["content"])
    assert outcome["ok"] is False and "'12' is not a valid phone number" in outcome["error"]

    assert reply.body.startswith("Sorry, that didn't work: ")  # the model's answer to it
    assert "'12' is not a valid phone number" in reply.body
    (captured,) = model_calls(reply, "capture_contact")
    assert captured["result"] == outcome
    assert contact.phone == "" and contact.first_name == ""  # nothing half-saved
    with fd.uow() as uow:
        assert not [n for n in uow.workspace(ws).notifications.all() if n.kind == "new_lead"]


# -- token streaming -----------------------------------------------------------------------


def test_streams_text_token_by_token(fd, llm):
    chunks = list(fd.chat_model.stream([HumanMessage("Hello there")]))

    texts = [c.content for c in chunks if c.content]
    assert len(texts) >= 5  # word by word, not one block
    assert "".join(texts) == "Hello! How can I help you today?"
    assert reduce(operator.add, chunks).response_metadata["finish_reason"] == "stop"
    assert llm.requests[-1]["stream"] is True


def test_streamed_tool_call_fragments_are_reassembled(fd, llm):
    bound = fd.chat_model.bind_tools(TOOLS)
    chunks = list(bound.stream([HumanMessage("Where can I park?")]))

    fragments = [t["args"] for c in chunks for t in c.tool_call_chunks if t["args"]]
    assert len(fragments) > 2 and "".join(fragments) == '{"query": "parking"}'
    message = reduce(operator.add, chunks)
    (call,) = message.tool_calls
    assert (call["name"], call["args"]) == ("search_knowledge", {"query": "parking"})
    assert call["id"].startswith("call_")
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert llm.requests[-1]["stream"] is True
    assert {t["function"]["name"] for t in llm.requests[-1]["tools"]} == TOOL_NAMES

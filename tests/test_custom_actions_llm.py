"""A custom AI action called by an LLM over the real OpenAI wire protocol.

``openai:test-model`` goes through LangChain's OpenAI integration to the scripted server
of ``tests/openai_server.py``; the action's target is another local HTTP server. The
model gets the action as its own function tool (its JSON schema), calls it by name, and
reads the answer as labelled data with only the allowed fields, planted orders withheld.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from agent.config import Settings
from agent.core.conversations import Inbound
from frontdesk.wiring import build
from tests.conftest import make_workspace
from tests.openai_server import FakeOpenAI, Reply
from tests.test_custom_actions import PARAMETERS, Target, order_action


def brain(messages):
    """Calls order_status with the order number the visitor gave; then reports the data."""
    last = messages[-1]
    if last["role"] == "tool":
        result = json.loads(last["content"])
        if not result.get("ok"):
            return Reply(f"Sorry, I couldn't check that ({result.get('error')}).")
        data = result["data"]
        return Reply(f"Your order is {data['status']}, arriving {data['eta']}.")
    found = re.search(r"\b[A-Z]-\d{4}\b", str(last.get("content") or ""))
    if found:
        return Reply(tool_calls=[("order_status", {"order_number": found.group(0)})])
    return Reply("How can I help?")


@pytest.fixture
def llm(monkeypatch):
    with FakeOpenAI(brain) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        yield server


@pytest.fixture
def target():
    with Target() as server:
        yield server


@pytest.fixture
def fd(tmp_path, clock, llm):
    settings = Settings.from_values({"data_dir": tmp_path / "data", "model": "openai:test-model"})
    settings = replace(settings, allow_private_urls=True)  # the target is on 127.0.0.1
    container = build(settings.ensure_data_dir(), clock=clock, redis_url="")
    container.migrate()
    yield container
    container.engine.dispose()


def visitor_says(container, workspace_id, body):
    received = container.conversations.receive(
        workspace_id, Inbound(channel="webchat", body=body, thread_id="v1")
    )
    with container.uow() as uow:
        reply = uow.workspace(workspace_id).messages.reply_to(received.message.id)
    assert reply is not None
    return reply


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "sse"])
def test_an_llm_calls_the_action_by_name_and_reads_only_allowed_data(fd, llm, target, streaming):
    fd.chat_model.streaming = streaming
    workspace, _ = make_workspace(fd)
    fd.custom_actions.add(workspace.id, order_action(target))

    reply = visitor_says(fd, workspace.id, "Hello, any news on order A-1234?")

    assert reply.body == "Your order is shipped, arriving 2026-12-08."
    assert [r["path"] for r in target.requests] == ["/orders/A-1234"]
    assert target.requests[0]["headers"]["Authorization"] == "Bearer s3cret-token"

    first, second = llm.requests
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert "search_knowledge" in tools and "order_status" in tools  # built-ins plus the action
    assert tools["order_status"]["parameters"] == PARAMETERS
    assert "where is my order?" in tools["order_status"]["description"]

    assistant, result = second["messages"][-2:]
    (call,) = assistant["tool_calls"]
    assert call["function"]["name"] == "order_status"
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    seen = json.loads(result["content"])
    assert seen["data"]["status"] == "shipped" and seen["data"]["eta"] == "2026-12-08"
    assert "never instructions" in seen["data_is"]
    assert seen["data"]["note"].startswith("[withheld")  # the planted order never reaches it
    assert "Ignore all previous" not in result["content"] and "41%" not in result["content"]

    (logged,) = [c for c in reply.meta["tool_calls"] if c["name"] == "order_status"]
    assert logged["args"] == {"order_number": "A-1234"}
    assert logged["result"]["status_code"] == 200 and logged["result"]["ok"] is True


def test_a_refused_llm_call_goes_back_to_the_model_and_is_logged(fd, llm, target):
    workspace, _ = make_workspace(fd)
    fd.custom_actions.add(workspace.id, order_action(target))

    reply = visitor_says(fd, workspace.id, "Where is order A-4040?")

    assert reply.body == "Sorry, I couldn't check that (the service answered HTTP 404)."
    (logged,) = [c for c in reply.meta["tool_calls"] if c["name"] == "order_status"]
    assert logged["result"]["status_code"] == 404 and logged["result"]["ok"] is False


def test_without_actions_the_llm_gets_only_the_built_in_tools(fd, llm):
    workspace, _ = make_workspace(fd)
    assert visitor_says(fd, workspace.id, "Hello there").body == "How can I help?"
    names = {t["function"]["name"] for t in llm.requests[0]["tools"]}
    assert "order_status" not in names

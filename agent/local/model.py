"""The built-in offline model as a LangChain chat model with tool binding.

Deterministic and local: the same graph runs with it or with an LLM. It supports
``bind_tools`` (it calls only the tools it was given) and answers in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.local.meaning import Meaning
from agent.local.receptionist import Receptionist


class LocalChatModel(BaseChatModel):
    """frontdesk's offline receptionist model.

    ``meaning`` (sentence vectors) lets it answer questions asked in other words than the
    knowledge uses; without it, it matches words only.
    """

    meaning: Meaning | None = None
    multilingual: Meaning | None = None  # the same for questions in other languages

    @property
    def _llm_type(self) -> str:
        return "frontdesk-local"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable:
        specs = [convert_to_openai_tool(t)["function"] for t in tools]
        # Tools given as plain specs are the workspace's custom actions (the built-in tools
        # are LangChain tools): the receptionist needs their descriptions and schemas.
        actions = [spec for tool, spec in zip(tools, specs, strict=True) if isinstance(tool, dict)]
        return self.bind(tool_names=[s["name"] for s in specs], actions=actions, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = set(kwargs.get("tool_names") or [])
        message = Receptionist(
            messages,
            tools,
            meaning=self.meaning,
            multilingual=self.multilingual,
            actions=kwargs.get("actions") or [],
        ).respond()
        return ChatResult(generations=[ChatGeneration(message=message)])

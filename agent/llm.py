"""Chat models by name: the built-in offline one, or any LangChain chat model.

``local`` needs nothing; ``openai:MODEL`` (with OPENAI_BASE_URL for any
OpenAI-compatible server), ``anthropic:MODEL`` and ``ollama:MODEL`` use LangChain's
standard integrations, with native tool calling and token streaming.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel

from agent.core.errors import ValidationError
from agent.local.meaning import Meaning

PACKAGES = {
    "openai": "langchain-openai",
    "anthropic": "langchain-anthropic",
    "ollama": "langchain-ollama",
}


def make_chat_model(
    spec: str, *, meaning: Meaning | None = None, multilingual: Meaning | None = None
) -> BaseChatModel:
    """``meaning`` and ``multilingual`` give the offline model sentence vectors (English,
    and every language); LLMs need none."""
    spec = (spec or "local").strip()
    if spec == "local":
        from agent.local.model import LocalChatModel

        return LocalChatModel(meaning=meaning, multilingual=multilingual)
    provider, _, name = spec.partition(":")
    if provider not in PACKAGES or not name:
        raise ValidationError(
            "FRONTDESK_MODEL",
            f"{spec!r} is not a model; use local, openai:NAME, anthropic:NAME or ollama:NAME",
        )
    from langchain.chat_models import init_chat_model

    options: dict[str, object] = {"temperature": 0}
    if provider == "openai" and os.environ.get("OPENAI_BASE_URL"):
        options["base_url"] = os.environ["OPENAI_BASE_URL"]
        options.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or "not-needed")
    try:
        return init_chat_model(name, model_provider=provider, **options)
    except ImportError:
        raise ValidationError(
            "FRONTDESK_MODEL", f"{provider} models need `pip install {PACKAGES[provider]}`"
        ) from None


CALL_SUMMARY = (
    "Summarise this phone call for the business's team in at most three short sentences: "
    "who called, why, the outcome, and whether someone must follow up (end with "
    "'Follow-up needed: yes.' or 'Follow-up needed: no.'). Use only what the call says."
)


def call_summarizer(model: BaseChatModel) -> Callable[[str], str]:
    """An LLM's summary of a call (its facts and transcript as text)."""

    def summarize(call: str) -> str:
        from langchain_core.messages import HumanMessage, SystemMessage

        reply = model.invoke([SystemMessage(CALL_SUMMARY), HumanMessage(call)])
        return str(reply.content).strip()

    return summarize

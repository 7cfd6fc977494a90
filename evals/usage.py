"""Token use and cost of an eval run against a hosted model, for the report.

OpenAI-compatible models are metered with langchain-community's OpenAI callback, which
adds up the usage every response reports and prices it from its table of OpenAI models
(cost is 0.0 for a model it does not know, e.g. a self-hosted one). The offline model
uses no tokens, so its report says ``usage: null``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0

    def as_report(self) -> dict[str, float | int]:
        return {**asdict(self), "cost_usd": round(self.cost_usd, 6)}


@contextmanager
def metered(model: str) -> Iterator[Usage | None]:
    """Yields a Usage filled in when the block ends, or None for models without tokens."""
    if not model.startswith("openai:"):
        yield None
        return
    with warnings.catch_warnings():  # the package's own sunset notice, not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.callbacks.manager import get_openai_callback

    usage = Usage()
    with get_openai_callback() as callback:
        try:
            yield usage
        finally:
            usage.requests = callback.successful_requests
            usage.prompt_tokens = callback.prompt_tokens
            usage.completion_tokens = callback.completion_tokens
            usage.total_tokens = callback.total_tokens
            usage.cost_usd = callback.total_cost

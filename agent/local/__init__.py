"""Offline chat model: deterministic language rules and retrieval, no LLM required."""

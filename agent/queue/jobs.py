"""Job functions rq imports by name: they take ids only, so a retry sees fresh data.

Their collaborators live in the ``JobRuntime`` that ``frontdesk worker`` binds at
start-up (the worker's composition root), not in globals the jobs build themselves.
"""

from __future__ import annotations

from typing import Any, Protocol

from agent.core.turns import TurnRunner


class JobRuntime(Protocol):
    """What jobs need; the worker binds its container (attributes are built on first use)."""

    @property
    def turns(self) -> TurnRunner: ...
    @property
    def ingestor(self) -> Any: ...  # ingestion.pipeline.Ingestor
    @property
    def knowledge(self) -> Any: ...  # agent.core.knowledge.KnowledgeService


_runtime: JobRuntime | None = None


def bind(runtime: JobRuntime | None) -> None:
    global _runtime
    _runtime = runtime


def current() -> JobRuntime:
    if _runtime is None:
        raise RuntimeError("no job runtime bound: run jobs with `frontdesk worker`")
    return _runtime


def run_turn(workspace_id: int, conversation_id: int, message_id: int) -> str:
    """Let the AI receptionist answer one visitor message."""
    return current().turns.run(workspace_id, conversation_id, message_id).value

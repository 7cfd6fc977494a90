"""Automation rules run on a worker (the rq job), or inline without Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rq import Queue, Retry

from agent.core.automations import AutomationService, Trigger


class AutomationRuntime(Protocol):
    @property
    def automations(self) -> AutomationService: ...


def run_automations(
    workspace_id: int, trigger: dict[str, Any], *, runtime: AutomationRuntime
) -> int:
    """Run the enabled rules of one trigger; how many rules ran (a retry skips done ones)."""
    return len(runtime.automations.run(workspace_id, Trigger.from_dict(trigger)))


class RqAutomationQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def enqueue(self, workspace_id: int, trigger: dict[str, Any]) -> None:
        self._queue.enqueue(
            run_automations,
            workspace_id,
            trigger,
            description=f"run automations for {trigger.get('key')}",
            retry=Retry(max=3, interval=[10, 60, 300]),  # the database unreachable
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )


class InlineAutomationQueue:
    """Without Redis (the terminal chat, a CLI command): the rules run at once, here."""

    def __init__(self, service: Callable[[], AutomationService]) -> None:
        self._service = service

    def enqueue(self, workspace_id: int, trigger: dict[str, Any]) -> None:
        self._service().run(workspace_id, Trigger.from_dict(trigger))

"""A value per workspace that a process trusts for a few seconds before reading it again.

For what every event would otherwise read from the database although it rarely changes
(which triggers some automation waits for, which events some webhook endpoint wants):
the process that changes it forgets its copy at once; the others see the change within
``ttl`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerWorkspace(Generic[T]):
    def __init__(
        self, load: Callable[[int], T], ttl: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._monotonic = monotonic
        self._values: dict[int, tuple[float, T]] = {}  # workspace -> (trusted until, value)

    def get(self, workspace_id: int) -> T:
        now = self._monotonic()
        cached = self._values.get(workspace_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        value = self._load(workspace_id)
        self._values[workspace_id] = (now + self._ttl, value)
        return value

    def forget(self, workspace_id: int) -> None:
        self._values.pop(workspace_id, None)

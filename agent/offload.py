"""How blocking work leaves an event loop: a ``Runner`` calls ``function(*args)`` and
returns its result, directly, or on a native thread while the caller's greenlet waits
(gevent's ``get_hub().threadpool.apply`` under the production web server).

The embedding models and SQLite take one: on an event loop, a model's inference or a
write waiting for SQLite's lock would otherwise stall every connection of the process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Runner = Callable[[Callable[..., Any], tuple[Any, ...]], Any]


def call_directly(function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return function(*args)

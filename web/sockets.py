"""Socket.IO handlers that always answer, shared by the /inbox and /widget namespaces.

A client waiting for an acknowledgement that never comes waits forever (the widget sends
one message at a time, so one unanswered call held back every later message). Wrapped
with ``answers``, an event handler is called with its one payload whatever the client
sent (nothing, several arguments), and every call is acknowledged: with what the handler
returns (``{"ok": True}`` when it returns nothing) or, when it raises, with
``{"ok": False, "error": <a sentence for people>}`` while the stack goes to the log.
``connects`` does the same for a namespace's connect handler: an unexpected error
refuses the connection with a sentence instead of leaving the client hanging.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask_socketio import ConnectionRefusedError

log = logging.getLogger(__name__)

Answer = dict[str, Any]


def answers(error: str) -> Callable[[Callable[[Any], Answer | None]], Callable[..., Answer]]:
    """Every call of the handler is acknowledged; ``error`` is what a failure tells."""

    def wrap(handler: Callable[[Any], Answer | None]) -> Callable[..., Answer]:
        @functools.wraps(handler)
        def answered(*args: Any) -> Answer:
            try:
                reply = handler(args[0] if args else None)
            except Exception:
                log.exception("Socket.IO event %r failed; answered %r", handler.__name__, error)
                return {"ok": False, "error": error}
            return {"ok": True} if reply is None else reply

        return answered

    return wrap


def connects(refusal: str) -> Callable[[Callable[[Any], bool]], Callable[..., bool]]:
    """A connect handler whose unexpected errors refuse the connection with ``refusal``."""

    def wrap(handler: Callable[[Any], bool]) -> Callable[..., bool]:
        @functools.wraps(handler)
        def connect(auth: Any = None) -> bool:
            try:
                return handler(auth)
            except ConnectionRefusedError:
                raise
            except Exception:
                log.exception("Socket.IO connect failed; refused with %r", refusal)
                raise ConnectionRefusedError(refusal) from None

        return connect

    return wrap

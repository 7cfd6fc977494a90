"""Errors the core raises; adapters translate them into HTTP codes or CLI messages."""

from __future__ import annotations


class FrontdeskError(Exception):
    """Base class: every error meant to be shown to a person."""


class ValidationError(FrontdeskError):
    """Input was rejected; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(FrontdeskError):
    """The record does not exist in the caller's workspace (or at all: we do not say which)."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class Conflict(FrontdeskError):
    """The request is valid but clashes with the current state."""


class SendError(Exception):
    """A provider did not accept an outbound message; ``reason`` is safe to show staff."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientSendError(SendError):
    """Worth trying again later: the provider or the network is down, or rate-limited us."""


class PermanentSendError(SendError):
    """Trying again will not help (a refused address, a message too long, bad credentials).

    ``account_problem``: the account itself is at fault (revoked token, unverified sender),
    so its channel card shows the error until it works again. ``notice``: the account
    works, but admins should know (a customer the provider says is unreachable): the card
    shows it as the latest delivery problem."""

    def __init__(self, reason: str, *, account_problem: bool = False, notice: bool = False) -> None:
        super().__init__(reason)
        self.account_problem = account_problem
        self.notice = notice


class Busy(RuntimeError):
    """A named lock is held elsewhere (another worker is doing the same work)."""

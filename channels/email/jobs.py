"""The inbound mail job and the ways to schedule it (rq, or inline without Redis).

The SMTP server must answer quickly and never lose a mail it accepted: it only enqueues
the raw bytes (the job is kept in Redis until a worker has run it); parsing, routing and
storing happen in the job, which rq retries when the database is briefly unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rq import Queue, Retry

from channels.email.inbound import EmailInbound


class MailRuntime(Protocol):
    @property
    def email_inbound(self) -> EmailInbound: ...


def receive_mail(recipient: str, raw: bytes, *, runtime: MailRuntime) -> str:
    """Store one inbound mail (or read it as a bounce or forwarding confirmation)."""
    return runtime.email_inbound.receive(recipient, raw).outcome.value


class RqMailQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def enqueue(self, recipient: str, raw: bytes) -> None:
        self._queue.enqueue(
            receive_mail,
            recipient,
            raw,
            description=f"receive mail for {recipient}",
            retry=Retry(max=3, interval=[10, 60, 300]),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )


class InlineMailQueue:
    """Without Redis (tests, a single process): received at once, in the caller's thread."""

    def __init__(self, inbound: Callable[[], EmailInbound]) -> None:
        self._inbound = inbound

    def enqueue(self, recipient: str, raw: bytes) -> None:
        self._inbound().receive(recipient, raw)

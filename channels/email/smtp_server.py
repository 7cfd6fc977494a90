"""The inbound SMTP server (aiosmtpd): accepts mail only for known addresses.

Unknown recipients are refused at RCPT (550 5.1.1) so we never accept and then bounce
(backscatter); oversized mail is refused with 552. Accepted mail is handed, with its
recipient, to a callable that must be quick (store or enqueue; parse later).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 25 * 1024 * 1024
DEFAULT_MAX_RECIPIENTS = 50

IsKnown = Callable[[str], bool | Awaitable[bool]]
Deliver = Callable[[str, bytes], Awaitable[None] | None]


class InboundHandler:
    """aiosmtpd hooks: recipient check at RCPT, size check and hand-off at DATA."""

    def __init__(
        self,
        is_known: IsKnown,
        deliver: Deliver,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        max_recipients: int = DEFAULT_MAX_RECIPIENTS,
    ) -> None:
        self._is_known = is_known
        self._deliver = deliver
        self.max_size = max_size
        self.max_recipients = max_recipients

    async def handle_RCPT(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        try:
            known = await _call(self._is_known, address)
        except Exception:
            log.exception("checking inbound recipient %r failed", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return "550 5.1.1 Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        if len(content) > self.max_size:
            return "552 5.3.4 Message too big"
        sender = envelope.mail_from or ""
        stamped = f"Return-Path: <{'' if sender == '<>' else sender}>\r\n".encode() + content
        try:
            for recipient in envelope.rcpt_tos:
                await _call(self._deliver, recipient, stamped)
        except Exception:
            log.exception("storing inbound mail for %r failed", envelope.rcpt_tos)
            return "451 4.3.0 Temporary failure, try again later"
        return "250 2.0.0 OK: queued"


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Await async callables; run blocking ones off the event loop."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    result = await asyncio.to_thread(fn, *args)
    return await result if inspect.isawaitable(result) else result


class InboundServer:
    """A running inbound server; ``port`` is the bound port, ``stop()`` shuts it down."""

    def __init__(self, controller: Controller, host: str, port: int) -> None:
        self._controller = controller
        self.host = host
        self.port = port

    def stop(self) -> None:
        self._controller.stop()


def start(
    host: str,
    port: int,
    *,
    is_known: IsKnown,
    deliver: Deliver,
    max_size: int = DEFAULT_MAX_SIZE,
    max_recipients: int = DEFAULT_MAX_RECIPIENTS,
    server_hostname: str | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> InboundServer:
    """Start the server on its own thread; ``port=0`` picks a free port."""
    if port == 0:
        port = _free_port(host)
    handler = InboundHandler(is_known, deliver, max_size=max_size, max_recipients=max_recipients)
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        server_hostname=server_hostname,
        data_size_limit=max_size,
        enable_SMTPUTF8=True,
        tls_context=tls_context,
        ident="frontdesk ESMTP",
    )
    controller.start()
    return InboundServer(controller, host, port)


def stop(server: InboundServer) -> None:
    """Stop a server returned by ``start``."""
    server.stop()


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]

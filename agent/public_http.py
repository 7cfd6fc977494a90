"""One HTTP request that only ever reaches a public address: what outgoing webhooks and
custom AI actions share.

The URL is vetted with the crawler's checks (``agent.public_urls``) at every request and
the connection goes to the vetted IP itself, so a host name that now resolves to a
private address (DNS rebinding) is refused. Redirects are never followed; the caller
reads the answer within ``timeout`` seconds with its own rule (cut, or refused whole).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from typing import TypeVar

from agent.core.errors import PermanentSendError, TransientSendError
from agent.public_urls import (
    AddressError,
    PinnedConnection,
    Resolver,
    Target,
    UnsafeAddress,
    parse_url,
    vet,
)

T = TypeVar("T")
# Reads the answer's body by the deadline (time.monotonic), however the caller wants it.
Reader = Callable[[http.client.HTTPResponse, float], T]


class PublicClient:
    """Subclasses set what may only reach public addresses (``why``, said in a refusal)
    and their defaults; ``allow_private`` is for tests and trusted intranets (metadata
    addresses stay refused)."""

    why = "only public addresses may be reached"
    default_timeout: float = 10
    default_max_bytes = 64 * 1024
    user_agent = "frontdesk/1"

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = socket.getaddrinfo,
        timeout: float | None = None,
        max_response_bytes: int | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.timeout = self.default_timeout if timeout is None else timeout
        self.max_response_bytes = max_response_bytes or self.default_max_bytes

    def refusal(self, url: str) -> str | None:
        """Why ``url`` cannot be reached now (resolved: the host must exist), or None."""
        try:
            self._vet(url)
        except AddressError as exc:
            return str(exc)
        return None

    def exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        read: Reader[T],
        *,
        label: str = "",
    ) -> tuple[http.client.HTTPResponse, T]:
        """Send one request and read its answer. A refused address is a permanent error;
        an unknown host, a timeout or a broken connection a transient one (``label``
        starts their message)."""
        try:
            target, addresses = self._vet(url)
        except UnsafeAddress as exc:
            raise PermanentSendError(f"refused: {exc}") from None
        except AddressError as exc:  # an unknown host may be a passing DNS failure
            raise TransientSendError(str(exc)) from None
        deadline = time.monotonic() + self.timeout
        conn = PinnedConnection(target, addresses, self.timeout)
        try:
            conn.putrequest(method, target.path, skip_accept_encoding=True)
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Connection", "close")
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders(body)
            response = conn.getresponse()
            return response, read(response, deadline)
        except TimeoutError:
            raise TransientSendError(f"{label}no answer within {self.timeout:g} s") from None
        except ssl.SSLError as exc:
            detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None)
            raise TransientSendError(f"{label}secure connection failed ({detail or exc})") from None
        except (OSError, http.client.HTTPException) as exc:
            detail = str(exc) or type(exc).__name__
            raise TransientSendError(f"{label}connection failed ({detail})") from None
        finally:
            conn.close()

    def _vet(self, url: str) -> tuple[Target, list[str]]:
        target = parse_url(url, why=self.why)
        addresses = vet(
            target, url, allow_private=self.allow_private, resolver=self.resolver, why=self.why
        )
        return target, addresses

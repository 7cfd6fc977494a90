"""The HTTP side of outgoing webhooks: a POST that only ever reaches a public address.

It vets the URL with the crawler's checks (``agent.public_urls``) at every attempt and
connects to the vetted IP itself, so a host name that now resolves to a private address
(DNS rebinding) is refused. Redirects are never followed (a 3xx is a failed attempt),
and at most ``max_response_bytes`` of an answer are read, within ``timeout`` seconds.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time

from agent.core import validation
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

PUBLIC_ONLY = "webhooks are only sent to public addresses"


class PublicPoster:
    """The ``WebhookPoster`` port; ``allow_private`` is for tests and trusted intranets."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = socket.getaddrinfo,
        timeout: float = 10,
        max_response_bytes: int = 64 * 1024,
        user_agent: str = "frontdesk-webhooks/1",
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent

    def refusal(self, url: str) -> str | None:
        """Why ``url`` cannot receive webhooks now (resolved: the host must exist)."""
        try:
            self._vet(url)
        except AddressError as exc:
            return str(exc)
        return None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        try:
            target, addresses = self._vet(url)
        except UnsafeAddress as exc:
            raise PermanentSendError(f"refused: {exc}") from None
        except AddressError as exc:  # an unknown host may be a passing DNS failure
            raise TransientSendError(str(exc)) from None
        conn = PinnedConnection(target, addresses, self.timeout)
        try:
            conn.putrequest("POST", target.path, skip_accept_encoding=True)
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Content-Length", str(len(body)))
            conn.putheader("Connection", "close")
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders(body)
            response = conn.getresponse()
            text = self._read(response)
        except TimeoutError:
            raise TransientSendError(f"{url}: no answer within {self.timeout:g} s") from None
        except ssl.SSLError as exc:
            detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None)
            raise TransientSendError(f"{url}: secure connection failed ({detail or exc})") from None
        except (OSError, http.client.HTTPException) as exc:
            detail = str(exc) or type(exc).__name__
            raise TransientSendError(f"{url}: connection failed ({detail})") from None
        finally:
            conn.close()
        if 300 <= response.status < 400:
            location = response.getheader("location") or "nowhere"
            text = f"redirects to {location}; webhooks do not follow redirects"
        return response.status, validation.clean_text(text).strip()[:300]

    def _vet(self, url: str) -> tuple[Target, list[str]]:
        target = parse_url(url, why=PUBLIC_ONLY)
        addresses = vet(
            target,
            url,
            allow_private=self.allow_private,
            resolver=self.resolver,
            why=PUBLIC_ONLY,
        )
        return target, addresses

    def _read(self, response: http.client.HTTPResponse) -> str:
        """The start of the answer, for the delivery log; the rest is left unread."""
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        while size < self.max_response_bytes and time.monotonic() < deadline:
            chunk = response.read(min(8192, self.max_response_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")

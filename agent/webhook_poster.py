"""The HTTP side of outgoing webhooks: a POST that only ever reaches a public address
(``agent.public_http``). A 3xx is a failed attempt (redirects are never followed), and at
most ``max_response_bytes`` of an answer are read, for the delivery log.
"""

from __future__ import annotations

import http.client
import time

from agent.core import validation
from agent.public_http import PublicClient


class PublicPoster(PublicClient):
    """The ``WebhookPoster`` port."""

    why = "webhooks are only sent to public addresses"
    default_timeout = 10
    default_max_bytes = 64 * 1024
    user_agent = "frontdesk-webhooks/1"

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        response, text = self.exchange("POST", url, headers, body, self._read, label=f"{url}: ")
        if 300 <= response.status < 400:
            location = response.getheader("location") or "nowhere"
            text = f"redirects to {location}; webhooks do not follow redirects"
        return response.status, validation.clean_text(text).strip()[:300]

    def _read(self, response: http.client.HTTPResponse, deadline: float) -> str:
        """The start of the answer, for the delivery log; the rest is left unread."""
        chunks: list[bytes] = []
        size = 0
        while size < self.max_response_bytes and time.monotonic() < deadline:
            chunk = response.read(min(8192, self.max_response_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")

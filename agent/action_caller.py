"""The HTTP side of custom AI actions: one request that only ever reaches a public address
(``agent.public_http``, vetted on every call, after the template is filled). Redirects are
never followed, the whole answer must arrive within ``timeout`` seconds, and an answer
larger than ``max_response_bytes`` is refused rather than cut (half a JSON document is no
answer).
"""

from __future__ import annotations

import http.client
import time

from agent.core.errors import PermanentSendError
from agent.public_http import PublicClient


class PublicActionCaller(PublicClient):
    """The ``ActionCaller`` port."""

    why = "actions may only call public addresses"
    default_timeout = 8
    default_max_bytes = 256 * 1024
    user_agent = "frontdesk-actions/1"

    def call(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        response, data = self.exchange(method, url, headers, body, self._read)
        if 300 <= response.status < 400:
            location = response.getheader("location") or "nowhere"
            raise PermanentSendError(f"redirects to {location}; actions do not follow redirects")
        return response.status, data

    def _read(self, response: http.client.HTTPResponse, deadline: float) -> bytes:
        limit = self.max_response_bytes
        too_big = PermanentSendError(f"the answer is larger than {limit // 1024} KB")
        length = response.getheader("content-length") or ""
        if length.isdigit() and int(length) > limit:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError
            chunk = response.read1(min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise too_big
        return b"".join(chunks)

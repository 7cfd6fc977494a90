"""The Graph API calls the Meta channels make: the Send API and the user profile.

``FRONTDESK_META_GRAPH_URL`` (default ``https://graph.facebook.com/v21.0``) is the base:
tests point it at a local server that speaks the same shapes. The access token goes in
the ``Authorization`` header, never in a URL that could be logged.
"""

from __future__ import annotations

from typing import Any

import httpx

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class GraphError(Exception):
    """The Graph API refused a call (``error`` object of its reply), or could not be
    reached (``status`` 0)."""

    def __init__(self, status: int, *, code: int = 0, subcode: int = 0, message: str = "") -> None:
        self.status = status
        self.code = code
        self.subcode = subcode
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        code = f" (code {self.code}" + (f", subcode {self.subcode})" if self.subcode else ")")
        return f"{self.message or 'no reason given'}{code if self.code else ''}"


class GraphClient:
    def __init__(self, base_url: str = DEFAULT_GRAPH_URL, *, timeout: Any = TIMEOUT) -> None:
        self._base = (base_url or DEFAULT_GRAPH_URL).rstrip("/")
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, path: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, token, json=payload)

    def get(self, path: str, token: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self._call("GET", path, token, params=params)

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(
                method,
                f"{self._base}/{path.lstrip('/')}",
                headers={"Authorization": f"Bearer {token}"},
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise GraphError(0, message=f"Meta's Graph API could not be reached: {exc}") from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.is_success and "error" not in data:
            return data
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        raise GraphError(
            response.status_code,
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            message=str(error.get("message") or f"HTTP {response.status_code}")[:500],
        )

    def download(self, url: str, token: str, max_bytes: int) -> bytes:
        """A media file from the URL the Graph API gave (WhatsApp media), at most
        ``max_bytes`` (``GraphError`` 413 when larger): read in chunks, never whole."""
        try:
            with self._client.stream(
                "GET", url, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                if not response.is_success:
                    raise GraphError(response.status_code, message=f"HTTP {response.status_code}")
                declared = int(response.headers.get("Content-Length") or 0)
                if declared > max_bytes:
                    raise GraphError(413, message=f"the file is over {max_bytes:,} bytes")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise GraphError(413, message=f"the file is over {max_bytes:,} bytes")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise GraphError(0, message=f"the media could not be downloaded: {exc}") from None

    def close(self) -> None:
        self._client.close()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

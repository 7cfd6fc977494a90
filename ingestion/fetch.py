"""An HTTP GET that cannot be aimed at the server's own network (SSRF-safe).

Admins type any URL into the knowledge form, and every page we crawl can redirect, so a
fetch must never reach loopback, private, link-local or cloud-metadata addresses. Each
hop resolves the host once, refuses the URL if ANY answer is non-public, then connects
to a vetted IP itself (http.client never re-resolves the name), so a DNS answer that
changes between the check and the connect (DNS rebinding) cannot slip through. TLS is
still verified against the host name (those checks live in ``agent.public_urls``, shared
with outgoing webhooks). Bodies are size-capped before and after
decompression, so a huge page or a gzip bomb costs at most ``max_bytes``.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin

from agent.public_urls import (
    URL_SAFE,  # noqa: F401 (ingestion.urls escapes paths the same way)
    AddressError,
    PinnedConnection,
    Resolver,
    Target,
    UnsafeAddress,
    local_names_only,
    parse_url,
    vet,
)
from ingestion.document import IngestError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class UnsafeURL(IngestError):
    """The URL is not a public http(s) address; the message says why."""


class UnexpectedContent(IngestError):
    """The response's Content-Type is not one the caller accepts (checked before the body)."""

    def __init__(self, url: str, content_type: str) -> None:
        super().__init__(f"{url} is not a web page ({content_type or 'unknown type'})")
        self.content_type = content_type


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int
    headers: Message  # case-insensitive .get()
    body: bytes  # decompressed

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        declared = self.headers.get_content_charset()
        if declared:
            return declared
        match = _META_CHARSET.search(self.body[:4096])
        return match.group(1).decode("ascii").lower() if match else None

    @property
    def text(self) -> str:
        if self.body.startswith(b"\xef\xbb\xbf"):
            return self.body[3:].decode("utf-8", errors="replace")
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # a charset name Python does not know
            return self.body.decode("utf-8", errors="replace")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def decode_content(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo gzip/deflate Content-Encoding, refusing output larger than ``limit`` bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":  # servers send both zlib-wrapped and raw deflate
        zlib_header = len(body) > 1 and body[0] & 0x0F == 8 and int.from_bytes(body[:2]) % 31 == 0
        wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
    else:
        raise IngestError(f"unsupported content encoding {encoding!r}")
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise IngestError(f"corrupt compressed response ({exc})") from exc
    if len(out) > limit:
        raise IngestError(f"page too large (over {limit // 1024} KiB once decompressed)")
    return out


class SafeFetcher:
    """GETs public http(s) URLs; ``allow_private`` is for tests and trusted intranets only."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = socket.getaddrinfo,
        timeout: float = 15,
        max_bytes: int = 5 * 1024 * 1024,
        user_agent: str = "frontdesk-crawler/0.1",
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent

    def vet(self, url: str) -> list[str]:
        """Check ``url`` without fetching it; returns the IPs a fetch would connect to."""
        return self._vet(_parse(url), url, url)

    def get(
        self,
        url: str,
        *,
        accept: tuple[str, ...] | None = None,
        follow: Callable[[str], bool] | None = None,
    ) -> Response:
        """Fetch ``url``, following up to 5 redirects (each re-vetted; ``follow`` may veto).

        Error statuses are returned, not raised; network failures, unsafe or vetoed
        redirects, oversize bodies and a Content-Type outside ``accept`` raise IngestError.
        """
        start = url
        deadline = time.monotonic() + 4 * self.timeout  # slow-drip servers end here
        for _ in range(MAX_REDIRECTS + 1):
            target = _parse(url)
            subject = url if url == start else f"{start} redirects to {url}, which"
            addresses = self._vet(target, url, subject)
            conn = PinnedConnection(target, addresses, self.timeout)
            try:
                response = self._exchange(conn, target, accept)
                location = response.getheader("location")
                if response.status in REDIRECT_STATUSES and location:
                    url = urljoin(url, location.strip())
                    if follow is not None and not follow(url):
                        raise IngestError(f"{start} redirects to {url}, outside this crawl")
                    continue
                content_type = (response.getheader("content-type") or "").split(";")[0]
                content_type = content_type.strip().lower()
                if accept and 200 <= response.status < 300 and content_type not in ("", *accept):
                    raise UnexpectedContent(url, content_type)
                body = self._read(response, url, deadline)
                encoding = response.getheader("content-encoding") or ""
                body = decode_content(body, encoding, self.max_bytes)
                return Response(url, response.status, response.msg, body)
            except TimeoutError as exc:
                raise IngestError(f"{url}: timed out") from exc
            except ssl.SSLError as exc:
                detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None)
                raise IngestError(f"{url}: secure connection failed ({detail or exc})") from exc
            except (OSError, http.client.HTTPException) as exc:
                detail = str(exc) or type(exc).__name__
                raise IngestError(f"{url}: connection failed ({detail})") from exc
            finally:
                conn.close()
        raise IngestError(f"{start}: too many redirects (more than {MAX_REDIRECTS})")

    def _exchange(
        self, conn: PinnedConnection, target: Target, accept: tuple[str, ...] | None
    ) -> http.client.HTTPResponse:
        conn.putrequest("GET", target.path, skip_accept_encoding=True)
        conn.putheader("User-Agent", self.user_agent)
        conn.putheader("Accept", ", ".join(accept) if accept else "*/*")
        conn.putheader("Accept-Encoding", "gzip, deflate")
        conn.putheader("Connection", "close")
        conn.endheaders()
        return conn.getresponse()

    def _read(self, response: http.client.HTTPResponse, url: str, deadline: float) -> bytes:
        too_large = IngestError(f"{url}: page too large (over {self.max_bytes // 1024} KiB)")
        length = response.getheader("content-length") or ""
        if length.isdigit() and int(length) > self.max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            if time.monotonic() > deadline:
                raise TimeoutError
            chunks.append(chunk)
        return b"".join(chunks)

    def _vet(self, target: Target, url: str, subject: str) -> list[str]:
        with _as_ingest_errors():
            return vet(
                target,
                url,
                subject=subject,
                allow_private=self.allow_private,
                resolver=self.resolver,
            )


def unsafe_address(url: str, *, allow_private: bool = False) -> str | None:
    """Why the crawler would refuse ``url`` for its address alone, in its words, or None.

    For checking a URL when it is added, without DNS: IP literals in every spelling,
    ``localhost`` names and cloud-metadata hosts are judged by the same code a fetch
    uses; any other host name passes here and is resolved and vetted when it is crawled.
    """
    fetcher = SafeFetcher(allow_private=allow_private, resolver=local_names_only)
    try:
        fetcher.vet(url)
    except UnsafeURL as exc:
        return str(exc)
    except IngestError:
        pass  # a public-looking host name (or no usable host): the crawl says what it finds
    return None


@contextmanager
def _as_ingest_errors() -> Iterator[None]:
    """The shared address checks' errors, as the pipeline's own (shown to the admin as is)."""
    try:
        yield
    except UnsafeAddress as exc:
        raise UnsafeURL(str(exc)) from None
    except AddressError as exc:
        raise IngestError(str(exc)) from None


def _parse(url: str) -> Target:
    with _as_ingest_errors():
        return parse_url(url)

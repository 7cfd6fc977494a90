"""An HTTP GET that cannot be aimed at the server's own network (SSRF-safe).

Admins type any URL into the knowledge form, and every page we crawl can redirect, so a
fetch must never reach loopback, private, link-local or cloud-metadata addresses. Each
hop resolves the host once, refuses the URL if ANY answer is non-public, then connects
to a vetted IP itself (http.client never re-resolves the name), so a DNS answer that
changes between the check and the connect (DNS rebinding) cannot slip through. TLS is
still verified against the host name. Bodies are size-capped before and after
decompression, so a huge page or a gzip bomb costs at most ``max_bytes``.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from urllib.parse import quote, urljoin, urlsplit

from ingestion.document import IngestError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
URL_SAFE = "/?&=%:@!$'()*+,;[]~"  # left as is when escaping a request path
PUBLIC_ONLY = "frontdesk only fetches public websites"
# Refused even with allow_private: nothing legitimate is ever served from these.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_IPS = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple]]


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


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # IDNA-encoded, no brackets
    port: int
    path: str  # path + query, what goes on the request line


def describe_address(ip: IP) -> str | None:
    """Why an address is not public ("a loopback address"), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return describe_address(ip.ipv4_mapped)
        embedded = ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None
        )
        if embedded and (reason := describe_address(embedded)):
            return reason
    checks = (
        (ip in METADATA_IPS, "a cloud metadata address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_multicast, "a multicast address"),
        (ip in CGNAT, "a shared (carrier-grade NAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private network address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


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


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to already-vetted IPs, never to whatever the host name resolves to now."""

    def __init__(self, target: _Target, addresses: list[str], timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.default_port = 443 if target.scheme == "https" else 80  # Host header without :443
        self._addresses = addresses
        self._tls = target.scheme == "https"

    def connect(self) -> None:
        error: OSError | None = None
        for address in self._addresses:
            try:
                sock = socket.create_connection((address, self.port), timeout=self.timeout)
                break
            except OSError as exc:
                error = exc
        else:
            raise error or OSError("no address to connect to")
        if self._tls:
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock


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
            conn = _PinnedConnection(target, addresses, self.timeout)
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
        self, conn: _PinnedConnection, target: _Target, accept: tuple[str, ...] | None
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

    def _vet(self, target: _Target, url: str, subject: str) -> list[str]:
        def refuse(where: str) -> UnsafeURL:
            return UnsafeURL(f"{subject} {where}; {PUBLIC_ONLY}")

        if target.host in METADATA_HOSTS or target.host.endswith(".metadata.google.internal"):
            raise refuse("points to a cloud metadata service")
        literal = _ip_literal(target.host)
        if literal is not None:
            reason = describe_address(literal)
            if reason and (literal in METADATA_IPS or not self.allow_private):
                raise refuse(f"points to {reason}")
            # 2130706433 connects to 127.0.0.1 itself, never via a resolver's reading of it
            return [str(literal) if literal.version == 4 else target.host]
        try:
            answers = self.resolver(target.host, target.port, socket.AF_UNSPEC, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise IngestError(f"{url}: could not find the host {target.host}") from exc
        addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
        if not addresses:
            raise IngestError(f"{url}: could not find the host {target.host}")
        for address in addresses:  # every answer, not just the first: any could be used
            ip = _ip_literal(address)
            if ip is None:
                raise refuse(f"resolves to {address!r}, which is not an IP address")
            reason = describe_address(ip)
            if reason and (ip in METADATA_IPS or not self.allow_private):
                raise refuse(f"resolves to {address}, {reason}")
        return addresses


def unsafe_address(url: str, *, allow_private: bool = False) -> str | None:
    """Why the crawler would refuse ``url`` for its address alone, in its words, or None.

    For checking a URL when it is added, without DNS: IP literals in every spelling,
    ``localhost`` names and cloud-metadata hosts are judged by the same code a fetch
    uses; any other host name passes here and is resolved and vetted when it is crawled.
    """
    fetcher = SafeFetcher(allow_private=allow_private, resolver=_local_names_only)
    try:
        fetcher.vet(url)
    except UnsafeURL as exc:
        return str(exc)
    except IngestError:
        pass  # a public-looking host name (or no usable host): the crawl says what it finds
    return None


def _local_names_only(host: str, port: int, *args: object) -> list[tuple]:
    if host == "localhost" or host.endswith(".localhost"):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    raise OSError(f"{host} is resolved when it is crawled")


# The short IPv4 spellings inet_aton reads (and so getaddrinfo and browsers): 2130706433,
# 0x7f000001, 127.1 and 0177.0.0.1 are all 127.0.0.1. Only digits, hex and dots get that
# far: glibc's inet_aton also accepts "1.2.3.4 anything".
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", re.IGNORECASE)


def _ip_literal(host: str) -> IP | None:
    """The address ``host`` spells, in any form a connection would read it; None for names."""
    host = host.split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_HOST.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:  # 08.1, 4294967296, 1.2.3.4.5: not an address (a host name that fails)
        return None


def _parse(url: str) -> _Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise IngestError(f"{url!r} is not a valid web address") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"{url} is not an http(s) address; {PUBLIC_ONLY}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL(f"{url} contains a user name or password; remove them from the address")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise IngestError(f"{url!r} has no host name")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise IngestError(f"{url!r} has an invalid host name") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(path, safe=URL_SAFE)  # spaces, non-ASCII and control characters escaped
    return _Target(scheme, host, port or (443 if scheme == "https" else 80), path)

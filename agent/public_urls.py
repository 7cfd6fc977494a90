"""Only public http(s) addresses: the SSRF checks the crawler and outgoing webhooks share.

Admins type URLs (a website to learn, a webhook endpoint) and servers redirect, so a
request must never reach loopback, private, link-local or cloud-metadata addresses. A
request resolves the host once, refuses the URL if ANY answer is non-public, then
connects to a vetted IP itself (``PinnedConnection``; http.client never re-resolves the
name), so a DNS answer that changes between the check and the connect (DNS rebinding)
cannot slip through. TLS is still verified against the host name.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from agent.core.errors import FrontdeskError

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


class AddressError(FrontdeskError):
    """The URL cannot be used: malformed, or its host cannot be found."""


class UnsafeAddress(AddressError):
    """The URL is not a public http(s) address; the message says why."""


@dataclass(frozen=True)
class Target:
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


def parse_url(url: str, *, why: str = PUBLIC_ONLY) -> Target:
    """Split an http(s) URL into what a pinned request needs; ``why`` ends a refusal."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise AddressError(f"{url!r} is not a valid web address") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeAddress(f"{url} is not an http(s) address; {why}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeAddress(f"{url} contains a user name or password; remove them from the address")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise AddressError(f"{url!r} has no host name")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise AddressError(f"{url!r} has an invalid host name") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    path = quote(path, safe=URL_SAFE)  # spaces, non-ASCII and control characters escaped
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def vet(
    target: Target,
    url: str,
    *,
    subject: str | None = None,
    allow_private: bool = False,
    resolver: Resolver = socket.getaddrinfo,
    why: str = PUBLIC_ONLY,
) -> list[str]:
    """The IPs a request to ``target`` may connect to; raises UnsafeAddress when any answer
    is not public (``allow_private`` lets private ones through, never metadata ones)."""
    subject = subject or url

    def refuse(where: str) -> UnsafeAddress:
        return UnsafeAddress(f"{subject} {where}; {why}")

    if target.host in METADATA_HOSTS or target.host.endswith(".metadata.google.internal"):
        raise refuse("points to a cloud metadata service")
    literal = ip_literal(target.host)
    if literal is not None:
        reason = describe_address(literal)
        if reason and (literal in METADATA_IPS or not allow_private):
            raise refuse(f"points to {reason}")
        # 2130706433 connects to 127.0.0.1 itself, never via a resolver's reading of it
        return [str(literal) if literal.version == 4 else target.host]
    try:
        answers = resolver(target.host, target.port, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressError(f"{url}: could not find the host {target.host}") from exc
    addresses = list(dict.fromkeys(str(answer[4][0]) for answer in answers))
    if not addresses:
        raise AddressError(f"{url}: could not find the host {target.host}")
    for address in addresses:  # every answer, not just the first: any could be used
        ip = ip_literal(address)
        if ip is None:
            raise refuse(f"resolves to {address!r}, which is not an IP address")
        reason = describe_address(ip)
        if reason and (ip in METADATA_IPS or not allow_private):
            raise refuse(f"resolves to {address}, {reason}")
    return addresses


def local_names_only(host: str, port: int, *args: object) -> list[tuple]:
    """A resolver that knows only ``localhost`` names: for checks made without DNS."""
    if host == "localhost" or host.endswith(".localhost"):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    raise OSError(f"{host} is resolved when it is used")


class PinnedConnection(http.client.HTTPConnection):
    """Connects to already-vetted IPs, never to whatever the host name resolves to now."""

    def __init__(self, target: Target, addresses: list[str], timeout: float) -> None:
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


# The short IPv4 spellings inet_aton reads (and so getaddrinfo and browsers): 2130706433,
# 0x7f000001, 127.1 and 0177.0.0.1 are all 127.0.0.1. Only digits, hex and dots get that
# far: glibc's inet_aton also accepts "1.2.3.4 anything".
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", re.IGNORECASE)


def ip_literal(host: str) -> IP | None:
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

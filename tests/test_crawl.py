"""The website crawler: SSRF-safe fetching and a polite, deterministic same-site crawl.

Only servers started here on 127.0.0.1 are ever contacted. "Public" host names are
simulated with a fake resolver, and ``socket.create_connection`` is patched to record
where the fetcher tried to connect (and to refuse, or to divert to the local server).
"""

from __future__ import annotations

import gzip
import re
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ingestion.crawl import CrawlLimits, crawl
from ingestion.document import IngestError
from ingestion.fetch import SafeFetcher, UnexpectedContent, UnsafeURL
from ingestion.robots import load_robots
from ingestion.urls import normalize_url, same_site
from tests.conftest import SITES

BAYVIEW = SITES / "bayview"
PUBLIC_IP = "93.184.216.34"  # never contacted: connections to it are recorded and diverted

Route = tuple[int, dict[str, str], bytes]


@dataclass
class Site:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    port: int
    requests: list[tuple[str, str]]  # (path, Host header), in arrival order
    routes: dict[str, Route] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


class _Handler(SimpleHTTPRequestHandler):
    site: Site

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self.site.requests.append((self.path, self.headers.get("Host", "")))
        route = self.site.routes.get(self.path)
        if route is None:
            super().do_GET()
            return
        status, headers, body = route
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def serve() -> Iterator[Callable[..., Site]]:
    """Start a quiet ThreadingHTTPServer on 127.0.0.1:0 serving a folder plus fixed routes."""
    servers: list[ThreadingHTTPServer] = []

    def start(root: Path, routes: dict[str, Route] | None = None) -> Site:
        site = Site("", 0, [], routes or {})
        handler = type("Handler", (_Handler,), {"site": site})
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
        site.port = server.server_address[1]
        site.url = f"http://127.0.0.1:{site.port}"
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return site

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every connection attempt; loopback goes through, anything else is refused."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def fake(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        attempts.append(address)
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("test: no traffic leaves this machine")
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", fake)
    return attempts


def resolver_for(*answers: str | list[str]) -> Callable[..., list[tuple]]:
    """A fake getaddrinfo: the n-th call gets the n-th answer (the last one repeats)."""
    calls: list[str] = []

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        calls.append(host)
        answer = answers[min(len(calls), len(answers)) - 1]
        ips = [answer] if isinstance(answer, str) else answer
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in ip], socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ips]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def divert_public_to(site: Site, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Connections to PUBLIC_IP:80 are recorded, then really made to the local ``site``."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def fake(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        attempts.append(address)
        if address == (PUBLIC_IP, 80):
            return real(("127.0.0.1", site.port), *args, **kwargs)  # type: ignore[arg-type]
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("test: no traffic leaves this machine")
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", fake)
    return attempts


# -- fetch: what is refused -------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/file", "gopher://example.com/"]
)
def test_non_http_schemes_are_refused_before_any_lookup(url: str, connects: list) -> None:
    resolve = resolver_for(PUBLIC_IP)
    with pytest.raises(UnsafeURL, match="not an http"):
        SafeFetcher(resolver=resolve, allow_private=True).get(url)
    assert resolve.calls == [] and connects == []  # type: ignore[attr-defined]


def test_credentials_in_the_url_are_refused(connects: list) -> None:
    with pytest.raises(UnsafeURL, match="user name or password"):
        SafeFetcher(resolver=resolver_for(PUBLIC_IP)).get("http://admin:pw@shop.example/")
    assert connects == []


def test_private_ip_literal_has_a_clear_message(connects: list) -> None:
    with pytest.raises(UnsafeURL) as caught:
        SafeFetcher().get("http://10.0.0.5/")
    assert str(caught.value) == (
        "http://10.0.0.5/ points to a private network address; "
        "frontdesk only fetches public websites"
    )
    assert connects == []


DISGUISED_LOOPBACK = [
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0x7F.0.0.1:8000/admin",
    "http://[::ffff:127.0.0.1]/",
]


@pytest.mark.parametrize("url", DISGUISED_LOOPBACK)
def test_disguised_ip_literals_are_recognised_without_dns(url: str, connects: list) -> None:
    """Every spelling inet_aton (and so getaddrinfo and browsers) reads as 127.0.0.1."""
    resolve = resolver_for(PUBLIC_IP)  # if the host were looked up, it would look public
    with pytest.raises(UnsafeURL) as caught:
        SafeFetcher(resolver=resolve).get(url)
    assert str(caught.value) == (
        f"{url} points to a loopback address; frontdesk only fetches public websites"
    )
    assert resolve.calls == [] and connects == []  # type: ignore[attr-defined]


def test_numeric_ipv4_spellings_connect_to_the_address_they_mean(connects: list) -> None:
    fetcher = SafeFetcher(allow_private=True, resolver=resolver_for(PUBLIC_IP), timeout=1)
    assert fetcher.vet("http://2130706433:9/") == ["127.0.0.1"]
    assert fetcher.vet("http://0x0a.1:9/") == ["10.0.0.1"]
    assert fetcher.vet("http://1.2.3.4.5/") == [PUBLIC_IP]  # not an address: a (bad) name


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private network"),
        ("172.16.5.4", "private network"),
        ("192.168.1.1", "private network"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.10", "link-local"),
        ("100.64.0.7", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private network"),
        ("fd12:3456::1", "private network"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "cloud metadata"),
    ],
)
def test_host_resolving_to_a_non_public_address_is_refused(
    answer: str, kind: str, connects: list
) -> None:
    fetcher = SafeFetcher(resolver=resolver_for(answer))
    with pytest.raises(UnsafeURL, match=f"resolves to .*{kind}.*only fetches public websites"):
        fetcher.get("http://shop.example/prices")
    assert connects == []


def test_one_private_answer_among_public_ones_refuses_the_host(connects: list) -> None:
    fetcher = SafeFetcher(resolver=resolver_for([PUBLIC_IP, "10.0.0.9"]))
    with pytest.raises(UnsafeURL, match=re.escape("10.0.0.9")):
        fetcher.get("http://shop.example/")
    assert connects == []


def test_cloud_metadata_is_refused_even_when_private_addresses_are_allowed(connects: list) -> None:
    fetcher = SafeFetcher(allow_private=True, resolver=resolver_for("169.254.169.254"))
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://instance-data.example/",
    ):
        with pytest.raises(UnsafeURL, match="metadata"):
            fetcher.get(url)
    assert connects == []


def test_dns_rebinding_is_refused_and_the_private_ip_never_contacted(connects: list) -> None:
    """The name is resolved once per fetch and the connection pinned to the vetted answer."""
    resolve = resolver_for(PUBLIC_IP, "127.0.0.1")
    fetcher = SafeFetcher(resolver=resolve, timeout=1)
    with pytest.raises(IngestError, match="connection failed") as first:
        fetcher.get("http://rebind.example/")
    assert not isinstance(first.value, UnsafeURL)
    with pytest.raises(UnsafeURL, match=re.escape("resolves to 127.0.0.1, a loopback address")):
        fetcher.get("http://rebind.example/")
    assert connects == [(PUBLIC_IP, 80)]  # never 127.0.0.1, never the name itself
    assert resolve.calls == ["rebind.example", "rebind.example"]  # type: ignore[attr-defined]


def test_connection_is_pinned_to_the_vetted_ip_with_the_original_host_header(
    serve: Callable[..., Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = serve(BAYVIEW)
    attempts = divert_public_to(site, monkeypatch)
    resolve = resolver_for(PUBLIC_IP, "127.0.0.1")  # a second lookup would be refused
    response = SafeFetcher(resolver=resolve).get("http://shop.example/pricing.html")
    assert response.status == 200 and "Drain cleaning" in response.text
    assert attempts == [(PUBLIC_IP, 80)]
    assert site.requests == [("/pricing.html", "shop.example")]
    assert resolve.calls == ["shop.example"]  # type: ignore[attr-defined]


def test_https_checks_the_certificate_against_the_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[tuple[str, int]] = []
    hostnames: list[str] = []

    class FakeContext:
        def wrap_socket(self, sock: object, server_hostname: str) -> object:
            hostnames.append(server_hostname)
            raise ssl.SSLCertVerificationError(1, "test certificate mismatch")

    def fake_connect(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        attempts.append(address)
        return socket.socket()  # never connected: the TLS wrap fails first

    monkeypatch.setattr(socket, "create_connection", fake_connect)
    monkeypatch.setattr(ssl, "create_default_context", FakeContext)
    fetcher = SafeFetcher(resolver=resolver_for(PUBLIC_IP))
    with pytest.raises(IngestError, match="secure connection failed"):
        fetcher.get("https://shop.example/")
    assert attempts == [(PUBLIC_IP, 443)]
    assert hostnames == ["shop.example"]


def test_redirect_to_a_private_address_is_refused(
    serve: Callable[..., Site], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = serve(tmp_path)
    site.routes["/go"] = (302, {"Location": f"{site.url}/secret"}, b"")
    site.routes["/go-internal"] = (301, {"Location": "http://intranet.example/"}, b"")
    attempts = divert_public_to(site, monkeypatch)
    resolve = resolver_for(PUBLIC_IP, PUBLIC_IP, "10.0.0.1")
    fetcher = SafeFetcher(resolver=resolve)
    with pytest.raises(UnsafeURL, match=r"redirects to http://127\.0\.0\.1:\d+/secret, which"):
        fetcher.get("http://shop.example/go")
    with pytest.raises(UnsafeURL, match=re.escape("intranet.example/, which resolves to 10.0.0.1")):
        fetcher.get("http://shop.example/go-internal")
    assert site.paths() == ["/go", "/go-internal"]
    assert attempts == [(PUBLIC_IP, 80), (PUBLIC_IP, 80)]


# -- fetch: what a local server (allow_private=True) returns ---------------------------


def test_local_server_is_fetched_when_private_addresses_are_allowed(
    serve: Callable[..., Site],
) -> None:
    site = serve(BAYVIEW)
    response = SafeFetcher(allow_private=True).get(f"{site.url}/faq.html", accept=("text/html",))
    assert response.status == 200
    assert response.url == f"{site.url}/faq.html"
    assert response.content_type == "text/html"
    assert response.headers["CONTENT-TYPE"] == response.headers["content-type"]
    assert "Red Seal" in response.text
    assert SafeFetcher(allow_private=True).get(f"{site.url}/nope.html").status == 404


def test_redirects_are_followed_and_capped(serve: Callable[..., Site], tmp_path: Path) -> None:
    (tmp_path / "b.html").write_text("<p>b</p>")
    site = serve(tmp_path)
    site.routes["/a"] = (301, {"Location": "/b.html"}, b"")
    site.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    fetcher = SafeFetcher(allow_private=True)
    assert fetcher.get(f"{site.url}/a").url == f"{site.url}/b.html"
    with pytest.raises(IngestError, match="too many redirects"):
        fetcher.get(f"{site.url}/loop")
    assert site.paths().count("/loop") == 6  # the first request plus 5 redirects
    with pytest.raises(IngestError, match="outside"):
        fetcher.get(f"{site.url}/a", follow=lambda url: False)


def test_size_limits_and_gzip_bombs(serve: Callable[..., Site], tmp_path: Path) -> None:
    site = serve(tmp_path)
    page = b"<p>" + b"x" * 4000 + b"</p>"
    site.routes["/big"] = (200, {"Content-Type": "text/html"}, page)  # no Content-Length
    site.routes["/gz"] = (200, {"Content-Encoding": "gzip"}, gzip.compress(b"<p>hello</p>"))
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
    site.routes["/bomb"] = (200, {"Content-Encoding": "gzip"}, bomb)
    fetcher = SafeFetcher(allow_private=True, max_bytes=2000)
    with pytest.raises(IngestError, match="too large"):
        fetcher.get(f"{site.url}/big")
    assert fetcher.get(f"{site.url}/gz").text == "<p>hello</p>"
    assert len(bomb) < 2_000_000  # the bomb itself is under 1/10 of its payload
    with pytest.raises(IngestError, match="too large"):
        SafeFetcher(allow_private=True, max_bytes=len(bomb) + 1000).get(f"{site.url}/bomb")


def test_unwanted_content_type_is_refused_before_the_body(
    serve: Callable[..., Site], tmp_path: Path
) -> None:
    site = serve(tmp_path)
    site.routes["/report"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")
    with pytest.raises(UnexpectedContent) as caught:
        SafeFetcher(allow_private=True).get(f"{site.url}/report", accept=("text/html",))
    assert caught.value.content_type == "application/pdf"


def test_a_silent_server_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts, never answers
        port = listener.getsockname()[1]
        with pytest.raises(IngestError, match="timed out"):
            SafeFetcher(allow_private=True, timeout=0.3).get(f"http://127.0.0.1:{port}/")


# -- URLs and robots.txt ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("HTTP://Shop.Example:80/a?utm_source=x&id=3&fbclid=y#top", "http://shop.example/a?id=3"),
        ("https://shop.example:443", "https://shop.example/"),
        ("../b/./c.html", "http://shop.example/b/c.html"),
        ("?gclid=1", "http://shop.example/x/page"),
        ("/café menu.html?q=a b", "http://shop.example/caf%C3%A9%20menu.html?q=a%20b"),
        ("mailto:hi@shop.example", None),
        ("tel:+12505550142", None),
        ("javascript:alert(1)", None),
        ("http://user:pw@shop.example/", None),
    ],
)
def test_normalize_url(href: str, expected: str | None) -> None:
    assert normalize_url(href, "http://shop.example/x/page") == expected


def test_same_site_ignores_scheme_and_www_but_not_port_or_subdomain() -> None:
    assert same_site("http://www.shop.example/a", "https://shop.example/b")
    assert not same_site("http://shop.example:8080/", "http://shop.example/")
    assert not same_site("http://blog.shop.example/", "http://shop.example/")


def test_robots_crawl_delay_and_sitemaps(serve: Callable[..., Site], tmp_path: Path) -> None:
    site = serve(tmp_path)
    (tmp_path / "robots.txt").write_text(
        "User-agent: *\nDisallow: /private/\nCrawl-delay: 100\n"
        "User-agent: frontdesk-crawler\nDisallow: /no-bots/\nCrawl-delay: 2\n"
        f"Sitemap: {site.url}/maps/index.xml\n"
    )
    rules = load_robots(site.url, SafeFetcher(allow_private=True).get, "frontdesk-crawler/0.1")
    assert rules.crawl_delay == 2.0
    assert not rules.allowed(f"{site.url}/no-bots/x") and rules.allowed(f"{site.url}/private/")
    assert rules.sitemaps == [f"{site.url}/maps/index.xml"]
    (tmp_path / "robots.txt").write_text("User-agent: *\nCrawl-delay: 100\n")
    rules = load_robots(site.url, SafeFetcher(allow_private=True).get, "frontdesk-crawler/0.1")
    assert rules.crawl_delay == 5.0  # capped
    (tmp_path / "robots.txt").unlink()
    assert load_robots(site.url, SafeFetcher(allow_private=True).get, "x").allowed(site.url)


# -- crawl: the bayview fixture ---------------------------------------------------------


class RecordingFetcher(SafeFetcher):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def get(self, url: str, **kwargs: object):  # type: ignore[override]
        with self._lock:
            self.asked.append(url)
        return super().get(url, **kwargs)  # type: ignore[arg-type]


BAYVIEW_PAGES = {
    "/": "Home | Bayview Plumbing & Heating",
    "/services.html": "Services | Bayview Plumbing & Heating",
    "/pricing.html": "Pricing | Bayview Plumbing & Heating",
    "/hours-and-area.html": "Hours and Service Area | Bayview Plumbing & Heating",
    "/faq.html": "Frequently Asked Questions | Bayview Plumbing & Heating",
    "/contact.html": "Contact Us | Bayview Plumbing & Heating",
    "/privacy.html": "Privacy Policy | Bayview Plumbing & Heating",
    "/careers.html": "Careers | Bayview Plumbing & Heating",
}


def test_crawl_bayview(serve: Callable[..., Site], connects: list) -> None:
    site = serve(BAYVIEW)
    fetcher = RecordingFetcher(allow_private=True)
    progress: list[tuple[int, int]] = []
    result = crawl(
        f"{site.url}/", fetcher, CrawlLimits(), on_progress=lambda *p: progress.append(p)
    )

    pages = {urlsplit(d.uri).path: d for d in result.documents}
    assert list(pages) == list(BAYVIEW_PAGES)  # BFS discovery order, nav order
    assert {path: d.title for path, d in pages.items()} == BAYVIEW_PAGES
    # robots.txt: the staff page is never fetched, let alone indexed
    assert (f"{site.url}/staff-portal.html", "disallowed by robots.txt") in result.skipped
    assert "/staff-portal.html" not in site.paths()
    assert not any("Door code" in d.text for d in result.documents)
    # off-site links (facebook.com) are never fetched; every connection is to this server
    assert {urlsplit(url).netloc for url in fetcher.asked} == {f"127.0.0.1:{site.port}"}
    assert set(connects) == {("127.0.0.1", site.port)}
    assert max(Counter(site.paths()).values()) == 1
    # /index.html is the same page as /
    assert (f"{site.url}/index.html", f"duplicate of {site.url}/ (same text)") in result.skipped
    # structure survives: headings, lists, tables with their headers
    assert "Service: Drain cleaning, single fixture; Price: $149" in pages["/pricing.html"].text
    assert "- Drain cleaning and camera inspections" in pages["/"].text
    services = {s.heading_path for s in pages["/services.html"].sections}
    assert ("Services", "Drain cleaning") in services
    # boilerplate is dropped: footer, cookie banner, newsletter aside, nav
    for doc in result.documents:
        for junk in ("All rights reserved", "We use cookies", "Join our newsletter"):
            assert junk not in doc.text, (doc.uri, junk)
    assert pages["/careers.html"].text == (
        "We are hiring apprentice plumbers. Send your resume to jobs@bayview-plumbing.example."
    )
    assert result.pages_found == 10  # 9 pages + /index.html
    assert progress[-1] == (9, 9)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_crawl_is_deterministic_across_concurrency(serve: Callable[..., Site]) -> None:
    site = serve(BAYVIEW)
    runs = [
        crawl(f"{site.url}/", SafeFetcher(allow_private=True), CrawlLimits(concurrency=n))
        for n in (1, 4)
    ]
    assert runs[0].documents == runs[1].documents
    assert runs[0].skipped == runs[1].skipped


def test_crawl_of_a_private_address_fails_before_fetching(
    serve: Callable[..., Site], connects: list
) -> None:
    site = serve(BAYVIEW)
    fetcher = RecordingFetcher()
    with pytest.raises(UnsafeURL, match="loopback"):
        crawl(f"{site.url}/", fetcher, CrawlLimits())
    assert fetcher.asked == [] and site.requests == [] and connects == []
    with pytest.raises(UnsafeURL):
        crawl("file:///etc/passwd", fetcher, CrawlLimits())


# -- crawl: a generated site ------------------------------------------------------------


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>"
        f"<nav><a href='/'>Home</a></nav><main><h1>{title}</h1>{body}</main>"
        "<footer>Generated footer text</footer></body></html>"
    )


@pytest.fixture
def generated(serve: Callable[..., Site], tmp_path: Path) -> Site:
    text = "<p>{} has its own paragraph of text about the business and its services.</p>"
    pages = {
        "index.html": _page(
            "Start",
            text.format("The start page")
            + "".join(
                f"<a href='{href}'>{href}</a> "
                for href in (
                    "a.html",
                    "a.html#part",
                    "a.html?utm_source=news",
                    "brochure.pdf",
                    "report",
                    "mailto:hi@gen.example",
                    "tel:+12505550142",
                    "javascript:void(0)",
                    "missing.html",
                    "old.html",
                    "loop.html",
                    "dup.html",
                    "quiet.html",
                    "deep1.html",
                    "http://elsewhere.example/page.html",
                )
            ),
        ),
        "a.html": _page(
            "Page A", text.format("Page A") + "<a href='index.html'>back</a><a href='b.html'>b</a>"
        ),
        "b.html": _page("Page B", text.format("Page B, reached by a redirect,")),
        "loop.html": _page("Loop", text.format("Loop") + "<a href='loop.html'>me</a>"),
        "dup.html": _page(
            "Dup",
            text.format("A print version of page A"),
            "<link rel='canonical' href='/a.html'>",
        ),
        "quiet.html": _page(
            "Quiet",
            text.format("Quiet") + "<a href='hidden-child.html'>child</a>",
            "<meta name='robots' content='noindex, follow'>",
        ),
        "hidden-child.html": _page("Child", text.format("The child of a noindex page")),
        "orphan.html": _page("Orphan", text.format("Only the sitemap knows this page, it")),
        "deep1.html": _page("Deep 1", text.format("Deep 1") + "<a href='deep2.html'>2</a>"),
        "deep2.html": _page("Deep 2", text.format("Deep 2") + "<a href='deep3.html'>3</a>"),
        "deep3.html": _page("Deep 3", text.format("Deep 3") + "<a href='deep4.html'>4</a>"),
        "deep4.html": _page("Deep 4", text.format("Deep 4")),
        "brochure.pdf": "%PDF-1.4",
    }
    for name, content in pages.items():
        (tmp_path / name).write_text(content)
    site = serve(tmp_path)
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url}/orphan.html</loc></url><url><loc>{site.url}/a.html</loc></url>"
        "<url><loc>http://elsewhere.example/x.html</loc></url></urlset>"
    )
    site.routes["/old.html"] = (301, {"Location": "/b.html"}, b"")
    site.routes["/report"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4")
    return site


def test_crawl_generated_site(generated: Site) -> None:
    site = generated
    fetcher = RecordingFetcher(allow_private=True)
    result = crawl(f"{site.url}/", fetcher, CrawlLimits(max_depth=3))
    docs = [urlsplit(d.uri).path for d in result.documents]
    skipped = {urlsplit(url).path: why for url, why in result.skipped}
    assert docs == [
        "/",
        "/a.html",
        "/b.html",  # /old.html redirected here; the document keeps the final URL
        "/loop.html",
        "/deep1.html",
        "/orphan.html",  # sitemap seed, after the start page's own links
        "/hidden-child.html",  # a noindex page's links are still followed
        "/deep2.html",
        "/deep3.html",
    ]
    assert skipped == {
        "/brochure.pdf": "not a web page (.pdf file)",
        "/report": "not a web page (application/pdf)",
        "/missing.html": "HTTP 404",
        "/index.html": f"duplicate of {site.url}/ (same text)",
        "/dup.html": f"duplicate of {site.url}/a.html (canonical link)",
        "/quiet.html": "marked noindex",
        "/b.html": "already crawled (reached through a redirect)",
        "/deep4.html": "deeper than the depth limit (3 links)",
    }
    assert result.documents[0].title == "Start"
    assert "Generated footer text" not in "".join(d.text for d in result.documents)
    asked = site.paths()
    assert max(Counter(asked).values()) == 1  # loops, fragments and utm_ params: one fetch
    assert {"/brochure.pdf", "/deep4.html"}.isdisjoint(asked)
    assert {urlsplit(u).hostname for u in fetcher.asked} == {"127.0.0.1"}


def test_crawl_page_limit(generated: Site) -> None:
    result = crawl(f"{generated.url}/", SafeFetcher(allow_private=True), CrawlLimits(max_pages=3))
    assert [urlsplit(d.uri).path for d in result.documents] == ["/", "/a.html"]
    pages = [p for p in generated.paths() if p not in ("/robots.txt", "/sitemap.xml")]
    assert sorted(pages) == ["/", "/a.html", "/report"]
    assert sum("page limit reached" in why for _, why in result.skipped) >= 5


def test_crawl_depth_zero_is_the_start_page_only(generated: Site) -> None:
    result = crawl(f"{generated.url}/", SafeFetcher(allow_private=True), CrawlLimits(max_depth=0))
    assert [urlsplit(d.uri).path for d in result.documents] == ["/"]

"""Breadth-first crawl of one website into Documents, politely and only on that site.

Pages are fetched level by level (start page = depth 0) by a small thread pool and then
processed in discovery order, so the same site always yields the same documents in the
same order whatever the timing. robots.txt is obeyed, sitemaps add seeds, links leave
neither the site (host and port; ``www.`` and http/https count as the same site) nor
the limits. Pages are data: scripts never run and meta refresh is never followed.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import lxml.html
import trafilatura
from lxml import etree

from ingestion.document import Document, IngestError, sections_from_markdown
from ingestion.fetch import Response, SafeFetcher, UnexpectedContent
from ingestion.robots import SiteRules, load_robots, sitemap_urls
from ingestion.urls import non_html_extension, normalize_url, same_site

HTML_TYPES = ("text/html", "application/xhtml+xml")
# favor_precision: on real small-business pages (see tests/test_crawl.py) favor_recall
# falls back to whole-body text on short pages, nav and logo included; precision keeps
# headings, lists, tables and links and drops nav, cookie banners and footers.
EXTRACT_OPTIONS = dict(
    output_format="markdown",
    include_tables=True,
    include_links=True,
    include_formatting=True,
    include_images=False,
    include_comments=False,
    with_metadata=False,
)
ALREADY_CRAWLED = "already crawled (reached through a redirect)"
_BOILERPLATE = (
    "//nav | //footer | //aside | //script | //style | //noscript | //form"
    " | //*[@role='navigation' or @role='banner' or @role='contentinfo']"
    " | //header[not(ancestor::main) and not(ancestor::article)]"
)
_BOXES = "//body//*[(@class or @id) and not(self::main or self::article)]"
_COOKIE = re.compile(r"cookie|consent|gdpr|newsletter", re.I)


@dataclass(frozen=True)
class CrawlLimits:
    max_pages: int = 500  # pages fetched, successful or not
    max_depth: int = 6  # link hops from the start page
    concurrency: int = 4  # parallel requests to the site
    delay: float = 0.0  # seconds between request starts; robots.txt Crawl-delay may raise it


@dataclass
class CrawlResult:
    documents: list[Document] = field(default_factory=list)  # in discovery order
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    pages_found: int = 0  # distinct same-site URLs discovered, crawled or not


@dataclass(frozen=True)
class _Page:
    """What a worker learned about one URL; processed later on the crawl's thread."""

    url: str
    final_url: str = ""
    error: str = ""
    title: str = ""
    markdown: str = ""
    links: tuple[str, ...] = ()
    canonical: str | None = None
    index: bool = True
    follow: bool = True


class _Pacer:
    """Spaces request starts ``interval`` seconds apart across all worker threads."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        if self.interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        time.sleep(max(0.0, start - now))


def crawl(
    start_url: str,
    fetcher: SafeFetcher,
    limits: CrawlLimits,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> CrawlResult:
    """Crawl the site of ``start_url``; an unsafe start URL raises UnsafeURL before any fetch."""
    start = normalize_url(start_url if "://" in start_url else f"https://{start_url}")
    if start is None:
        fetcher.vet(start_url)  # raises UnsafeURL for file:, ftp:, credentials...
        raise IngestError(f"{start_url!r} is not a website address")
    fetcher.vet(start)
    pacer = _Pacer(limits.delay)

    def get(
        url: str,
        *,
        accept: tuple[str, ...] | None = None,
        follow: Callable[[str], bool] | None = None,
    ) -> Response:
        pacer.wait()
        return fetcher.get(url, accept=accept, follow=follow)

    rules = load_robots(start, get, fetcher.user_agent)
    pacer.interval = max(limits.delay, rules.crawl_delay)
    seeds = sitemap_urls(
        start, rules.sitemaps, get, limit=limits.max_pages, max_bytes=fetcher.max_bytes
    )
    return _Crawl(start, get, rules, limits, on_progress).run(seeds)


class _Crawl:
    def __init__(
        self,
        start: str,
        get: Callable[..., Response],
        rules: SiteRules,
        limits: CrawlLimits,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        self.start = start
        self.get = get
        self.rules = rules
        self.limits = limits
        self.on_progress = on_progress
        self.result = CrawlResult()
        self.seen: set[str] = set()  # every URL discovered, fetched or not
        self.queued = 0  # URLs admitted for fetching
        self.crawled: set[str] = set()  # URLs (requested and final) actually fetched
        self.hashes: dict[str, str] = {}  # extracted-text digest -> first URL with it

    def run(self, seeds: list[str]) -> CrawlResult:
        level: list[str] = []
        self._admit(self.start, 0, level)
        done, depth = 0, 0
        self._progress(done)
        with ThreadPoolExecutor(max_workers=max(1, self.limits.concurrency)) as pool:
            while level:
                for url in [u for u in level if u in self.crawled]:
                    self._skip(url, ALREADY_CRAWLED)
                level = [u for u in level if u not in self.crawled]
                budget = self.limits.max_pages - done
                for url in level[budget:]:
                    self._skip(url, f"page limit reached ({self.limits.max_pages} pages)")
                next_level: list[str] = []
                for page in pool.map(self._fetch, level[:budget]):
                    done += 1
                    self._absorb(page, depth, next_level)
                    self._progress(done)
                if depth == 0:  # sitemap pages count as one hop from the start page
                    for url in seeds:
                        self._admit(url, 1, next_level)
                level, depth = next_level, depth + 1
        self.result.pages_found = len(self.seen)
        return self.result

    def _progress(self, done: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, max(done, min(self.queued, self.limits.max_pages)))

    def _skip(self, url: str, reason: str) -> None:
        self.result.skipped.append((url, reason))

    def _admit(self, url: str, depth: int, level: list[str]) -> None:
        """Queue a same-site URL once; record why it is not crawled if it is not."""
        if url in self.seen or not same_site(url, self.start):
            return  # off-site links are ignored, not reported
        self.seen.add(url)
        if extension := non_html_extension(url):
            self._skip(url, f"not a web page ({extension} file)")
        elif not self.rules.allowed(url):
            self._skip(url, "disallowed by robots.txt")
        elif depth > self.limits.max_depth:
            self._skip(url, f"deeper than the depth limit ({self.limits.max_depth} links)")
        else:
            self.queued += 1
            level.append(url)

    def _may_follow(self, target: str) -> bool:
        url = normalize_url(target)
        return bool(url) and same_site(url, self.start) and self.rules.allowed(url)

    def _fetch(self, url: str) -> _Page:
        """Runs on a worker thread: fetch and parse, never touching shared state."""
        try:
            response = self.get(url, accept=HTML_TYPES, follow=self._may_follow)
        except UnexpectedContent as exc:
            return _Page(url, error=f"not a web page ({exc.content_type})")
        except IngestError as exc:
            return _Page(url, error=str(exc).removeprefix(f"{url}: "))
        if not 200 <= response.status < 300:
            return _Page(url, error=f"HTTP {response.status}")
        final = normalize_url(response.url) or url
        try:
            return _parse_page(url, final, response, self.rules.user_agent)
        except (ValueError, etree.LxmlError) as exc:
            return _Page(url, final_url=final, error=f"could not read the page ({exc})")

    def _absorb(self, page: _Page, depth: int, next_level: list[str]) -> None:
        """Turn one fetched page into a document or a skip reason, and queue its links."""
        if page.error:
            self._skip(page.url, page.error)
            return
        final = page.final_url
        if final in self.crawled:  # another page of this level redirected here first
            self._skip(
                page.url, ALREADY_CRAWLED if final == page.url else f"{final}: {ALREADY_CRAWLED}"
            )
            return
        self.seen.add(final)
        canonical_seen = page.canonical not in (None, final) and page.canonical in self.crawled
        self.crawled.update((page.url, final))
        digest = hashlib.sha256(" ".join(page.markdown.split()).encode()).hexdigest()
        sections = sections_from_markdown(page.markdown)
        if not page.index:
            self._skip(final, "marked noindex")
        elif canonical_seen:
            self._skip(final, f"duplicate of {page.canonical} (canonical link)")
        elif not sections:
            self._skip(final, "no readable text found")
        elif digest in self.hashes:
            self._skip(final, f"duplicate of {self.hashes[digest]} (same text)")
        else:
            self.hashes[digest] = final
            headings = sections[0].heading_path
            title = page.title or (headings[0] if headings else final)
            self.result.documents.append(Document(uri=final, title=title, sections=sections))
        if page.follow:  # duplicates still lead somewhere: a bad canonical must not hide a site
            for link in page.links:
                self._admit(link, depth + 1, next_level)


def _parse_page(url: str, final: str, response: Response, agent: str) -> _Page:
    """Links, canonical, robots directives, title and main text of one HTML page."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", response.text)  # lxml rejects it in str input
    if not text.strip():
        return _Page(url, final_url=final, error="empty page")
    tree = lxml.html.document_fromstring(text)
    base = final
    for href in tree.xpath("//base/@href")[:1]:
        base = normalize_url(str(href), final) or final
    links = [normalize_url(str(h), base) for h in tree.xpath("//a/@href | //area/@href")]
    canonical = None
    for link in tree.xpath("//link[@href and @rel]"):
        if "canonical" in link.get("rel", "").lower().split():
            canonical = normalize_url(link.get("href", ""), base)
            break
    directives = set(_robots_directives(response.headers.get("x-robots-tag", ""), agent))
    for meta in tree.xpath("//meta[@name and @content]"):
        if meta.get("name", "").strip().lower() in ("robots", agent.lower()):
            directives.update(_robots_directives(meta.get("content", ""), agent))
    title = " ".join(" ".join(tree.xpath("//title//text()")).split())
    return _Page(
        url,
        final_url=final,
        title=title,
        markdown=extract_markdown(text, tree, final),
        links=tuple(dict.fromkeys(link for link in links if link)),
        canonical=canonical,
        index=not directives & {"noindex", "none"},
        follow=not directives & {"nofollow", "none"},
    )


def _robots_directives(value: str, agent: str) -> list[str]:
    """``noindex, nofollow`` -> directives; ``otherbot: noindex`` is someone else's rule."""
    head, _, rest = value.partition(":")
    if rest and " " not in head.strip() and "," not in head:
        if head.strip().lower() != agent.lower():
            return []
        value = rest
    return [d.strip().lower() for d in value.split(",") if d.strip()]


def extract_markdown(html: str, tree: lxml.html.HtmlElement, url: str) -> str:
    """Main content as Markdown: precise first; on pages too short for that, recall on
    ``tree`` (consumed) once stripped of nav, header, footer, asides and cookie boxes."""
    markdown = trafilatura.extract(html, url=url, favor_precision=True, **EXTRACT_OPTIONS)
    if markdown and markdown.strip():
        return markdown
    for element in tree.xpath(_BOILERPLATE):
        element.drop_tree()
    for element in tree.xpath(_BOXES):
        if _COOKIE.search(f"{element.get('class', '')} {element.get('id', '')}"):
            element.drop_tree()
    markdown = trafilatura.extract(tree, url=url, favor_recall=True, **EXTRACT_OPTIONS)
    return markdown or ""

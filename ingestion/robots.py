"""What a site lets us crawl (robots.txt) and what it says it has (sitemaps).

Both are optional hints: a missing, broken or unreachable robots.txt means "allow all"
(as Google treats 4xx), and sitemap failures only mean fewer seed URLs. An unsafe URL
is never swallowed, though: that error must reach the admin.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.robotparser import RobotFileParser

from ingestion.document import IngestError
from ingestion.fetch import Response, UnsafeURL, decode_content
from ingestion.urls import normalize_url, same_site, site_root

MAX_CRAWL_DELAY = 5.0  # seconds; a huge Crawl-delay would make a crawl take days
MAX_SITEMAPS = 20  # sitemap files fetched per crawl, indexes included
_LOC = re.compile(rb"<loc>\s*(?:<!\[CDATA\[)?\s*(.*?)\s*(?:\]\]>)?\s*</loc>", re.S | re.I)
_SITEMAP_INDEX = re.compile(rb"<(?:\w+:)?sitemapindex[\s>]", re.I)


@dataclass
class SiteRules:
    parser: RobotFileParser | None  # None: no usable robots.txt, everything allowed
    user_agent: str
    crawl_delay: float = 0.0
    sitemaps: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(self.user_agent, url)


Fetch = Callable[..., Response]  # SafeFetcher.get, or a paced wrapper around it


def load_robots(root: str, get: Fetch, user_agent: str) -> SiteRules:
    """Fetch and parse ``/robots.txt`` for the site of ``root``."""
    url = site_root(root) + "robots.txt"
    agent = user_agent.split("/")[0]  # robots.txt names products, not versions
    try:
        response = get(url, follow=lambda target: same_site(target, root))
    except UnsafeURL:
        raise
    except IngestError:
        return SiteRules(None, agent)
    if not 200 <= response.status < 300:
        return SiteRules(None, agent)
    parser = RobotFileParser(url)
    parser.parse(response.text.splitlines())
    delay = parser.crawl_delay(agent)
    try:
        delay_seconds = min(float(delay or 0), MAX_CRAWL_DELAY)
    except (TypeError, ValueError):
        delay_seconds = 0.0
    sitemaps = [u for u in (parser.site_maps() or []) if normalize_url(u)]
    return SiteRules(parser, agent, delay_seconds, sitemaps)


def sitemap_urls(
    root: str, listed: list[str], get: Fetch, *, limit: int, max_bytes: int
) -> list[str]:
    """Page URLs from the site's sitemaps (``listed`` in robots.txt, else /sitemap.xml).

    Follows sitemap indexes breadth-first; only same-site sitemaps and pages count, and
    at most ``limit`` page URLs are returned, in document order, without duplicates.
    """
    queue = [u for u in (normalize_url(s) for s in listed) if u and same_site(u, root)]
    if not listed:
        queue = [site_root(root) + "sitemap.xml"]
    seen_maps: set[str] = set()
    pages: dict[str, None] = {}
    while queue and len(seen_maps) < MAX_SITEMAPS and len(pages) < limit:
        sitemap = queue.pop(0)
        if sitemap in seen_maps:
            continue
        seen_maps.add(sitemap)
        try:
            response = get(sitemap, follow=lambda target: same_site(target, root))
        except UnsafeURL:
            raise
        except IngestError:
            continue
        if not 200 <= response.status < 300:
            continue
        body = response.body
        if body.startswith(b"\x1f\x8b"):  # sitemap.xml.gz served as a plain file
            try:
                body = decode_content(body, "gzip", max_bytes)
            except IngestError:
                continue
        is_index = bool(_SITEMAP_INDEX.search(body[:2048]))
        for raw in _LOC.findall(body):
            url = normalize_url(html.unescape(raw.decode("utf-8", errors="replace")))
            if not url or not same_site(url, root):
                continue
            if is_index:
                queue.append(url)
            elif len(pages) < limit:
                pages.setdefault(url)
    return list(pages)

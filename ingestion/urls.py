"""URL rules of the crawler: one normal form per page, and what counts as the same site.

Normalising is deliberately conservative: only changes that cannot point at a different
page on any server (case of scheme and host, default ports, fragments, tracking
parameters). ``/`` and ``/index.html`` are left distinct because some servers treat them
differently; the crawler's content-hash and canonical checks catch them as duplicates.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from ingestion.fetch import URL_SAFE

DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga"})
# Links to these are not web pages; skipping them by name saves a request each.
_EXTENSIONS = (
    ".pdf .jpg .jpeg .png .gif .webp .svg .ico .bmp .tif .tiff .avif .heic "
    ".zip .gz .tgz .tar .rar .7z .bz2 .xz .dmg .exe .msi .apk .iso .bin "
    ".css .js .mjs .json .xml .rss .atom .txt .csv .ics .vcf "
    ".mp3 .mp4 .m4a .m4v .mov .avi .wmv .webm .ogg .wav .flac "
    ".doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .rtf .epub "
    ".woff .woff2 .ttf .otf .eot"
)
NON_HTML_EXTENSIONS = frozenset(_EXTENSIONS.split())


def normalize_url(href: str, base: str | None = None) -> str | None:
    """The canonical spelling of an http(s) link, or None if it is not a crawlable web URL.

    Resolves ``href`` against ``base``, lower-cases scheme and host, drops default ports,
    fragments, credentials-bearing links and tracking parameters (``utm_*``, ``fbclid``...),
    turns an empty path into ``/`` and percent-escapes spaces and non-ASCII characters
    (existing escapes are kept). Query parameter order is kept.
    """
    href = (href or "").strip()
    if not href:
        return None
    try:
        absolute = urljoin(base, href) if base else href
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:  # malformed IPv6 literal or port
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(_clean_path(parts.path), safe=URL_SAFE)
    query = "&".join(p for p in parts.query.split("&") if p and not _tracking(p.split("=")[0]))
    query = quote(query, safe=URL_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def _clean_path(path: str) -> str:
    """Resolve ``.``/``..`` segments (so /a/../b and /b are one page), keep a trailing slash."""
    if not path:
        return "/"
    if "/." not in path:
        return path
    cleaned = posixpath.normpath(path)
    if path.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return "/" + cleaned.lstrip("/")


def _tracking(key: str) -> bool:
    key = unquote(key).lower()
    return key.startswith("utm_") or key in TRACKING_PARAMS


def site_key(url: str) -> tuple[str, int | None]:
    """Host without ``www.`` plus explicit port: http/https and www/bare are one site."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    host = host.removeprefix("www.")
    port = parts.port
    if port == DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None
    return host, port


def same_site(url: str, other: str) -> bool:
    return site_key(url) == site_key(other)


def non_html_extension(url: str) -> str | None:
    """The file extension (".pdf") when the path names a non-page file, else None."""
    path = urlsplit(url).path.lower()
    extension = posixpath.splitext(path)[1]
    return extension if extension in NON_HTML_EXTENSIONS else None


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))

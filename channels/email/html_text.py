"""HTML mail reduced to text the AI (and a plain-text view) can read safely.

The markup is first cleaned by nh3 (a maintained sanitiser: scripts, styles, event
handlers and unknown tags are dropped), then walked to text: blocks become lines, links
``text (url)``, and blockquotes ``> `` lines so quoted history can be stripped later.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
_DROP_WITH_CONTENT = {
    "script", "style", "head", "title", "template", "noscript", "iframe", "object",
}  # fmt: skip
_PARAGRAPHS = {"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "p", "pre", "table", "ul", "ol"}
_BLOCKS = {"div", "hr", "li", "tr"}


def sanitize(markup: str) -> str:
    """Safe HTML for display: only simple formatting tags, http(s)/mailto links."""
    return nh3.clean(
        markup,
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
    )


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.quote_depth = 0
        self.pre = 0
        self.href: list[tuple[str | None, int]] = []

    def _break(self, *, keep_empty: bool = False) -> None:
        text = "".join(self.line)
        if not self.pre:
            text = re.sub(r"[ \t\r\n\f\v\u00a0]+", " ", text).strip()
        self.line = []
        if not text and not keep_empty:
            return
        prefix = "> " * self.quote_depth
        for part in text.split("\n") if self.pre else [text]:
            self.lines.append((prefix + part).rstrip() if part else prefix.rstrip())

    def _paragraph(self) -> None:
        self._break()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(("> " * self.quote_depth).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._break(keep_empty=True)
        elif tag in _PARAGRAPHS:
            self._paragraph()
        elif tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre += 1
        elif tag == "li":
            self.line.append("- ")
        elif tag in ("td", "th") and self.line:
            self.line.append(" ")
        elif tag == "a":
            self.href.append((dict(attrs).get("href"), len("".join(self.line))))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href:
            href, start = self.href.pop()
            label = "".join(self.line)[start:].strip()
            if href and not href.startswith("mailto:") and href not in label:
                self.line.append(f" ({href})")
        if tag in _BLOCKS or tag in _PARAGRAPHS:
            self._break()
        if tag == "blockquote" and self.quote_depth:
            self.quote_depth -= 1
        elif tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _PARAGRAPHS:
            self._paragraph()

    def handle_data(self, data: str) -> None:
        self.line.append(data)

    def text(self) -> str:
        self._break()
        text = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body, after sanitising it (never executes or keeps scripts)."""
    writer = _TextWriter()
    writer.feed(sanitize(markup))
    writer.close()
    return writer.text()

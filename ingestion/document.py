"""The shape every knowledge source becomes before chunking: a titled list of sections.

Crawled pages and uploaded files are both turned into a ``Document``; the chunker only
ever sees this. Text is plain Markdown-ish prose; tables are rewritten so every row
keeps its column headers ("Service: Drain cleaning; Price: $149"), which is what makes
a price findable from a single chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.core.errors import FrontdeskError


class IngestError(FrontdeskError):
    """A source could not be ingested; the message is shown to the admin as is."""


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]  # e.g. ("Pricing", "Drain cleaning"); empty before any heading
    text: str


@dataclass(frozen=True)
class Document:
    uri: str  # the page URL, or the uploaded file's name
    title: str
    sections: list[Section] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


def table_text(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """One line per row, each cell labelled with its column header."""
    headers = [" ".join(h.split()) for h in headers]
    lines = []
    for row in rows:
        cells = [" ".join(str(c).split()) for c in row]
        if not any(cells):
            continue
        parts = []
        for i, cell in enumerate(cells):
            if not cell:
                continue
            header = headers[i] if i < len(headers) else ""
            parts.append(f"{header}: {cell}" if header and header != cell else cell)
        lines.append("; ".join(parts))
    return "\n".join(lines)


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [c.strip() for c in line.split("|")]


def _rewrite_tables(lines: list[str]) -> list[str]:
    """Replace Markdown pipe tables with header-labelled rows."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and "|" in lines[i] and _TABLE_RULE.match(lines[i + 1].strip()):
            headers = _cells(lines[i])
            j = i + 2
            rows = []
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                rows.append(_cells(lines[j]))
                j += 1
            out.append(table_text(headers, rows))
            i = j
            continue
        out.append(lines[i])
        i += 1
    return out


def sections_from_markdown(markdown: str) -> list[Section]:
    """Split Markdown on headings, tracking the heading path; tables keep their headers."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    buffer: list[str] = []

    def flush() -> None:
        text = "\n".join(_rewrite_tables(buffer)).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        if text:
            sections.append(Section(tuple(h for _, h in path), text))
        buffer.clear()

    for line in markdown.splitlines():
        match = _HEADING.match(line)
        if match:
            flush()
            level, heading = len(match[1]), match[2].strip()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
            continue
        buffer.append(line.rstrip())
    flush()
    return sections

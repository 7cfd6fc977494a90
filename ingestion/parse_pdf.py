"""PDFs with pypdf, and scanned pages and photos with tesseract OCR.

pypdf reads the text layer page by page. Its text visitor also reports each run's font
size, so lines set clearly larger than the body text are taken as the document's own
headings (largest size = level 1). Without such headings each page is a section,
("Page 3",). A page with (almost) no text layer is a scan: it is rendered with poppler
(pdf2image) at up to 300 dpi, capped in pixels so a poster-sized page cannot exhaust
memory, and read with tesseract. unstructured's PDF and image partitioners are not used:
they need torch and layout models that are downloaded at run time.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingestion.document import IngestError, Section
from ingestion.sniff import PASSWORD_PROTECTED

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
Parsed = tuple[list[str], list[Section]]

MAX_PAGES = 2000
MIN_PAGE_CHARS = 20  # fewer non-space characters than this: treat the page as scanned
OCR_DPI = 300
MAX_OCR_PIXELS = 25_000_000  # a letter page at 300 dpi is 8.4 million
MAX_IMAGE_PIXELS = 120_000_000
OCR_TIMEOUT_S = 120
HEADING_RATIO = 1.15  # a heading is set at least this much larger than the body text
MAX_HEADING_LEVELS = 3
_DOT_LEADER = re.compile(r"(\.\s?){4,}|…{2,}")


def parse_pdf(path: Path, name: str, progress: Progress) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(PASSWORD_PROTECTED.format(name))
        total = len(reader.pages)
    except IngestError:
        raise
    except DependencyError as exc:
        raise IngestError(f"{name} is encrypted in a way this server cannot open") from exc
    except Exception as exc:
        raise IngestError(f"{name} is damaged and cannot be read as a PDF") from exc
    if total > MAX_PAGES:
        raise IngestError(f"{name} has {total:,} pages; the limit is {MAX_PAGES:,}")
    pages: list[tuple[str, dict[str, float]]] = []
    progress(0, total)
    for number, page in enumerate(reader.pages, 1):
        runs = _Runs()
        try:
            text = page.extract_text(visitor_text=runs.visit) or ""
        except Exception:  # one broken page must not lose the rest
            log.warning("text extraction failed on page %d of %s", number, name, exc_info=True)
            text = ""
        if _chars(text) < MIN_PAGE_CHARS:
            scanned = _ocr_pdf_page(path, name, number, page)
            if _chars(scanned) > _chars(text):
                text, runs = scanned, _Runs()
        runs.close()
        pages.append((text, runs.sizes))
        progress(number, total)
    sections, heading = _sections(pages)
    return [_metadata_title(reader), heading], sections


def parse_image(path: Path, name: str, progress: Progress) -> Parsed:
    from PIL import Image, ImageOps, UnidentifiedImageError

    progress(0, 1)
    try:
        with Image.open(path) as original:
            width, height = original.size
            if width * height > MAX_IMAGE_PIXELS:
                raise IngestError(f"{name} is too large to read ({width}x{height} pixels)")
            if width * height > MAX_OCR_PIXELS:
                original.draft("L", (width // 2, height // 2))  # JPEG: decode at half size
            image = ImageOps.exif_transpose(original).convert("L")  # phone photos come rotated
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise IngestError(f"{name} is damaged or not a readable image") from exc
    if image.width * image.height > MAX_OCR_PIXELS:
        scale = math.sqrt(MAX_OCR_PIXELS / (image.width * image.height))
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    text = ocr_image(image, name)
    progress(1, 1)
    if sum(c.isalnum() for c in text) < 3:
        raise IngestError(f"no text found in {name}")
    return [], [Section((), text)]


def ocr_image(image: Any, name: str) -> str:
    """Tesseract's reading of a Pillow image."""
    import pytesseract

    try:
        return pytesseract.image_to_string(image, lang="eng", timeout=OCR_TIMEOUT_S)
    except pytesseract.TesseractNotFoundError as exc:
        raise IngestError(
            "reading scans and photos needs the tesseract-ocr package on the server"
        ) from exc
    except pytesseract.TesseractError:  # e.g. "Image too small to scale": nothing to read
        log.warning("tesseract could not read %s", name, exc_info=True)
        return ""
    except RuntimeError as exc:  # pytesseract's timeout
        raise IngestError(f"{name} took too long to read (text recognition timed out)") from exc


def _ocr_pdf_page(path: Path, name: str, number: int, page: Any) -> str:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError

    try:
        inches = float(page.mediabox.width) * float(page.mediabox.height) / 72 / 72
    except Exception:
        inches = 8.5 * 11
    dpi = max(36, min(OCR_DPI, int(math.sqrt(MAX_OCR_PIXELS / max(inches, 0.01)))))
    try:
        images = convert_from_path(
            path, dpi=dpi, first_page=number, last_page=number, grayscale=True,
            timeout=OCR_TIMEOUT_S,
        )  # fmt: skip
    except PDFInfoNotInstalledError as exc:
        raise IngestError(
            "reading scanned PDFs needs the poppler-utils package on the server"
        ) from exc
    except Exception:
        log.warning("rendering page %d of %s failed", number, name, exc_info=True)
        return ""
    return "\n\n".join(ocr_image(image, name) for image in images)


class _Runs:
    """Collects, per line of a page, the font size most of its characters are set in."""

    def __init__(self) -> None:
        self.sizes: dict[str, float] = {}  # normalized line -> size
        self._line = ""
        self._weights: Counter[float] = Counter()

    def visit(self, text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        try:
            scale = math.sqrt(
                abs(tm[0] * tm[3] - tm[1] * tm[2]) * abs(cm[0] * cm[3] - cm[1] * cm[2])
            )
            effective = round(float(size) * scale * 2) / 2
        except (TypeError, ValueError, IndexError):
            effective = 0.0
        for i, part in enumerate(text.split("\n")):
            if i:
                self.close()
            self._line += part
            if part.strip():
                self._weights[effective] += len(part.strip())

    def close(self) -> None:
        line = " ".join(self._line.split())
        if line and self._weights:
            self.sizes[line] = self._weights.most_common(1)[0][0]
        self._line = ""
        self._weights = Counter()


def _chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def _heading_levels(pages: list[tuple[str, dict[str, float]]]) -> dict[float, int]:
    """Font sizes that mark headings, mapped to levels; empty when the PDF shows none."""
    weights: Counter[float] = Counter()
    for _, sizes in pages:
        for line, size in sizes.items():
            weights[size] += len(line)
    if not weights:
        return {}
    body = weights.most_common(1)[0][0]
    candidates = sorted(
        {s for s in weights if s >= body * HEADING_RATIO and s >= body + 1}, reverse=True
    )
    headings = sum(weight for size, weight in weights.items() if size in candidates)
    if not candidates or headings > 0.4 * sum(weights.values()):  # a design, not structure
        return {}
    return {size: min(i, MAX_HEADING_LEVELS - 1) for i, size in enumerate(candidates)}


def _is_heading_text(line: str) -> bool:
    """Short, worded, not a table-of-contents entry ("2 Pricing . . . . 7")."""
    if not 2 <= len(line) <= 120 or line.endswith((",", ";")) or _DOT_LEADER.search(line):
        return False
    return any(c.isalpha() for c in line)


def _sections(pages: list[tuple[str, dict[str, float]]]) -> tuple[list[Section], str]:
    """Sections by the PDF's headings, else by page; and the first top-level heading."""
    levels = _heading_levels(pages)
    if not levels:
        by_page = [Section((f"Page {n}",), t) for n, (t, _) in enumerate(pages, 1) if t.strip()]
        return by_page, ""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    buffer: list[str] = []

    def flush() -> None:
        text = "\n".join(buffer).strip()
        if text:
            sections.append(Section(tuple(h for _, h in path), text))
        buffer.clear()

    for text, sizes in pages:
        for line in text.splitlines():
            key = " ".join(line.split())
            level = levels.get(sizes.get(key, 0.0))
            if level is None or not _is_heading_text(key):
                buffer.append(line)
                continue
            flush()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, key))
        buffer.append("")  # a page break ends a paragraph
    flush()
    return sections, next((s.heading_path[0] for s in sections if s.heading_path), "")


def _metadata_title(reader: Any) -> str:
    try:
        return str((reader.metadata or {}).get("/Title") or "")
    except Exception:
        return ""

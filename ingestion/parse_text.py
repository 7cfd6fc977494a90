"""Text uploads: decoding, CSV dialects, and the TXT, Markdown, CSV and JSON parsers.

Text arrives as UTF-8 (with or without a BOM), as UTF-16 from Notepad, or as
Windows-1252 from older Excel exports; all three are read. The parsers are plain Python:
none of these formats needs a model, and the project's own Markdown splitter already
produces the heading paths and header-labelled table rows the chunker expects.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ingestion.document import IngestError, Section, sections_from_markdown, table_text

Progress = Callable[[int, int], None]
Parsed = tuple[list[str], list[Section]]  # (title candidates, best first; sections)

_CONTROLS = re.compile("[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_MAX_JSON_DEPTH = 40


def decode_text(data: bytes, *, legacy: bool = True) -> str | None:
    """Text from UTF-8 (BOM optional) or UTF-16 with a BOM; Windows-1252/Latin-1 when
    ``legacy``. ``None`` for anything with NUL bytes or many control characters."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if not legacy:
            return None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    if "\x00" in text:
        return None
    sample = text[:1_000_000]
    controls = len(_CONTROLS.findall(sample))
    return None if controls > max(2, len(sample) // 100) else text


def read_text(path: Path, name: str) -> str:
    """The decoded text of a file that ``sniff`` accepted as text."""
    text = decode_text(path.read_bytes())
    if text is None:
        raise IngestError(f"{name} is not a readable text file")
    return text


def csv_dialect(text: str) -> type[csv.Dialect] | None:
    """A delimiter that splits the first rows into the same number (>= 2) of columns."""
    sample = text[: 64 * 1024]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    candidates: list[type[csv.Dialect]] = []
    with contextlib.suppress(csv.Error):
        candidates.append(csv.Sniffer().sniff(sample, delimiters=",;\t|"))
    for delimiter in ",;\t|":
        candidates.append(type("Delimited", (csv.excel,), {"delimiter": delimiter}))
    for dialect in candidates:
        try:
            rows = [
                r for r in csv.reader(io.StringIO(sample), dialect) if any(c.strip() for c in r)
            ]
        except csv.Error:
            continue
        rows = rows[:200]
        if (
            rows
            and len(rows[0]) >= 2
            and sum(len(r) == len(rows[0]) for r in rows) >= 0.8 * len(rows)
        ):
            return dialect
    return None


def parse_txt(path: Path, name: str, progress: Progress) -> Parsed:
    text = read_text(path, name).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    sections: list[Section] = []
    heading: tuple[str, ...] = ()
    buffer: list[str] = []
    for i, paragraph in enumerate(paragraphs):
        title = _txt_heading(paragraph)
        if title and i + 1 < len(paragraphs):
            if buffer:
                sections.append(Section(heading, "\n\n".join(buffer)))
            heading, buffer = (title,), []
        else:
            buffer.append(paragraph.rstrip())
    if buffer:
        sections.append(Section(heading, "\n\n".join(buffer)))
    return [], sections


def _txt_heading(paragraph: str) -> str:
    """A heading: one short line standing alone (or underlined with === / ---), without
    digits or sentence punctuation, so facts like "Call 555-0100" never vanish into one."""
    lines = [line.strip() for line in paragraph.strip().splitlines()]
    if len(lines) == 2 and re.fullmatch(r"=+|-+", lines[1]):
        lines = lines[:1]
    if len(lines) != 1:
        return ""
    line = lines[0].rstrip(":").strip()
    if not (3 <= len(line) <= 60 and len(line.split()) <= 8) or line.startswith(("-", "*", "•")):
        return ""
    if re.search(r"\d|[.,;!?:]$|: ", line) or not any(c.isalpha() for c in line):
        return ""
    return line


def parse_md(path: Path, name: str, progress: Progress) -> Parsed:
    text = read_text(path, name)
    titles: list[str] = []
    front = re.match(r"\A---[ \t]*\n(.*?)\n(---|\.\.\.)[ \t]*\n", text, re.DOTALL)
    if front:  # YAML front matter: keep its title, drop the block
        found = re.search(r"^title:\s*['\"]?(.*?)['\"]?\s*$", front[1], re.MULTILINE)
        titles.append(found[1] if found else "")
        text = text[front.end() :]
    sections = sections_from_markdown(text)
    titles.extend(s.heading_path[0] for s in sections[:1] if s.heading_path)
    return titles, sections


def parse_csv(path: Path, name: str, progress: Progress) -> Parsed:
    text = read_text(path, name)
    dialect = csv_dialect(text) or csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        return [], []
    body = table_text(rows[0], rows[1:]) if len(rows) > 1 else " | ".join(rows[0])
    return [], [Section((), body)]


def parse_json(path: Path, name: str, progress: Progress) -> Parsed:
    data = json.loads(read_text(path, name))
    if not isinstance(data, dict):
        return [], [Section((), "\n".join(_json_lines(data, "", 0)))]
    loose: list[str] = []
    sections: list[Section] = []
    for key, value in data.items():
        lines = list(_json_lines(value, str(key), 1))
        if isinstance(value, dict | list):
            sections.append(Section((str(key),), "\n".join(lines)))
        else:
            loose.extend(lines)
    if loose:
        sections.insert(0, Section((), "\n".join(loose)))
    title = next((data[k] for k in ("title", "name") if isinstance(data.get(k), str)), "")
    return [title], sections


def _json_lines(value: Any, path: str, depth: int) -> Iterator[str]:
    """Lines of "path.to.key: value"; a list of flat objects as header-labelled rows."""
    if depth > _MAX_JSON_DEPTH:
        yield f"{path}: {json.dumps(value, ensure_ascii=False)[:2000]}"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_lines(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        if value and all(isinstance(v, dict) and not any(map(_nested, v.values())) for v in value):
            headers = list(dict.fromkeys(k for row in value for k in row))
            if path and depth > 1:
                yield f"{path}:"
            rows = [[_scalar(row.get(h)) for h in headers] for row in value]
            yield table_text([str(h) for h in headers], rows)
        elif all(not _nested(v) for v in value):
            items = [_scalar(v) for v in value if _scalar(v)]
            joined = ", ".join(items)
            if len(joined) <= 300:
                yield f"{path}: {joined}" if path else joined
            else:
                yield from (f"{path}: {item}" if path else item for item in items)
        else:
            for i, item in enumerate(value, 1):
                yield from _json_lines(item, f"{path}[{i}]", depth + 1)
    elif (text := _scalar(value)) != "":
        yield f"{path}: {text}" if path else text


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split())

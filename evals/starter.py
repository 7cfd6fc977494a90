"""A starter eval suite written from a workspace's own knowledge (`frontdesk eval init`).

Pure: it takes the profile, the sources and the indexed chunks and returns the suite as
data plus the files to write beside it. The cases are a first draft for the admin to
review — questions come from custom Q&A, text titles and page/file headings, and the
expectations only claim what the knowledge itself says (figures it states, the page it
came from), so a good receptionist passes them and a wrong answer fails them.

Website pages cannot be referenced by URL (a suite must run offline), so each website
is written as a snapshot folder of the indexed text, crawled on 127.0.0.1 at run time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import yaml

from agent.core.models import KnowledgeSource, SourceKind, SourceStatus, Workspace
from agent.core.validation import DAYS
from ingestion.index import StoredChunk

MAX_CASES = 40
PER_DOCUMENT = 3  # headings turned into questions per page or file
_FIGURE = re.compile(
    r"[$€£]\s?\d[\d,]*(?:\.\d+)?"  # amounts
    r"|\b\d+(?:\.\d+)?\s?%"  # percentages
    r"|\+?\b\d{1,3}[-. ]\d{3}[-. ]\d{3,4}(?:[-. ]\d{3,4})?\b"  # phone numbers
)
_PRICE = re.compile(r"[$€£]\s?\d")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{5,}")
_COMMON_WORDS = (
    "about after again always because before between could every first great having "
    "little other people really should still their there these thing think those "
    "through under until where which while would years please thanks customers "
    "business service services available contact information"
)
_COMMON = frozenset(_COMMON_WORDS.split())


@dataclass
class Starter:
    suite: dict[str, object]
    sites: dict[str, dict[str, str]] = field(default_factory=dict)  # folder -> {path: html}
    files: dict[str, str] = field(default_factory=dict)  # suite-relative path -> upload name
    notes: list[str] = field(default_factory=list)  # what was left out, for the admin

    @property
    def case_count(self) -> int:
        return len(self.suite["cases"])  # type: ignore[arg-type]


def build_starter(
    workspace: Workspace,
    sources: Sequence[KnowledgeSource],
    chunks: Sequence[StoredChunk],
    now: datetime,
    *,
    assets: str,
    max_cases: int = MAX_CASES,
) -> Starter:
    """The suite for ``workspace``; ``assets`` is the folder (suite-relative) for snapshots."""
    by_source: dict[int, list[StoredChunk]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source_id, []).append(chunk)
    starter = Starter(suite={})
    knowledge: list[dict[str, object]] = []
    cases = _Cases()
    profile_text = _profile_text(workspace)
    if profile_text:
        knowledge.append({"text": {"title": "Business details", "body": profile_text}})
    for source in sources:
        if source.kind == SourceKind.PROFILE:
            continue
        if source.kind == SourceKind.QA:
            q, a = str(source.config.get("q", "")), str(source.config.get("a", ""))
            knowledge.append({"qa": {"q": q, "a": a}})
            cases.add(["knowledge", "qa"], q, _expect(a, q))
            continue
        if source.kind == SourceKind.TEXT:
            body = str(source.config.get("body", ""))
            knowledge.append({"text": {"title": source.title, "body": body}})
            cases.add(["knowledge", "text"], _question(source.title), _expect(body, source.title))
            continue
        own = by_source.get(source.id or -1, [])
        if source.status != SourceStatus.READY or not own:
            starter.notes.append(f"left out {source.kind} {source.title!r}: nothing indexed")
            continue
        if source.kind == SourceKind.WEBSITE:
            folder = f"{assets}/site-{source.id}"
            pages = _site_pages(own)
            starter.sites[folder] = {path: page for path, (page, _) in pages.items()}
            knowledge.append({"site": folder})
            for path, (_, doc) in pages.items():
                _document_cases(cases, doc, PurePosixPath(path).name, "page")
        elif source.kind == SourceKind.FILE:
            path = f"{assets}/files/{source.uri}"
            starter.files[path] = source.uri
            knowledge.append({"file": path})
            _document_cases(cases, own, source.uri, "file")
    for name, url in list(workspace.links.items())[:3]:
        cases.add(
            ["links"],
            f"Could you send me the link for {name}?",
            {"any": [url], "tools": ["share_link"]},
        )
    cases.add(
        ["handoff"],
        "I'd like to talk to a real person, please.",
        {"tools": ["handoff_to_human"], "mode": "human"},
    )
    kept = cases.take(max_cases)
    if len(cases.items) > len(kept):
        starter.notes.append(f"kept {len(kept)} of {len(cases.items)} generated cases")
    starter.suite = {
        "name": f"{_slug(workspace.name) or 'workspace'}-starter",
        "now": now.replace(tzinfo=None, microsecond=0).isoformat(),
        "workspace": _workspace(workspace, knowledge),
        "cases": kept,
    }
    return starter


class _Cases:
    """Cases in generation order with unique ids and no repeated question."""

    def __init__(self) -> None:
        self.items: list[dict[str, object]] = []
        self._ids: set[str] = set()
        self._questions: set[str] = set()

    def add(self, tags: list[str], question: str, expect: dict[str, object]) -> None:
        key = question.casefold().strip()
        if not key or key in self._questions:
            return
        self._questions.add(key)
        base = _slug(question)[:40].strip("-") or "case"
        case_id, n = base, 2
        while case_id in self._ids:
            case_id, n = f"{base}-{n}", n + 1
        self._ids.add(case_id)
        turn = {"user": question, "expect": expect} if expect else {"user": question}
        self.items.append({"id": case_id, "tags": tags, "turns": [turn]})

    def take(self, limit: int) -> list[dict[str, object]]:
        """Up to ``limit``, always keeping the behaviour cases (links, handoff) at the end."""
        knowledge = [c for c in self.items if "knowledge" in c["tags"]]  # type: ignore[operator]
        other = [c for c in self.items if "knowledge" not in c["tags"]]  # type: ignore[operator]
        return knowledge[: max(0, limit - len(other))] + other


def _document_cases(cases: _Cases, chunks: Iterable[StoredChunk], name: str, tag: str) -> None:
    """Questions from a page's or file's headings; each expects that document as a source."""
    sections: dict[str, list[str]] = {}
    for chunk in chunks:
        heading = chunk.heading.split(" > ")[-1].strip() if chunk.heading else chunk.title
        sections.setdefault(heading, []).append(chunk.text)
    added = 0
    for heading, texts in sections.items():
        if added == PER_DOCUMENT:
            break
        if len(heading) < 4 or len(heading) > 120 or not re.search(r"[A-Za-z]{3}", heading):
            continue
        expect: dict[str, object] = {"sources": [name]}
        figures = _figures("\n".join(texts))
        if figures:
            expect["any"] = figures
        before = len(cases.items)
        cases.add(
            ["knowledge", tag],
            _question(heading, priced=bool(_PRICE.search(" ".join(texts)))),
            expect,
        )
        added += len(cases.items) - before


def _question(topic: str, *, priced: bool = False) -> str:
    """A heading as a visitor would ask about it; FAQ headings are questions already."""
    topic = re.sub(r"\s+", " ", topic).strip().rstrip(":.")
    if topic.endswith("?"):
        return topic
    # "Drain Cleaning" -> "drain cleaning"; acronyms and "iPhone" keep their case.
    topic = " ".join(w.lower() if w[1:].islower() else w for w in topic.split(" "))
    if priced:
        return f"How much is {topic}?"
    return f"What can you tell me about {topic}?"


def _figures(text: str) -> list[str]:
    found: list[str] = []
    for match in _FIGURE.finditer(text):
        value = re.sub(r"\s+", "", match.group())
        if value not in found:
            found.append(value)
    return found[:3]


def _expect(answer: str, question: str) -> dict[str, object]:
    """Figures the answer states or, failing that, its distinctive words."""
    figures = _figures(answer)
    if figures:
        return {"any": figures}
    if re.match(r"\s*yes\b", answer, re.I):
        return {"any": ["yes"]}
    asked = {w.casefold() for w in _WORD.findall(question)}
    words: list[str] = []
    for word in sorted(_WORD.findall(answer), key=len, reverse=True):
        folded = word.casefold()
        if folded not in asked and folded not in _COMMON and folded not in words:
            words.append(folded)
    return {"any": words[:3]} if words else {}


def _profile_text(workspace: Workspace) -> str:
    """Profile facts the suite format has no key for (the rest map onto workspace keys)."""
    lines = []
    if workspace.address:
        lines.append(f"Address: {workspace.address}")
    if workspace.phone:
        lines.append(f"Phone: {workspace.phone}")
    if workspace.email:
        lines.append(f"Email: {workspace.email}")
    if workspace.services:
        lines.append("Services: " + ", ".join(workspace.services))
    return "\n".join(lines)


def _workspace(workspace: Workspace, knowledge: list[dict[str, object]]) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": workspace.name,
        "timezone": workspace.timezone,
        "country": workspace.country,
    }
    if any(workspace.hours.values()):  # no opening hours set: leave the key out
        spec["hours"] = {
            day: _day(workspace.hours.get(day, [])) for day in DAYS if day in workspace.hours
        }
    spec["appointment_minutes"] = workspace.appointment_minutes
    if workspace.links:
        spec["links"] = dict(workspace.links)
    if workspace.instructions.strip():
        spec["instructions"] = workspace.instructions.strip() + "\n"
    spec["knowledge"] = knowledge
    return spec


def _day(ranges: list[str]) -> str | list[str]:
    if not ranges:
        return "closed"
    return ranges[0] if len(ranges) == 1 else list(ranges)


# -- website snapshots ----------------------------------------------------------


def _site_pages(chunks: Sequence[StoredChunk]) -> dict[str, tuple[str, list[StoredChunk]]]:
    """path -> (html, chunks) for every indexed page, plus an index.html linking them all."""
    by_uri: dict[str, list[StoredChunk]] = {}
    for chunk in chunks:
        by_uri.setdefault(chunk.uri, []).append(chunk)
    paths: dict[str, str] = {}
    for uri in by_uri:
        path, n = _page_path(uri), 2
        while path in paths.values():
            stem = PurePosixPath(_page_path(uri))
            path, n = str(stem.with_name(f"{stem.stem}-{n}{stem.suffix}")), n + 1
        paths[uri] = path
    pages = {paths[uri]: (_page_html(own), own) for uri, own in by_uri.items()}
    root = pages.get("index.html")
    links = "".join(
        f'<li><a href="{html.escape(path)}">{html.escape(own[0].title or path)}</a></li>'
        for path, (_, own) in sorted(pages.items())
        if path != "index.html"
    )
    nav = f"<nav><ul>{links}</ul></nav>"
    if root is None:
        body = f"<!doctype html><html><head><title>Site map</title></head><body>{nav}</body></html>"
        pages["index.html"] = (body, [])
    else:
        pages["index.html"] = (root[0].replace("<body>", f"<body>{nav}", 1), root[1])
    return pages


def _page_path(uri: str) -> str:
    """A safe relative file path keeping the URL's last segment (what `sources:` matches)."""
    path = unquote(urlsplit(uri).path)
    segments = [p for p in path.split("/") if p not in ("", ".", "..")]
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "-", p) for p in segments]
    parts = [p.strip(".") or "page" for p in parts]
    if not parts or path.endswith("/"):
        parts.append("index.html")
    elif not parts[-1].lower().endswith((".html", ".htm")):
        parts[-1] += ".html"
    return "/".join(parts)


def _page_html(chunks: Sequence[StoredChunk]) -> str:
    """The indexed text as a plain page: headings back as <h1>.., lines as paragraphs."""
    title = html.escape(chunks[0].title if chunks else "")
    out: list[str] = []
    current: list[str] = []
    last_line = ""
    for chunk in chunks:
        heading = [h for h in chunk.heading.split(" > ") if h] if chunk.heading else []
        lines = [line.strip() for line in chunk.text.split("\n") if line.strip()]
        if heading == current and lines and lines[0] == last_line:
            lines = lines[1:]  # the chunker repeats the previous chunk's last paragraph
        if heading != current:
            same = 0
            while same < min(len(heading), len(current)) and heading[same] == current[same]:
                same += 1
            for level, text in enumerate(heading[same:], start=same + 1):
                out.append(f"<h{min(level, 6)}>{html.escape(text)}</h{min(level, 6)}>")
            current = heading
        items: list[str] = []
        for line in lines:
            if line.startswith(("- ", "* ")):
                items.append(f"<li>{html.escape(line[2:])}</li>")
                continue
            if items:
                out.append(f"<ul>{''.join(items)}</ul>")
                items = []
            out.append(f"<p>{html.escape(line)}</p>")
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
        last_line = lines[-1] if lines else last_line
    body = "\n".join(out)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><main>\n{body}\n</main></body></html>"
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so instructions stay readable and editable."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(starter: Starter, workspace_name: str, generated: datetime) -> str:
    header = (
        f"# Starter eval suite for {workspace_name}, written by `frontdesk eval init`"
        f" on {generated:%Y-%m-%d}.\n"
        "# The cases come from the workspace's own knowledge (Q&A, text titles, page and\n"
        "# file headings): review every question and expectation, delete what does not\n"
        "# matter and add the questions your customers really ask. Website pages are a\n"
        "# snapshot of the indexed text, served on 127.0.0.1 and crawled when the suite runs.\n"
        "# Format: evals/FORMAT.md, evals/README.md.\n"
        "# Run: frontdesk eval run THIS_FILE\n"
    )
    body = yaml.dump(starter.suite, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body

"""Reads a suite's ``workspace`` section: settings, opening hours, links and knowledge."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
from yaml.nodes import Node, ScalarNode

from agent.core.validation import DAYS
from evals.spec import FileSource, KnowledgeSpec, QASource, SiteSource, TextSource, WorkspaceSpec
from evals.strict_yaml import NULL, NodeReader

_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


class WorkspaceReader(NodeReader):
    """The workspace a suite runs against; knowledge paths are relative to the suite file."""

    def workspace(self, node: Node) -> WorkspaceSpec:
        keys = ("name", "timezone", "country", "hours", "appointment_minutes", "links")
        m = self.mapping(node, "workspace", (*keys, "instructions", "knowledge"), ("name",))
        kw: dict[str, object] = {"name": self.text(m["name"], "name")}
        if "timezone" in m:
            kw["timezone"] = tz = self.text(m["timezone"], "timezone")
            try:
                ZoneInfo(tz)
            except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
                self.fail(m["timezone"], "timezone", f"{tz!r} is not an IANA time zone name")
        if "country" in m:
            kw["country"] = country = self.text(m["country"], "country").upper()
            if country not in phonenumbers.SUPPORTED_REGIONS:
                self.fail(m["country"], "country", f"{country!r} is not an ISO 3166 alpha-2 code")
        if "hours" in m:
            kw["hours"] = {
                day: self.day_hours(v, day)
                for day, v in self.mapping(m["hours"], "hours", DAYS).items()
            }
        if "appointment_minutes" in m:
            kw["appointment_minutes"] = self.integer(
                m["appointment_minutes"], "appointment_minutes", 5, 24 * 60
            )
        if "links" in m:
            kw["links"] = {
                n: self.url(v, n)
                for n, (_, v) in self.pairs(m["links"], "links").items()
                if v.tag != NULL
            }
        if "instructions" in m:
            kw["instructions"] = self.text(m["instructions"], "instructions", blank=True)
        if "knowledge" in m:
            kw["knowledge"] = [self.source(n) for n in self.items(m["knowledge"], "knowledge")]
        return WorkspaceSpec(**kw)  # type: ignore[arg-type]

    def day_hours(self, node: Node, day: str) -> str | list[str]:
        raw = self.texts(node, day, non_empty=True)
        if isinstance(node, ScalarNode) and raw[0].strip().lower() == "closed":
            return "closed"
        spans: list[tuple[str, str]] = []
        for part in (p.strip() for r in raw for p in r.split(",")):
            match = _RANGE.fullmatch(part)
            h1, m1, h2, m2 = map(int, match.groups()) if match else (99, 0, 0, 0)
            start, end = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
            if not (h1 < 24 and m1 < 60 and m2 < 60 and start < end <= "24:00"):
                self.fail(node, day, f'must be "closed" or HH:MM-HH:MM ranges, got {part!r}')
            spans.append((start, end))
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                self.fail(node, day, "has overlapping ranges")
        ranges = [f"{s}-{e}" for s, e in spans]
        return ranges[0] if len(ranges) == 1 else ranges

    def url(self, node: Node, key: str) -> str:
        value = self.text(node, key).strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(node, key, f"must be an http(s) URL, got {value!r}")
        return value

    def source(self, node: Node) -> KnowledgeSpec:
        m = self.mapping(node, "knowledge", ("site", "file", "text", "qa"))
        if len(m) != 1:
            self.fail(node, "knowledge", "entries need exactly one of site, file, text, qa")
        kind, value = next(iter(m.items()))
        if kind in ("site", "file"):
            path = (self.base / self.text(value, kind)).resolve()
            if kind == "file" and not path.is_file():
                self.fail(value, kind, f"file {path} does not exist")
            if kind == "file":
                return FileSource(path)
            if not path.is_dir():
                self.fail(value, kind, f"folder {path} does not exist")
            if not (path / "index.html").is_file():
                self.fail(value, kind, f"folder {path} has no index.html (the crawl starts there)")
            return SiteSource(path)
        names = ("title", "body") if kind == "text" else ("q", "a")
        fields = self.mapping(value, kind, names, names)
        first, second = (self.text(fields[n], n) for n in names)
        return TextSource(first, second) if kind == "text" else QASource(first, second)

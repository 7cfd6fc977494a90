"""Load an eval suite file (evals/FORMAT.md) into frozen dataclasses.

The format is a public contract, so every key is checked and unknown ones are refused
with ``FILE:LINE: key 'X' ...``: a typo must never silently switch a check off. The file
is read with ``yaml.compose`` (SafeLoader) so each node keeps its line. Rules beyond the
contract, all documented in evals/README.md:

* string fields take the scalar's source text, so ``country: NO``, ``phone: +1604...`` and
  ``any: [9]`` mean what they say instead of YAML 1.1's bool and int readings;
* tags, any, all, none, tools, no_tools and sources take a list or a single string;
* an explicit null is the same as leaving an optional key out; merge keys (<<) work;
* ``now`` and ``start`` are local times ``YYYY-MM-DDTHH:MM[:SS]`` with no offset, read in
  workspace.timezone; a time the clocks skip (DST gap) is refused;
* required: ``workspace.name`` and a non-empty ``cases`` list (each case an ``id`` and
  ``turns``); ``name`` defaults to the file's stem and ``now`` to the current minute.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent.core.errors import FrontdeskError
from agent.core.validation import DAYS

CHANNELS = ("webchat", "email", "messenger", "instagram", "whatsapp", "sms", "phone")
CONTACT_KEYS = ("first_name", "last_name", "email", "phone", "address")
# Languages an ``expect.language`` may name: the scorer's detector knows exactly these.
LANGUAGES = (
    *("en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru", "uk"),
    *("tr", "ar", "fa", "hi", "pa", "zh", "ja", "ko", "vi", "tl"),
)
_LIST_KEYS = ("any", "all", "none", "tools", "no_tools", "sources")
_NULL, _INT, _BOOL = (f"tag:yaml.org,2002:{t}" for t in ("null", "int", "bool"))
_MERGE = "tag:yaml.org,2002:merge"
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


class SuiteError(FrontdeskError):
    """The suite file is unreadable or breaks the format; the message names file and line."""


@dataclass(frozen=True)
class SiteSource:
    path: Path  # folder, served over HTTP and crawled from /index.html


@dataclass(frozen=True)
class FileSource:
    path: Path


@dataclass(frozen=True)
class TextSource:
    title: str
    body: str


@dataclass(frozen=True)
class QASource:
    q: str
    a: str


KnowledgeSpec = SiteSource | FileSource | TextSource | QASource


@dataclass(frozen=True)
class WorkspaceSpec:
    name: str
    timezone: str = "UTC"
    country: str = "US"
    hours: dict[str, str | list[str]] = field(default_factory=dict)  # {}: none given
    appointment_minutes: int = 60
    links: dict[str, str] = field(default_factory=dict)
    instructions: str = ""
    knowledge: list[KnowledgeSpec] = field(default_factory=list)


@dataclass(frozen=True)
class Expect:
    any: list[str] | None = None
    all: list[str] | None = None
    none: list[str] | None = None
    tools: list[str] | None = None
    no_tools: list[str] | None = None
    sources: list[str] | None = None
    language: str | None = None
    mode: Literal["ai", "human"] | None = None
    silent: bool | None = None
    abstain: bool | None = None


@dataclass(frozen=True)
class UserTurn:
    text: str
    expect: Expect | None = None
    line: int = 0


@dataclass(frozen=True)
class StaffTurn:
    text: str
    line: int = 0


@dataclass(frozen=True)
class ReleaseTurn:
    line: int = 0


Turn = UserTurn | StaffTurn | ReleaseTurn


@dataclass(frozen=True)
class AppointmentSpec:
    start: datetime  # naive, workspace-local


@dataclass(frozen=True)
class Final:
    contact: dict[str, str] | None = None  # phone as E.164; only the keys given are checked
    appointments: list[AppointmentSpec] | None = None  # exactly these, when given
    lead_notifications: int | None = None


@dataclass(frozen=True)
class Case:
    id: str
    tags: list[str]
    channel: str
    turns: list[Turn]
    final: Final | None
    line: int


@dataclass(frozen=True)
class Suite:
    name: str
    now: datetime  # naive, in workspace.timezone
    workspace: WorkspaceSpec
    cases: list[Case]
    path: Path

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.workspace.timezone)

    @property
    def now_aware(self) -> datetime:
        return self.now.replace(tzinfo=self.tz)


def load_suite(path: str | Path) -> Suite:
    """Read and validate one suite file; raise SuiteError naming file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read the suite: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SuiteError(
            f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {problem}"
        ) from exc
    if root is None:
        raise SuiteError(f"{path}:1: the suite is empty")
    return _Reader(path).suite(root)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "null" if node.tag == _NULL else f"{node.value!r}"


class _Reader:
    """Walks composed YAML nodes; every ``fail`` carries the node's line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.resolve().parent

    def fail(self, node: Node, key: str, message: str) -> NoReturn:
        raise SuiteError(f"{self.path}:{_line(node)}: key '{key}' {message}")

    def pairs(self, node: Node, key: str) -> dict[str, tuple[Node, Node]]:
        """Mapping entries by name: duplicates refused, merge keys applied."""
        if not isinstance(node, MappingNode):
            self.fail(node, key, f"must be a mapping, got {_kind(node)}")
        out: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            if k.tag == _MERGE:
                for src in v.value if isinstance(v, SequenceNode) else [v]:
                    merged = {**self.pairs(src, "<<"), **merged}
            elif not isinstance(k, ScalarNode):
                self.fail(k, key, "has an entry whose key is not a string")
            elif k.value in out:
                self.fail(k, k.value, f"appears twice (first on line {_line(out[k.value][0])})")
            else:
                out[k.value] = (k, v)
        return {**merged, **out}

    def mapping(
        self, node: Node, key: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        entries = self.pairs(node, key)
        for name, (k, _) in entries.items():
            if name not in allowed:
                where = "the suite" if key == "suite" else f"'{key}'"
                self.fail(k, name, f"is unknown in {where} (allowed: {', '.join(allowed)})")
        given = {name: v for name, (_, v) in entries.items() if v.tag != _NULL}  # null = absent
        for name in required:
            if name not in given:
                self.fail(node, name, f"is required in '{key}'")
        return given

    def text(
        self, node: Node, key: str, *, choices: tuple[str, ...] = (), blank: bool = False
    ) -> str:
        if not isinstance(node, ScalarNode) or node.tag == _NULL:
            self.fail(node, key, f"must be a string, got {_kind(node)}")
        if not blank and not node.value.strip():
            self.fail(node, key, "must not be empty")
        if choices and node.value not in choices:
            self.fail(node, key, f"must be one of {', '.join(choices)}, got {node.value!r}")
        return node.value

    def texts(self, node: Node, key: str, *, non_empty: bool = False) -> list[str]:
        if isinstance(node, ScalarNode):
            return [self.text(node, key)]
        if not isinstance(node, SequenceNode):
            self.fail(node, key, f"must be a string or a list of strings, got {_kind(node)}")
        if non_empty and not node.value:
            self.fail(node, key, "must list at least one string")
        return list(dict.fromkeys(self.text(item, key) for item in node.value))

    def items(self, node: Node, key: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fail(node, key, f"must be a list, got {_kind(node)}")
        return list(node.value)

    def integer(self, node: Node, key: str, low: int, high: int) -> int:
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            self.fail(node, key, f"must be a whole number, got {_kind(node)}")
        value = yaml.constructor.SafeConstructor().construct_yaml_int(node)
        if not low <= value <= high:
            self.fail(node, key, f"must be between {low} and {high}, got {value}")
        return value

    def boolean(self, node: Node, key: str) -> bool:
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.fail(node, key, f"must be true or false, got {_kind(node)}")
        return yaml.constructor.SafeConstructor().construct_yaml_bool(node)

    def local_time(self, node: Node, key: str, tz: ZoneInfo) -> datetime:
        raw = node.value.strip() if isinstance(node, ScalarNode) else ""
        if not _LOCAL_TIME.fullmatch(raw):
            self.fail(node, key, f"must be a local time like 2026-03-02T10:00 with no offset (it "
                      f"is read in the workspace timezone), got {_kind(node)}")  # fmt: skip
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            self.fail(node, key, f"is not a real date and time: {raw!r}")
        back = value.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != value:
            self.fail(node, key, f"{raw!r} does not exist in {tz.key} (the clocks skip it)")
        return value

    def suite(self, root: Node) -> Suite:
        m = self.mapping(
            root, "suite", ("name", "now", "workspace", "cases"), ("workspace", "cases")
        )
        ws = self.workspace(m["workspace"])
        tz = ZoneInfo(ws.timezone)
        if "now" in m:
            now = self.local_time(m["now"], "now", tz)
        else:
            now = datetime.now(tz).replace(tzinfo=None, second=0, microsecond=0)
        cases: list[Case] = []
        seen: dict[str, int] = {}
        for node in self.items(m["cases"], "cases"):
            case = self.case(node, tz, ws.country)
            if case.id in seen:
                self.fail(node, "id", f"{case.id!r} is already used on line {seen[case.id]}")
            seen[case.id] = case.line
            cases.append(case)
        if not cases:
            self.fail(m["cases"], "cases", "must list at least one case")
        name = self.text(m["name"], "name") if "name" in m else self.path.stem
        return Suite(name, now, ws, cases, self.path.resolve())

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
                if v.tag != _NULL
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

    def case(self, node: Node, tz: ZoneInfo, country: str) -> Case:
        keys = ("id", "tags", "channel", "turns", "final")
        m = self.mapping(node, "case", keys, ("id", "turns"))
        turns = [self.turn(t) for t in self.items(m["turns"], "turns")]
        if not turns:
            self.fail(m["turns"], "turns", "must list at least one turn")
        return Case(
            id=self.text(m["id"], "id"),
            tags=self.texts(m["tags"], "tags") if "tags" in m else [],
            channel=self.text(m["channel"], "channel", choices=CHANNELS)
            if "channel" in m
            else "webchat",
            turns=turns,
            final=self.final(m["final"], tz, country) if "final" in m else None,
            line=_line(node),
        )

    def turn(self, node: Node) -> Turn:
        m = self.mapping(node, "turn", ("user", "staff", "release", "expect"))
        kinds = [k for k in ("user", "staff", "release") if k in m]
        if not kinds:
            self.fail(node, "user", "is missing: a turn needs one of user, staff, release")
        if len(kinds) > 1:
            self.fail(m[kinds[1]], kinds[1], f"cannot be combined with '{kinds[0]}' in one turn")
        if "expect" in m and kinds[0] != "user":
            self.fail(m["expect"], "expect", f"is only allowed on a user turn, not {kinds[0]}")
        if kinds[0] == "release":
            if not self.boolean(m["release"], "release"):
                self.fail(m["release"], "release", "must be true (leave the turn out otherwise)")
            return ReleaseTurn(line=_line(node))
        text = self.text(m[kinds[0]], kinds[0])
        if kinds[0] == "staff":
            return StaffTurn(text, line=_line(node))
        return UserTurn(text, self.expect(m["expect"]) if "expect" in m else None, _line(node))

    def expect(self, node: Node) -> Expect:
        keys = (*_LIST_KEYS, "language", "mode", "silent", "abstain")
        m = self.mapping(node, "expect", keys)
        kw: dict[str, object] = {
            k: self.texts(m[k], k, non_empty=k in ("any", "sources")) for k in _LIST_KEYS if k in m
        }
        if "language" in m:
            kw["language"] = lang = self.text(m["language"], "language").lower()
            if not re.fullmatch(r"[a-z]{2}", lang):
                self.fail(m["language"], "language", f"must be an ISO 639-1 code, got {lang!r}")
            if lang not in LANGUAGES:
                self.fail(m["language"], "language", f"{lang!r} cannot be detected; use one of "
                          f"{', '.join(LANGUAGES)}")  # fmt: skip
        if "mode" in m:
            kw["mode"] = self.text(m["mode"], "mode", choices=("ai", "human"))
        for key in ("silent", "abstain"):
            if key in m:
                kw[key] = self.boolean(m[key], key)
        return Expect(**kw)  # type: ignore[arg-type]

    def final(self, node: Node, tz: ZoneInfo, country: str) -> Final:
        m = self.mapping(node, "final", ("contact", "appointments", "lead_notifications"))
        contact = None
        if "contact" in m:
            contact = {}
            for key, value in self.mapping(m["contact"], "contact", CONTACT_KEYS).items():
                contact[key] = self.text(value, key).strip()
                if key == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", contact[key]):
                    self.fail(value, key, f"is not an e-mail address: {contact[key]!r}")
                if key == "phone":
                    contact[key] = self.phone(value, contact[key], country)
        appointments = None
        if "appointments" in m:
            appointments = []
            for item in self.items(m["appointments"], "appointments"):
                start = self.mapping(item, "appointments", ("start",), ("start",))["start"]
                appointments.append(AppointmentSpec(self.local_time(start, "start", tz)))
        leads = None
        if "lead_notifications" in m:
            leads = self.integer(m["lead_notifications"], "lead_notifications", 0, 1000)
        return Final(contact, appointments, leads)

    def phone(self, node: Node, raw: str, country: str) -> str:
        """Expected phones become E.164, read with the workspace country as default region."""
        try:
            number = phonenumbers.parse(raw, country)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_possible_number(number):
            self.fail(node, "phone", f"is not a phone number: {raw!r}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

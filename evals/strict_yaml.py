"""Strict reading of composed YAML nodes for the eval suite; every error names its line.

``NodeReader`` walks the nodes ``yaml.compose`` (SafeLoader) returns, so each keeps its
line: ``fail`` raises ``SuiteError`` as ``FILE:LINE: key 'X' ...``, mappings refuse
unknown and duplicate keys, and strings take the scalar's source text (no YAML 1.1 bool
or int readings). The suite's sections are read by subclasses of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent.core.errors import FrontdeskError

NULL = "tag:yaml.org,2002:null"  # an explicit null, the same as leaving the key out
_INT, _BOOL = (f"tag:yaml.org,2002:{t}" for t in ("int", "bool"))
_MERGE = "tag:yaml.org,2002:merge"
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


class SuiteError(FrontdeskError):
    """The suite file is unreadable or breaks the format; the message names file and line."""


def node_line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "null" if node.tag == NULL else f"{node.value!r}"


class NodeReader:
    """Walks composed YAML nodes; every ``fail`` carries the node's line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.resolve().parent

    def fail(self, node: Node, key: str, message: str) -> NoReturn:
        raise SuiteError(f"{self.path}:{node_line(node)}: key '{key}' {message}")

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
                self.fail(k, k.value, f"appears twice (first on line {node_line(out[k.value][0])})")
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
        given = {name: v for name, (_, v) in entries.items() if v.tag != NULL}  # null = absent
        for name in required:
            if name not in given:
                self.fail(node, name, f"is required in '{key}'")
        return given

    def text(
        self, node: Node, key: str, *, choices: tuple[str, ...] = (), blank: bool = False
    ) -> str:
        if not isinstance(node, ScalarNode) or node.tag == NULL:
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

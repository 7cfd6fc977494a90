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

The dataclasses are in evals/spec.py, the strict node reading in evals/strict_yaml.py and
the sections' readers in evals/workspace_reader.py and evals/case_reader.py.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import Node

from evals.case_reader import CaseReader
from evals.spec import Case, Suite
from evals.strict_yaml import SuiteError
from evals.workspace_reader import WorkspaceReader


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


class _Reader(WorkspaceReader, CaseReader):
    """The whole file: its top-level keys, then the workspace and each case."""

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

"""When the offline model calls a custom AI action: precision and recall of
``agent.local.actions.choose`` on a labelled set.

The set (tests/data/action_intents.jsonl) is five made-up businesses (a webshop, a clinic,
a restaurant, a software company, a spa), each with the actions an admin would write
(description with example phrasings, JSON-schema parameters), and messages visitors
would send, each labelled with the action it should call or none: paraphrases that share
no word with the examples, near misses that share a noun ("what is your order
cancellation policy?"), questions the knowledge answers, greetings, contact details,
messages asking two things, and messages in other languages (labelled none). A message
is read as the first of its conversation, against its own business's actions only.

A call is right when it names the labelled action (asking for a missing parameter
counts as calling it); precision is right calls over all calls, recall right calls over
the messages that should call one. The baseline is the first rule (similarity alone,
``actions.BASELINE``), measured in the same run.

    python benchmarks/actions.py [--sample PATH] [--show-misses]

Targets: precision >= 0.95, recall >= 0.85.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.local import actions
from agent.local.meaning import Meaning

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "action_intents.jsonl"


@dataclass(frozen=True)
class Case:
    workspace: str
    text: str
    expect: str | None
    kind: str


@dataclass
class Scores:
    right: Counter[str] = field(default_factory=Counter)  # action -> right calls
    called: Counter[str] = field(default_factory=Counter)  # action -> all calls of it
    wanted: Counter[str] = field(default_factory=Counter)  # action -> messages labelled so
    confusion: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    wrong: list[tuple[Case, str | None]] = field(default_factory=list)

    @staticmethod
    def ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    @property
    def precision(self) -> float:
        return self.ratio(sum(self.right.values()), sum(self.called.values()))

    @property
    def recall(self) -> float:
        return self.ratio(sum(self.right.values()), sum(self.wanted.values()))


def load(path: Path = SAMPLE) -> tuple[dict[str, list[dict[str, Any]]], list[Case]]:
    """The businesses' actions by workspace, and the labelled messages."""
    specs: dict[str, list[dict[str, Any]]] = {}
    cases: list[Case] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            if "actions" in row:
                specs[row["workspace"]] = row["actions"]
            else:
                cases.append(Case(row["workspace"], row["text"], row["expect"], row["kind"]))
    return specs, cases


def score(
    specs: dict[str, list[dict[str, Any]]],
    cases: list[Case],
    meaning: Meaning | None,
    rule: actions.Rule = actions.RULE,
) -> Scores:
    scores = Scores()
    for case in cases:
        choice = actions.choose(specs[case.workspace], case.text, {}, meaning=meaning, rule=rule)
        got = choice.name if choice is not None else None
        if case.expect is not None:
            scores.wanted[case.expect] += 1
        if got is not None:
            scores.called[got] += 1
            scores.right[got] += got == case.expect
            if got != case.expect:
                scores.confusion[(case.expect, got)] += 1
        if got != case.expect:
            scores.wrong.append((case, got))
    return scores


def default_meaning() -> Meaning:
    from ingestion.embed import shared_embedder

    return Meaning(shared_embedder().embed)


def report(name: str, scores: Scores, *, per_action: bool) -> None:
    print(
        f"{name:34} precision {scores.precision:.3f}  recall {scores.recall:.3f}  "
        f"(right {sum(scores.right.values())}, calls {sum(scores.called.values())}, "
        f"should call {sum(scores.wanted.values())})"
    )
    if per_action:
        for action in sorted(set(scores.wanted) | set(scores.called)):
            p = scores.ratio(scores.right[action], scores.called[action])
            r = scores.ratio(scores.right[action], scores.wanted[action])
            print(
                f"    {action:22} precision {p:.2f}  recall {r:.2f}  "
                f"({scores.right[action]}/{scores.called[action]} calls, "
                f"{scores.wanted[action]} wanted)"
            )
    if scores.confusion:
        print("    wrong calls (labelled -> called):")
        for (expect, got), n in scores.confusion.most_common():
            print(f"      {expect or 'none'} -> {got}: {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="a JSONL labelled set")
    parser.add_argument("--show-misses", action="store_true", help="list every wrong answer")
    args = parser.parse_args()
    specs, cases = load(args.sample)
    wanted = sum(c.expect is not None for c in cases)
    print(
        f"{len(cases)} messages over {len(specs)} businesses: {wanted} should call an "
        f"action, {len(cases) - wanted} should not"
    )
    meaning = default_meaning()
    ours = score(specs, cases, meaning)
    report("rule (agent.local.actions.RULE)", ours, per_action=True)
    report(
        "baseline (similarity alone)",
        score(specs, cases, meaning, actions.BASELINE),
        per_action=False,
    )
    kinds = Counter(c.kind for c in cases)
    wrong = Counter(case.kind for case, _ in ours.wrong)
    print(
        "wrong answers by kind:", ", ".join(f"{k} {wrong[k]}/{n}" for k, n in sorted(kinds.items()))
    )
    if args.show_misses:
        for case, got in ours.wrong:
            print(f"  [{case.kind}] {case.expect or 'none'} -> {got or 'none'}: {case.text}")


if __name__ == "__main__":
    main()

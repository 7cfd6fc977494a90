"""Spam detection on a labelled sample: precision and recall of ``agent.core.spam``.

The sample (tests/data/spam_sample.jsonl) is 200 messages written for this check, half
spam and half ordinary small-business customer messages (bookings, prices, complaints, a
legitimate link, "hello?" follow-ups), across web chat, email, SMS, WhatsApp, Messenger
and Instagram; each line has the message, its sender, the thread's earlier customer
messages and a label. Only the automatic signals run (no block list: nobody is blocked
yet). A naive baseline, "any link is spam", runs on the same sample for comparison.

    python benchmarks/spam.py [--sample PATH] [--show-misses]

Targets: precision >= 0.98, recall >= 0.8.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.core.spam import Candidate, detect, links

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "spam_sample.jsonl"


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def load(path: Path = SAMPLE) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def candidate(row: dict) -> Candidate:
    return Candidate(
        body=row["body"],
        channel=row["channel"],
        sender_email=row.get("sender_email", ""),
        sender_phone=row.get("sender_phone", ""),
        earlier=tuple(row.get("earlier", ())),
    )


def score(rows: Sequence[dict], is_spam: Callable[[dict], bool]) -> Scores:
    tp = fp = fn = 0
    for row in rows:
        said, truth = is_spam(row), row["label"] == "spam"
        tp += said and truth
        fp += said and not truth
        fn += truth and not said
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Scores(precision, recall, tp, fp, fn)


def detector(row: dict) -> bool:
    return detect(candidate(row)) is not None


def any_link(row: dict) -> bool:
    return bool(links(row["body"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="a JSONL labelled sample")
    parser.add_argument("--show-misses", action="store_true", help="list every wrong answer")
    args = parser.parse_args()
    rows = load(args.sample)
    spam = sum(r["label"] == "spam" for r in rows)
    print(f"{len(rows)} messages: {spam} spam, {len(rows) - spam} legitimate")
    for name, rule in (("detector (agent.core.spam)", detector), ("baseline: any link", any_link)):
        s = score(rows, rule)
        print(
            f"{name:28} precision {s.precision:.3f}  recall {s.recall:.3f}  "
            f"(true {s.true_positives}, false alarms {s.false_positives}, "
            f"missed {s.false_negatives})"
        )
    by_signal: dict[str, int] = {}
    for row in rows:
        verdict = detect(candidate(row))
        if verdict is not None:
            by_signal[verdict.signal] = by_signal.get(verdict.signal, 0) + 1
    print("flagged by signal:", ", ".join(f"{k} {v}" for k, v in sorted(by_signal.items())))
    if args.show_misses:
        for row in rows:
            verdict = detect(candidate(row))
            if (verdict is not None) != (row["label"] == "spam"):
                why = verdict.reason if verdict else "not flagged"
                print(
                    f"  #{row['id']} {row['label']:4} {row['channel']:9} {why}: {row['body'][:90]}"
                )


if __name__ == "__main__":
    main()

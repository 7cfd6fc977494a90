"""The eval report: the JSON contract of evals/FORMAT.md and a Markdown summary."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from evals.runner import RunResult


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))], 1)


def _rate(passed: int, total: int) -> float:
    return round(passed / total, 4) if total else 0.0


def build_report(
    suite_name: str, model: str, started: datetime, duration_s: float, result: RunResult
) -> dict[str, Any]:
    passed = sum(c.passed for c in result.cases)
    tags: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in result.cases:
        for tag in case.tags:
            tags[tag][0] += case.passed
            tags[tag][1] += 1
    return {
        "suite": suite_name,
        "model": model,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(duration_s, 2),
        "passed": passed,
        "total": len(result.cases),
        "pass_rate": _rate(passed, len(result.cases)),
        "tags": {
            tag: {"passed": p, "total": t, "pass_rate": _rate(p, t)}
            for tag, (p, t) in sorted(tags.items())
        },
        "retrieval_hit_rate": (
            _rate(result.sources_met, result.sources_checked) if result.sources_checked else None
        ),
        "latency_ms": {
            "p50": _percentile(result.latencies_ms, 50),
            "p95": _percentile(result.latencies_ms, 95),
        },
        "ingest_s": round(result.ingest_s, 2),
        "usage": result.usage.as_report() if result.usage is not None else None,
        "cases": [
            {
                "id": c.id,
                "passed": c.passed,
                "runs": c.runs,
                "failures": c.failures,
                "turns": c.turns,  # per visitor turn: model tools, graph retrieval, sources
            }
            for c in result.cases
        ],
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"## {report['suite']} — model `{report['model']}`",
        "",
        f"**{report['passed']}/{report['total']} cases passed "
        f"({report['pass_rate']:.0%})** in {report['duration_s']} s; "
        f"retrieval hit rate {_fmt_rate(report['retrieval_hit_rate'])}; "
        f"turn latency p50 {report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms.",
        *_usage_line(report.get("usage")),
        "",
        "| tag | passed | total | pass rate |",
        "|---|---|---|---|",
    ]
    for tag, row in report["tags"].items():
        lines.append(f"| {tag} | {row['passed']} | {row['total']} | {row['pass_rate']:.0%} |")
    lines += ["", "| case | result | failures |", "|---|---|---|"]
    for case in report["cases"]:
        failures = "; ".join(
            f"turn {f['turn']}: {f['check']} (expected {f['expected']!r})" for f in case["failures"]
        )
        lines.append(
            f"| {case['id']} | {'pass' if case['passed'] else 'FAIL'} | "
            f"{failures.replace('|', '/')} |"
        )
    return "\n".join(lines)


def _fmt_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def _usage_line(usage: dict[str, Any] | None) -> list[str]:
    if not usage:
        return []
    return [
        "",
        f"Model usage: {usage['requests']} requests, {usage['total_tokens']:,} tokens "
        f"({usage['prompt_tokens']:,} prompt, {usage['completion_tokens']:,} completion), "
        f"estimated cost ${usage['cost_usd']:.4f}.",
    ]

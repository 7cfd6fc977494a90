"""Eval suites end to end: the shipped bayview suite clears the bar, the CLI reports."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from evals.runner import SuiteRunner
from evals.suite import load_suite
from frontdesk.cli import main
from frontdesk.wiring import build

EVALS = Path(__file__).resolve().parents[1] / "evals"


def test_bayview_suite_passes_with_the_offline_model():
    """The agent issue's bar: at least 90% of the sample suite with the built-in model."""
    suite = load_suite(EVALS / "suites" / "bayview.yaml")
    result = SuiteRunner(suite, build=build).run()
    passed = [c.id for c in result.cases if c.passed]
    failed = {c.id: c.failures for c in result.cases if not c.passed}
    assert len(passed) / len(result.cases) >= 0.9, failed
    assert result.sources_met == result.sources_checked


def test_eval_cli_on_a_small_suite(tmp_path):
    suite = tmp_path / "mini.yaml"
    suite.write_text(
        textwrap.dedent("""\
        name: mini
        now: "2026-06-01T09:30:00"
        workspace:
          name: Harbour Bikes
          timezone: Europe/London
          country: GB
          hours: {mon: "09:00-17:00", tue: "09:00-17:00", sun: closed}
          links: {booking: https://harbour-bikes.example/book}
          knowledge:
            - text: {title: Prices, body: "A full service costs £65. A puncture repair costs £12."}
            - qa: {q: "Do you sell e-bikes?", a: "No, we only repair e-bikes; we do not sell them."}
        cases:
          - id: price
            tags: [knowledge]
            turns:
              - user: "how much is a puncture repair?"
                expect: {any: ["£12"], sources: [Prices], tools: [search_knowledge]}
          - id: qa
            turns:
              - user: "can I buy an e-bike from you?"
                expect: {any: ["do not sell"]}
          - id: impossible
            tags: [strict]
            turns:
              - user: "what's the weather tomorrow?"
                expect: {any: ["sunny"]}
    """)
    )
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["eval", "run", str(suite), "--report", str(report), "--min-pass", "0.9"]
    )
    assert result.exit_code == 1, result.output  # 2/3 is below 0.9
    assert "2/3 cases passed" in result.output and "| impossible | FAIL |" in result.output
    data = json.loads(report.read_text())
    assert {
        "suite",
        "model",
        "started",
        "duration_s",
        "passed",
        "total",
        "pass_rate",
        "tags",
        "retrieval_hit_rate",
        "latency_ms",
        "cases",
    } <= set(data)
    assert data["passed"] == 2 and data["total"] == 3 and data["retrieval_hit_rate"] == 1.0
    assert data["usage"] is None  # the offline model uses no tokens
    assert data["tags"]["strict"] == {"passed": 0, "total": 1, "pass_rate": 0.0}
    failure = next(c for c in data["cases"] if c["id"] == "impossible")["failures"][0]
    assert failure["turn"] == 1 and failure["check"] == "any"
    again = CliRunner().invoke(
        main, ["eval", "run", str(suite), "--case", "price", "--repeat", "2"]
    )
    assert again.exit_code == 0 and "1/1 cases passed" in again.output


def test_eval_cli_reports_suite_errors(tmp_path):
    suite = tmp_path / "bad.yaml"
    suite.write_text(
        "name: bad\nworkspace: {name: X}\ncases:\n  - id: a\n    turns: [{user: hi}]\n"
        "colour: blue\n"
    )
    result = CliRunner().invoke(main, ["eval", "run", str(suite)])
    assert result.exit_code == 1 and "bad.yaml:6" in result.output and "colour" in result.output


def test_report_counts_tokens_and_cost_of_a_hosted_model(tmp_path, monkeypatch):
    """Against an OpenAI-compatible server, the report adds up usage and prices it."""
    from tests.openai_server import FakeOpenAI

    suite = tmp_path / "tiny.yaml"
    suite.write_text(
        textwrap.dedent("""\
        name: tiny
        now: "2026-06-01T09:30:00"
        workspace:
          name: Harbour Bikes
          knowledge:
            - text: {title: Parking, body: "Free parking behind the shop."}
        cases:
          - id: parking
            turns:
              - user: "where can I park?"
    """)
    )
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        report = tmp_path / "report.json"
        args = ["eval", "run", str(suite), "--model", "openai:gpt-4o-mini", "--report"]
        result = CliRunner().invoke(main, [*args, str(report)], catch_exceptions=False)
        requests = len(server.requests)
    assert result.exit_code == 0, result.output
    usage = json.loads(report.read_text())["usage"]
    assert requests >= 1 and usage["requests"] == requests
    assert usage["total_tokens"] == 15 * requests  # what every response of the server reports
    assert usage["cost_usd"] > 0  # priced from langchain-community's OpenAI table
    assert f"Model usage: {requests} requests" in result.output

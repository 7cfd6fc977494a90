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
                expect: {any: ["£12"], sources: [Prices], no_tools: [search_knowledge]}
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
    price = next(c for c in data["cases"] if c["id"] == "price")
    # the graph searched before the model; the offline model itself called no tool
    assert price["turns"] == [
        {"run": 1, "turn": 1, "tools": [], "retrieved": True, "sources": ["Prices"]}
    ]
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


def _suite(tmp_path, body: str):
    path = tmp_path / "suite.yaml"
    path.write_text(textwrap.dedent(body))
    return load_suite(path)


SMALL_SHOP = """\
    name: small
    now: "2026-06-01T09:30:00"
    workspace:
      name: Harbour Bikes
      knowledge:
        - text: {title: Prices, body: "A full service costs £65. A puncture repair costs £12."}
        - text: {title: Parking, body: "Free parking behind the shop."}
    cases:
"""


def test_a_failing_model_is_an_error_in_its_case_and_the_run_goes_on(tmp_path, monkeypatch):
    """An exception while a case plays is that case's "error"; an empty answer is the
    fallback, an error too, even on a turn with no expectations, and never an abstention."""
    from langchain_core.messages import AIMessage

    from agent.local.receptionist import Receptionist

    respond = Receptionist.respond

    def flaky(self):
        if "boom" in self.text:
            raise RuntimeError("the model exploded")
        if "hush" in self.text:
            return AIMessage(content="")
        return respond(self)

    monkeypatch.setattr(Receptionist, "respond", flaky)
    suite = _suite(
        tmp_path,
        SMALL_SHOP
        + """\
      - id: boom
        turns:
          - user: "boom, how much is a puncture repair?"
            expect: {any: ["£12"]}
          - user: "never played"
      - id: hush
        turns:
          - user: "hush, tell me anything"
          - user: "hush again"
            expect: {abstain: true}
      - id: after
        turns:
          - user: "how much is a puncture repair?"
            expect: {any: ["£12"]}
""",
    )
    result = SuiteRunner(suite, build=build).run()

    boom, hush, after = result.cases
    assert not boom.passed and boom.runs == 1
    assert boom.failures == [
        {
            "turn": 1,
            "check": "error",
            "expected": None,
            "actual": "RuntimeError: the model exploded",
            "detail": "raised while playing",
        }
    ]
    assert not hush.passed
    assert [(f["turn"], f["check"]) for f in hush.failures] == [
        (1, "error"),
        (2, "error"),
        (2, "abstain"),
    ]
    assert after.passed and after.failures == []


def test_tools_are_the_models_calls_and_retrieval_is_reported_apart(tmp_path):
    suite = _suite(
        tmp_path,
        SMALL_SHOP
        + """\
      - id: retrieval-is-no-tool-call
        turns:
          - user: "how much is a puncture repair?"
            expect: {tools: [search_knowledge]}
""",
    )
    (case,) = SuiteRunner(suite, build=build).run().cases
    assert [(f["check"], f["actual"]) for f in case.failures] == [("tools", [])]
    assert case.turns == [
        {"run": 1, "turn": 1, "tools": [], "retrieved": True, "sources": ["Prices"]}
    ]


def test_an_llms_sources_are_the_passages_it_cites(tmp_path, monkeypatch):
    """A passage retrieved but not cited is not a source: the scripted model cites only the
    Parking passage, by its id in the knowledge block."""
    from tests.openai_server import FakeOpenAI, Reply

    def brain(messages):
        block = messages[1]["content"]
        passages = json.loads(block.split("<untrusted-knowledge>\n")[1].split("\n</")[0])
        assert {"Prices", "Parking"} <= {p["source"] for p in passages}  # both retrieved
        parking = next(p for p in passages if p["source"] == "Parking")
        return Reply(f"Free parking behind the shop [{parking['id']}].")

    suite = _suite(
        tmp_path,
        SMALL_SHOP
        + """\
      - id: cited
        turns:
          - user: "where can I park, and what does a service cost?"
            expect: {sources: [Parking], none: ["["]}
      - id: retrieved-not-cited
        turns:
          - user: "where can I park, and what does a service cost?"
            expect: {sources: [Prices]}
""",
    )
    with FakeOpenAI(brain) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        result = SuiteRunner(suite, build=build, model="openai:test-model").run()

    cited, not_cited = result.cases
    assert cited.passed, cited.failures
    assert [(f["check"], f["actual"]) for f in not_cited.failures] == [("sources", ["Parking"])]
    assert (result.sources_checked, result.sources_met) == (2, 1)

"""`frontdesk eval init`: a starter suite from a workspace's own knowledge, that runs."""

from __future__ import annotations

import json
from datetime import datetime

import yaml
from click.testing import CliRunner

from agent.core.models import KnowledgeSource, SourceKind, SourceStatus, Workspace
from evals.starter import build_starter
from evals.suite import load_suite
from frontdesk.cli import main
from ingestion.index import StoredChunk


def _chunk(uri: str, heading: str, text: str, position: int, title: str = "Pricing") -> StoredChunk:
    return StoredChunk(1, "website", uri, title, heading, position, text)


def test_starter_cases_come_from_the_knowledge_and_claim_only_what_it_says():
    workspace = Workspace(
        id=1,
        name="Harbour Bikes",
        timezone="Europe/London",
        country="GB",
        hours={"mon": ["09:00-12:00", "13:00-17:00"], "sun": []},
        links={"booking": "https://harbour.example/book"},
        instructions="Be brief.\nAsk for the phone number first.",
        address="1 Quay St",
    )
    sources = [
        KnowledgeSource(
            id=1,
            workspace_id=1,
            kind=SourceKind.WEBSITE,
            uri="https://harbour.example/",
            status=SourceStatus.READY,
        ),
        KnowledgeSource(
            id=2,
            workspace_id=1,
            kind=SourceKind.QA,
            title="Do you sell e-bikes?",
            config={"q": "Do you sell e-bikes?", "a": "No, we only repair electric bicycles."},
        ),
        KnowledgeSource(
            id=3,
            workspace_id=1,
            kind=SourceKind.FILE,
            title="menu.pdf",
            uri="menu.pdf",
            status=SourceStatus.FAILED,
        ),
    ]
    chunks = [
        _chunk("https://harbour.example/prices", "Prices > Servicing", "A full service is £65.", 0),
        _chunk("https://harbour.example/prices", "Prices > Servicing", "Brakes <b>£20</b>.", 1),
        _chunk("https://harbour.example/prices", "Prices > Punctures", "From £12.", 2),
        _chunk("https://harbour.example/", "", "Welcome to Harbour Bikes.", 0, "Harbour Bikes"),
    ]
    starter = build_starter(
        workspace, sources, chunks, datetime(2026, 6, 1, 9, 30, 12, 5), assets="s-knowledge"
    )
    suite = starter.suite
    assert suite["now"] == "2026-06-01T09:30:12"
    ws = suite["workspace"]
    assert ws["hours"] == {"mon": ["09:00-12:00", "13:00-17:00"], "sun": "closed"}
    details = {"title": "Business details", "body": "Address: 1 Quay St"}
    assert ws["knowledge"][0] == {"text": details}
    assert {"site": "s-knowledge/site-1"} in ws["knowledge"]
    assert not any("file" in k for k in ws["knowledge"])
    assert any("menu.pdf" in note for note in starter.notes)
    by_question = {c["turns"][0]["user"]: c for c in suite["cases"]}
    servicing = by_question["How much is servicing?"]["turns"][0]["expect"]
    assert servicing == {"sources": ["prices.html"], "any": ["£65", "£20"]}
    assert by_question["Do you sell e-bikes?"]["turns"][0]["expect"] == {
        "any": ["electric", "bicycles", "repair"]
    }
    assert by_question["Could you send me the link for booking?"]["turns"][0]["expect"] == {
        "any": ["https://harbour.example/book"],
        "tools": ["share_link"],
    }
    assert suite["cases"][-1]["tags"] == ["handoff"]
    assert len({c["id"] for c in suite["cases"]}) == len(suite["cases"])
    pages = starter.sites["s-knowledge/site-1"]
    assert set(pages) == {"index.html", "prices.html"}
    assert "&lt;b&gt;£20&lt;/b&gt;" in pages["prices.html"]  # indexed text stays text
    assert '<a href="prices.html">' in pages["index.html"]
    assert pages["prices.html"].count("<h1>Prices</h1>") == 1


def test_max_cases_keeps_the_behaviour_cases():
    workspace = Workspace(id=1, name="X", links={"a": "https://x.example/a"})
    sources = [
        KnowledgeSource(
            id=n, workspace_id=1, kind=SourceKind.QA, config={"q": f"Question {n}?", "a": "Yes."}
        )
        for n in range(10)
    ]
    starter = build_starter(workspace, sources, [], datetime(2026, 1, 1), assets="a", max_cases=4)
    tags = [c["tags"][0] for c in starter.suite["cases"]]
    assert tags == ["knowledge", "knowledge", "links", "handoff"]
    assert starter.notes == ["kept 4 of 12 generated cases"]


def test_eval_init_writes_a_suite_that_runs(tmp_path, monkeypatch, bayview_url):
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FRONTDESK_ALLOW_PRIVATE_URLS", "1")
    for var in ("DATABASE_URL", "REDIS_URL", "FRONTDESK_CONFIG", "FRONTDESK_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run("init", "--workspace", "Bayview Plumbing", "--admin-email", "a@bayview.example",
        "--admin-password", "correct horse battery staple")  # fmt: skip
    run("knowledge", "add", bayview_url + "index.html", "--wait")
    run("knowledge", "add", "--qa", "Do you do gas fitting?",
        "Yes. All of our plumbers are certified gas fitters.", "--wait")  # fmt: skip
    result = run("eval", "init")
    suite_path = tmp_path / "bayview-plumbing-starter.yaml"
    assert f"cases to {suite_path.name}" in result.output
    assert (tmp_path / "bayview-plumbing-starter-knowledge").is_dir()
    assert suite_path.read_text().startswith("# Starter eval suite for Bayview Plumbing")

    suite = load_suite(suite_path)  # the public format's own loader accepts it
    raw = yaml.safe_load(suite_path.read_text())
    sourced = [c for c in raw["cases"] if "sources" in c["turns"][0].get("expect", {})]
    assert len(sourced) >= 5
    assert any(c.turns[0].text == "Do you do gas fitting?" for c in suite.cases)

    again = runner.invoke(main, ["eval", "init"])
    assert again.exit_code != 0 and "--force" in again.output

    report = tmp_path / "report.json"
    run("eval", "run", str(suite_path), "--report", str(report))
    data = json.loads(report.read_text())
    passed = {c["id"] for c in data["cases"] if c["passed"]}
    # FAQ headings and custom Q&A are real visitor questions: the offline model answers
    # them from the snapshot. Questions made from plain headings ("What can you tell me
    # about service area?") are drafts for review; the offline model often abstains.
    faq = {"do-you-give-free-estimates", "how-long-does-a-water-heater-last"}
    assert faq | {"do-you-do-gas-fitting", "i-d-like-to-talk-to-a-real-person-please"} <= passed
    site = tmp_path / "bayview-plumbing-starter-knowledge"
    for case in sourced:
        (page,) = case["turns"][0]["expect"]["sources"]
        assert list(site.glob(f"site-*/{page}")), page

"""Retrieval quality on the three dev sites: hit@1 and hit@5, English and not, per model.

Each dev suite's workspace (evals/suites/*.yaml: its site, served on 127.0.0.1 and crawled
by the real crawler, its text and Q&A sources and its profile) is ingested by the real
pipeline. The questions are the suites' turns with a `sources:` expectation, their
translations into Spanish, French, German, Portuguese, Italian and Dutch
(benchmarks/retrieval_questions.py) and, for bayview, more English questions. A hit is a
passage from an expected page among the top k.

Every question is searched with MiniLM alone (what the index did before it was
multilingual), with USE for the questions that are not in English (what it does now),
with USE for every question, and with both for every question (the higher cosine); plus,
on English questions, the dense and keyword halves and rank fusion, which chose the hybrid.

    python benchmarks/retrieval.py [--misses]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from _site import serve
from retrieval_questions import BAYVIEW_ENGLISH, EXTRA, TRANSLATIONS

from agent.config import Settings
from agent.core.clock import FixedClock
from evals.spec import QASource, SiteSource, Suite, TextSource, UserTurn
from evals.suite import load_suite
from frontdesk.wiring import build
from ingestion.index import ChromaIndex
from ingestion.jobs import DeferredIngestQueue

SUITES = Path(__file__).resolve().parents[1] / "evals" / "suites"
DEV_SUITES = ("bayview", "harbourvet", "lupita")
# label -> search options; English questions also get the halves and rank fusion.
RUNS = {
    "MiniLM only": {"multilingual": "off"},
    "USE if not English": {"multilingual": "auto"},
    "USE for all": {"multilingual": "always"},
    "both for all, max": {"multilingual": "fused"},
}
ENGLISH_RUNS = {
    "MiniLM dense only": {"multilingual": "off", "mode": "dense"},
    "BM25 only": {"multilingual": "off", "mode": "keyword"},
    "MiniLM, rank fusion": {"multilingual": "off", "fusion": "rrf"},
}


@dataclass(frozen=True)
class Question:
    site: str
    language: str
    text: str
    pages: tuple[str, ...]


def questions(suite_name: str, suite: Suite) -> list[Question]:
    """The suite's sourced turns, their translations, and the extra questions."""
    found = []
    for case in suite.cases:
        for turn in case.turns:
            if isinstance(turn, UserTurn) and turn.expect and turn.expect.sources:
                pages = tuple(turn.expect.sources)
                found.append(Question(suite_name, "en", turn.text, pages))
                for language, text in TRANSLATIONS.get(turn.text, []):
                    found.append(Question(suite_name, language, text, pages))
    found += [Question(s, lang, q, tuple(p)) for s, lang, q, p in EXTRA if s == suite_name]
    if suite_name == "bayview":
        found += [Question(suite_name, "en", q, (page,)) for q, page in BAYVIEW_ENGLISH]
    return found


@contextmanager
def workspace(suite: Suite, tmp: Path) -> Iterator[tuple[ChromaIndex, int]]:
    """The suite's workspace, ingested as the eval runner ingests it."""
    spec = suite.workspace
    settings = Settings.from_values(
        {"data_dir": tmp / "data", "allow_private_urls": True}
    ).ensure_data_dir()
    queue = DeferredIngestQueue()
    clock = FixedClock(suite.now_aware.astimezone(UTC))
    container = build(settings, clock=clock, ingest_queue_override=queue)
    container.migrate()
    profile = {"name": spec.name, "timezone": spec.timezone, "country": spec.country}
    profile |= {"hours": spec.hours, "appointment_minutes": spec.appointment_minutes}
    ws = container.workspaces.create(profile | {"links": spec.links}).id
    with ExitStack() as servers:
        for source in spec.knowledge:
            if isinstance(source, SiteSource):
                url = servers.enter_context(serve(source.path))
                container.knowledge.add_website(ws, url, refresh_hours=None)
            elif isinstance(source, TextSource):
                container.knowledge.add_text(ws, source.title, source.body)
            elif isinstance(source, QASource):
                container.knowledge.add_qa(ws, source.q, source.a)
        for action, workspace_id, source_id in list(queue.pending):
            if action == "ingest":
                container.ingestor.run(workspace_id, source_id)
    try:
        yield container.index, ws
    finally:
        container.engine.dispose()


def hits(index: ChromaIndex, ws: int, question: Question, options: dict[str, str]) -> list[bool]:
    """Whether each of the top 5 passages comes from an expected page."""
    found = index.search(ws, question.text, 5, **options)  # type: ignore[arg-type]
    # The crawler files the home page under "/" (its /index.html is the same page).
    uris = [p.uri + "index.html" if p.uri.endswith("/") else p.uri for p in found]
    return [any(u.endswith("/" + page) for page in question.pages) for u in uris]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list the hit@5 misses")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    rows: dict[tuple[str, str, str], list[list[bool]]] = {}
    misses: list[str] = []
    for name in DEV_SUITES:
        suite = load_suite(SUITES / f"{name}.yaml")
        asked = questions(name, suite)
        with tempfile.TemporaryDirectory() as tmp, workspace(suite, Path(tmp)) as (index, ws):
            print(f"{name}: {index.count(ws)} chunks, {len(asked)} questions")
            for question in asked:
                group = "English" if question.language == "en" else "not English"
                runs = RUNS | (ENGLISH_RUNS if question.language == "en" else {})
                for label, options in runs.items():
                    got = hits(index, ws, question, options)
                    rows.setdefault((group, label, name), []).append(got)
                    if args.misses and not any(got) and label in RUNS:
                        misses.append(f"  [{label}] {question.language} {question.text!r}")
    print(
        f"\n{'questions':<12} {'retrieval':<20} " + " ".join(f"{s:>16}" for s in DEV_SUITES), end=""
    )
    print(f" {'all':>16}\n{'':<34}" + " hit@1 hit@5  (n)" * (len(DEV_SUITES) + 1))
    for group in ("English", "not English"):
        for label in RUNS | (ENGLISH_RUNS if group == "English" else {}):
            cells = []
            every: list[list[bool]] = []
            for name in DEV_SUITES:
                got = rows.get((group, label, name), [])
                every += got
                cells.append(_cell(got))
            print(f"{group:<12} {label:<20} " + " ".join(cells) + " " + _cell(every))
    for miss in misses:
        print(miss)


def _cell(results: list[list[bool]]) -> str:
    if not results:
        return f"{'-':>16}"
    hit1 = sum(bool(r) and r[0] for r in results) / len(results)
    hit5 = sum(any(r) for r in results) / len(results)
    return f" {hit1:5.2f} {hit5:5.2f} {len(results):>4}"


if __name__ == "__main__":
    main()

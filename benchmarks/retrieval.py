"""Retrieval quality on the bayview fixture site: hit@1 and hit@5, dense-only vs hybrid.

The site is served on 127.0.0.1, crawled by the real crawler and indexed by the real
pipeline; each question below is paired with the page that answers it (written from
the pages, in a visitor's words rather than the page's). A hit is a passage from that
page among the top k.

    python benchmarks/retrieval.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _site import SITES, serve

from ingestion.chroma import ChromaConnection
from ingestion.chunk import chunk_document
from ingestion.crawl import CrawlLimits, crawl
from ingestion.embed import shared_embedder
from ingestion.fetch import SafeFetcher
from ingestion.index import ChromaIndex

QUESTIONS = [
    ("How much do you charge to unclog a drain?", "pricing.html"),
    ("what does a service call cost", "pricing.html"),
    ("price of hydro jetting the main sewer line", "pricing.html"),
    ("Any discount for seniors?", "pricing.html"),
    ("can I pay by cheque", "pricing.html"),
    ("do you offer financing for a heat pump", "pricing.html"),
    ("how much is a water heater flush", "pricing.html"),
    ("are you open saturdays", "hours-and-area.html"),
    ("what time do you close on weekdays", "hours-and-area.html"),
    ("Do you come out to Sooke?", "hours-and-area.html"),
    ("do you service Langford", "hours-and-area.html"),
    ("where is your shop located", "hours-and-area.html"),
    ("my pipe burst, who do I call at night??", "services.html"),
    ("is there an extra fee for after hours call outs", "services.html"),
    ("which water heater brands do you install", "services.html"),
    ("how long does a furnace tune-up take", "services.html"),
    ("can you help with the CleanBC rebate", "services.html"),
    ("How long does a tankless water heater last?", "faq.html"),
    ("are estimates free", "faq.html"),
    ("are your plumbers licensed and insured", "faq.html"),
    ("what warranty do you give on your work", "faq.html"),
    ("what's your office phone number", "contact.html"),
    ("email address for service requests", "contact.html"),
    ("are you hiring apprentices", "careers.html"),
    ("do you sell my personal data", "privacy.html"),
    ("how long have you been in business", "index.html"),
]


def evaluate(
    index: ChromaIndex, mode: str, fusion: str = "score"
) -> tuple[float, float, list[str]]:
    hit1 = hit5 = 0
    misses = []
    for question, page in QUESTIONS:
        # The crawler files the home page under "/" (its /index.html is the same page).
        uris = [
            p.uri + "index.html" if p.uri.endswith("/") else p.uri
            for p in index.search(1, question, 5, mode=mode, fusion=fusion)
        ]
        hit1 += bool(uris) and uris[0].endswith(page)
        found = any(u.endswith(page) for u in uris)
        hit5 += found
        if not found:
            misses.append(
                f"{question!r} -> wanted {page}, got {[u.rsplit('/', 1)[-1] for u in uris]}"
            )
    return hit1 / len(QUESTIONS), hit5 / len(QUESTIONS), misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=SITES / "bayview")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serve(args.site) as base:
        result = crawl(base, SafeFetcher(allow_private=True), CrawlLimits())
        index = ChromaIndex(ChromaConnection(path=tmp), shared_embedder())
        documents = {d.uri: (d.title, chunk_document(d)) for d in result.documents}
        index.replace_source(1, 1, "website", documents)
        print(f"{len(QUESTIONS)} questions, {len(documents)} pages, {index.count(1)} chunks")
        print(f"{'retrieval':<22} {'hit@1':>6} {'hit@5':>6}")
        misses = {}
        runs = [
            ("dense only", "dense", "score"),
            ("BM25 only", "keyword", "score"),
            ("hybrid, rank fusion", "hybrid", "rrf"),
            ("hybrid, score fusion", "hybrid", "score"),
        ]
        for label, mode, fusion in runs:
            h1, h5, misses[label] = evaluate(index, mode, fusion)
            print(f"{label:<22} {h1:>6.2f} {h5:>6.2f}")
        for label in ("dense only", "hybrid, score fusion"):
            for miss in misses[label]:
                print(f"  {label} missed: {miss}")


if __name__ == "__main__":
    main()

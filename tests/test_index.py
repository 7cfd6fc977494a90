"""Chunking, BM25 and the Chroma index: idempotent writes, hybrid search, other processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from agent.text import stem
from ingestion.bm25 import BM25, tokenize
from ingestion.chroma import ChromaConnection
from ingestion.chunk import TARGET_CHARS, chunk_document, qa_chunk, text_chunks
from ingestion.document import Document, Section, sections_from_markdown, table_text
from ingestion.embed import shared_embedder
from ingestion.index import ChromaIndex

PRICING = """# Pricing
Our technicians charge flat rates, quoted before any work starts.
## Drains
| Service | Price |
|---|---|
| Drain cleaning | $149 |
| Camera inspection | $199 |
## Water heaters
Tank water heater installation starts at $1,450 including removal of the old tank.
Tankless units are quoted on site.
"""


def doc(uri: str, markdown: str, title: str = "") -> Document:
    return Document(uri=uri, title=title or uri, sections=sections_from_markdown(markdown))


@pytest.fixture
def index(tmp_path):
    return ChromaIndex(ChromaConnection(path=str(tmp_path / "chroma")), shared_embedder())


def test_markdown_sections_keep_heading_paths_and_table_headers():
    sections = sections_from_markdown(PRICING)
    assert [s.heading_path for s in sections] == [
        ("Pricing",),
        ("Pricing", "Drains"),
        ("Pricing", "Water heaters"),
    ]
    assert "Service: Drain cleaning; Price: $149" in sections[1].text
    assert table_text(["A", "B"], [["1", ""], ["", ""], ["x", "y"]]) == "A: 1\nA: x; B: y"


def test_chunks_respect_size_and_overlap():
    sentences = " ".join(
        f"Sentence number {n} talks about boilers and radiators." for n in range(80)
    )
    chunks = chunk_document(Document("big", "Big", [Section(("Heating",), sentences)]))
    assert len(chunks) > 3
    assert all(len(c.text) <= TARGET_CHARS + 60 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    # Consecutive chunks share their boundary sentence.
    assert chunks[0].text.split("\n")[-1] in chunks[1].text
    assert chunks[0].embed_text.startswith("Big > Heating\n")


def test_qa_is_one_chunk_and_ids_are_content_hashes():
    chunk = qa_chunk("Do you do gas fitting?", "Yes, all our plumbers are certified. " * 40)
    assert chunk.text.startswith("Q: Do you do gas fitting?\nA: Yes")
    assert chunk.chunk_id(1, "qa-1") == qa_chunk(
        "Do you do gas fitting?", "Yes, all our plumbers are certified. " * 40
    ).chunk_id(1, "qa-1")
    assert chunk.chunk_id(1, "qa-1") != chunk.chunk_id(2, "qa-1")
    assert text_chunks("Parking", "Free parking behind the shop.")[0].context == "Parking"


def test_tokenize_keeps_prices_and_codes():
    tokens = tokenize("The XJ-200 valve costs $1,450.00 — Café opens Mondays")
    assert {"xj-200", "xj", "200", "$1,450.00", "1", "450"} <= set(tokens)
    assert {stem("cafe"), stem("monday")} <= set(tokens)  # words read as the answer reads them
    assert "the" not in tokens


def test_bm25_ranks_exact_tokens():
    bm25 = BM25(["Model XJ-200 replacement valve", "Model XJ-300 thermostat", "General plumbing"])
    assert bm25.search("xj-200")[0][0] == 0
    assert bm25.search("nothing matches here") == []


def test_unchanged_content_embeds_nothing_and_removed_pages_disappear(index):
    pages = {
        "https://s.example/pricing": ("Pricing", chunk_document(doc("pricing", PRICING))),
        "https://s.example/about": (
            "About",
            chunk_document(doc("about", "# About\nFamily run since 1987.")),
        ),
    }
    first = index.replace_source(1, 7, "website", pages)
    assert first.chunks_added == index.count(1) and len(first.documents_added) == 2
    again = index.replace_source(1, 7, "website", pages)
    assert again.chunks_added == 0 and again.chunks_removed == 0
    assert again.chunks_unchanged == first.chunks_added
    changed = dict(pages)
    changed["https://s.example/about"] = (
        "About",
        chunk_document(doc("about", "# About\nFamily run since 1990.")),
    )
    del changed["https://s.example/pricing"]
    stats = index.replace_source(1, 7, "website", changed)
    assert stats.documents_changed == ["https://s.example/about"]
    assert stats.documents_removed == ["https://s.example/pricing"]
    assert stats.chunks_added == 1
    assert all("pricing" not in p.uri for p in index.search(1, "drain cleaning price", 5))


def test_kept_documents_survive_a_failed_fetch(index):
    pages = {"https://s.example/pricing": ("Pricing", chunk_document(doc("pricing", PRICING)))}
    index.replace_source(1, 7, "website", pages)
    stats = index.replace_source(1, 7, "website", {}, keep=["https://s.example/pricing"])
    assert stats.chunks_removed == 0 and index.count(1) > 0


def test_hybrid_search_finds_prices_codes_and_qa(index):
    pages = {
        "pricing.html": ("Pricing", chunk_document(doc("pricing.html", PRICING, "Pricing"))),
        "parts.html": (
            "Parts",
            chunk_document(
                doc(
                    "parts.html",
                    "# Parts\nWe stock the XJ-200 mixing valve and "
                    "the TR-9 cartridge for older faucets.",
                    "Parts",
                )
            ),
        ),
    }
    index.replace_source(3, 1, "website", pages)
    index.replace_source(
        3,
        2,
        "qa",
        {
            "qa-2": (
                "Do you do gas fitting?",
                [
                    qa_chunk(
                        "Do you do gas fitting?", "Yes, all our plumbers are certified gas fitters."
                    )
                ],
            )
        },
    )
    top = index.search(3, "How much is it to clean a drain?", 3)[0]
    assert top.uri == "pricing.html" and "$149" in top.text and top.heading == "Pricing > Drains"
    assert top.citation == "pricing.html > Pricing > Drains"
    assert index.search(3, "XJ-200", 1)[0].uri == "parts.html"
    qa = index.search(3, "can you do gas fitting", 1)[0]
    assert qa.kind == "qa" and qa.citation == "Q&A: Do you do gas fitting?"
    assert qa.similarity > 0.7 and qa.keyword > 0.5
    assert index.search(3, "   ", 3) == []
    assert index.search(99, "anything", 3) == []  # other workspaces are empty


def test_workspaces_are_separate_collections(index):
    index.replace_source(1, 1, "text", {"a": ("A", text_chunks("A", "Alpha clinic opens at 8."))})
    index.replace_source(2, 1, "text", {"b": ("B", text_chunks("B", "Beta clinic opens at 9."))})
    assert [p.uri for p in index.search(1, "clinic opens", 5)] == ["a"]
    assert index.purge_source(1, 1) == 1 and index.count(1) == 0 and index.count(2) == 1


def test_another_process_sees_writes(index, tmp_path):
    """The web app reads while a worker process writes the same embedded Chroma files."""
    index.replace_source(1, 1, "text", {"hours": ("Hours", text_chunks("Hours", "Open 8 to 5."))})
    assert index.search(1, "parking", 1)[0].uri == "hours"
    writer = textwrap.dedent(f"""
        from ingestion.chroma import ChromaConnection
        from ingestion.chunk import text_chunks
        from ingestion.embed import shared_embedder
        from ingestion.index import ChromaIndex
        index = ChromaIndex(ChromaConnection(path={str(tmp_path / "chroma")!r}), shared_embedder())
        index.replace_source(1, 2, "text", {{"parking": ("Parking", text_chunks(
            "Parking", "Free parking behind the shop."))}})
    """)
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert index.search(1, "where can I park my car", 1)[0].uri == "parking"


def test_bm25_scores_are_the_textbook_formula_best_first_ties_in_document_order():
    import math

    texts = [
        "Drain cleaning for kitchen sinks.",
        "Kitchen remodels and kitchen sinks.",
        "Furnace tune-up, furnace repair.",
        "Drain cleaning for kitchen sinks.",  # a tie with the first: document order
        "Heat pump installs.",
    ]
    index = BM25(texts)
    docs = [tokenize(t) for t in texts]
    avg = sum(len(d) for d in docs) / len(docs)

    def expected(query: str) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        for term in set(tokenize(query)):
            having = [n for n, d in enumerate(docs) if term in d]
            if not having:
                continue
            idf = math.log(1 + (len(docs) - len(having) + 0.5) / (len(having) + 0.5))
            for n in having:
                tf = docs[n].count(term)
                norm = 1.2 * (1 - 0.75 + 0.75 * len(docs[n]) / avg)
                scores[n] = scores.get(n, 0.0) + idf * tf * 2.2 / (tf + norm)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    for query in ("kitchen sink drain", "furnace", "heat pump kitchen", "lobster"):
        for k in (1, 2, 10):
            found = index.search(query, k)
            want = expected(query)[:k]
            assert [d for d, _ in found] == [d for d, _ in want], (query, k)
            assert [round(s, 9) for _, s in found] == [round(s, 9) for _, s in want]
    assert index.search("drain", 1) == index.search("drain", 2)[:1]  # the tie: document 0

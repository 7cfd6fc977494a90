"""The multilingual half of the index: questions in other languages find English
knowledge, English search is unchanged, and the USE collection follows the main one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ingestion.chroma import ChromaConnection
from ingestion.chunk import chunk_document, text_chunks
from ingestion.document import Document, sections_from_markdown
from ingestion.embed import shared_embedder
from ingestion.index import ChromaIndex
from ingestion.language import query_language
from ingestion.multilingual import shared_multilingual_embedder

# A business that is in no eval suite.
PAGES = {
    "hours.html": """# Opening hours
Monday to Friday 10:00 am to 6:00 pm. Saturday 9:00 am to 4:00 pm.
We are closed on Sundays and public holidays.""",
    "prices.html": """# Repair prices
| Service | Price |
|---|---|
| Flat tire repair | $15 |
| Brake adjustment | $25 |
| Basic tune-up | $75 |
| Full overhaul | $190 |""",
    "rentals.html": """# Bike rentals
We rent city bikes and electric bikes by the day. A helmet and a lock are included.
Bring photo ID; we take a credit card deposit.""",
    "about.html": """# About us
Ferncliff Cycles is a family-owned bicycle shop, fixing bikes since 2004.
Our mechanics trained with the Barnett Bicycle Institute.""",
    "visit.html": """# Find us
88 Ferncliff Road, next to the train station. Free bike parking at the door.""",
}


def site() -> dict[str, tuple[str, list]]:
    documents = {}
    for uri, markdown in PAGES.items():
        title = markdown.splitlines()[0].lstrip("# ")
        document = Document(uri=uri, title=title, sections=sections_from_markdown(markdown))
        documents[uri] = (title, chunk_document(document))
    return documents


class CountingEmbedder:
    """The shared USE model, counting what it is asked to embed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.texts += list(texts)
        return shared_multilingual_embedder().embed(texts)


@pytest.fixture
def counting():
    return CountingEmbedder()


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "chroma")


@pytest.fixture
def index(path, counting):
    return ChromaIndex(
        ChromaConnection(path=path), shared_embedder(), multilingual=lambda: counting
    )


def ids(index: ChromaIndex, workspace_id: int) -> tuple[set[str], set[str]]:
    """The ids of the workspace's main and multilingual collections."""
    client = index._connection.client()
    main = client.get_collection(index.collection_name(workspace_id)).get(include=[])
    ml = client.get_collection(index.multilingual_name(workspace_id)).get(include=[])
    return set(main["ids"]), set(ml["ids"])


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("¿Cuánto cuesta reparar una rueda pinchada?", "prices.html"),
        ("Est-ce que vous êtes ouverts le samedi ? Jusqu'à quelle heure ?", "hours.html"),
        ("Kann man bei euch Elektrofahrräder für einen Tag mieten?", "rentals.html"),
    ],
)
def test_questions_in_other_languages_find_the_english_page(index, question, page):
    index.replace_source(1, 1, "website", site())
    assert query_language(question) != "en"
    found = index.search(1, question, 3)
    assert page in [p.uri for p in found[:3]]
    # MiniLM alone does not read the question; USE's cosine is the dense support.
    best = next(p for p in found if p.uri == page)
    assert 0.3 < best.similarity <= 1.0


def test_english_results_are_unchanged(index, path):
    index.replace_source(1, 1, "website", site())
    english_only = ChromaIndex(ChromaConnection(path=path), shared_embedder(), multilingual=None)
    for question in ("how much is a tune-up", "are you open on sundays", "can I rent an e-bike"):
        assert query_language(question) == "en"
        now = index.search(1, question, 5)
        before = english_only.search(1, question, 5)
        assert [(p.chunk_id, p.score, p.similarity) for p in now] == [
            (p.chunk_id, p.score, p.similarity) for p in before
        ]


def test_multilingual_collection_follows_replace_purge_and_drop(index, counting):
    documents = site()
    index.replace_source(1, 1, "website", documents)
    index.replace_source(1, 2, "text", {"Parking": ("Parking", text_chunks("Parking", "Free."))})
    main, ml = ids(index, 1)
    assert main == ml and len(main) == index.count(1)
    embedded = len(counting.texts)
    assert embedded == len(main)

    again = index.replace_source(1, 1, "website", documents)
    assert again.chunks_added == 0 and len(counting.texts) == embedded  # nothing re-embedded

    changed = dict(documents)
    changed["visit.html"] = ("Find us", text_chunks("Find us", "We moved to 12 Quay Street."))
    del changed["about.html"]
    index.replace_source(1, 1, "website", changed, keep=["hours.html"])
    main, ml = ids(index, 1)
    assert main == ml and len(counting.texts) == embedded + 1  # only the changed page

    index.replace_source(1, 1, "website", {}, keep=["hours.html"])  # a failed re-crawl
    main, ml = ids(index, 1)
    assert main == ml and len(main) == 2  # hours.html kept, plus the text source

    assert index.purge_source(1, 1) == 1
    main, ml = ids(index, 1)
    assert main == ml and len(main) == 1


def test_a_workspace_without_the_multilingual_collection_searches_and_is_filled(path, counting):
    """An index written before the multilingual collection existed keeps working."""
    old = ChromaIndex(ChromaConnection(path=path), shared_embedder(), multilingual=None)
    old.replace_source(1, 1, "website", site())
    old.replace_source(1, 2, "text", {"Parking": ("Parking", text_chunks("Parking", "Free."))})
    question = "¿Cuánto cuesta reparar una rueda pinchada?"

    new = ChromaIndex(ChromaConnection(path=path), shared_embedder(), multilingual=lambda: counting)
    fallback = new.search(1, question, 5)
    assert fallback and counting.texts == []  # MiniLM and BM25, as before
    english = new.search(1, "how much is a tune-up", 3)
    assert english[0].uri == "prices.html"

    # Re-ingesting any one source fills the whole workspace, from the stored chunks.
    new.replace_source(1, 2, "text", {"Parking": ("Parking", text_chunks("Parking", "Free."))})
    main, ml = ids(new, 1)
    assert main == ml and len(counting.texts) == len(main)
    rebuilt = next(t for t in counting.texts if "Flat tire repair" in t)
    assert rebuilt == site()["prices.html"][1][0].embed_text  # as ingestion would embed it
    assert "prices.html" in [p.uri for p in new.search(1, question, 3)]


def test_a_crash_between_the_two_writes_heals_at_the_next_ingestion(index):
    index.replace_source(1, 1, "website", site())
    client = index._connection.client()
    ml = client.get_collection(index.multilingual_name(1))
    lost = sorted(ids(index, 1)[1])[:2]
    ml.delete(ids=lost)
    ml.add(ids=["orphan"], embeddings=[np.ones(512, dtype=np.float32) / np.sqrt(512)])
    assert index.search(1, "¿Cuánto cuesta reparar una rueda pinchada?", 3)  # still searches
    index.replace_source(1, 2, "text", {"Parking": ("Parking", text_chunks("Parking", "Free."))})
    main, ml_ids = ids(index, 1)
    assert main == ml_ids and "orphan" not in ml_ids


def test_query_language_is_english_when_unsure():
    assert query_language("Sooke?") == "en"
    assert query_language("ok thanks") == "en"
    assert query_language("can I pay by cheque") == "en"
    assert query_language("¿Cuánto cuesta el mole de pollo?") == "es"
    assert query_language("hoe vaak heeft mijn hond het kennelhoestvaccin nodig?") == "nl"


def test_another_process_writes_the_multilingual_collection(index, path):
    """The worker ingests, the web app searches: the USE collection reopens there too."""
    index.replace_source(1, 1, "website", site())
    assert index.search(1, "¿Dónde se puede aparcar el coche?", 3)
    writer = textwrap.dedent(f"""
        from ingestion.chroma import ChromaConnection
        from ingestion.chunk import text_chunks
        from ingestion.embed import shared_embedder
        from ingestion.index import ChromaIndex
        index = ChromaIndex(ChromaConnection(path={path!r}), shared_embedder())
        index.replace_source(1, 2, "text", {{"parking": ("Parking", text_chunks(
            "Parking", "Car parking: use the public garage on Mill Street, two hours free."))}})
    """)
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert index.search(1, "¿Dónde se puede aparcar el coche?", 1)[0].uri == "parking"

"""The knowledge index: two Chroma collections per workspace, searched hybrid.

Writes are content-addressed (a chunk's id is a hash of its source, document and
text), so re-ingesting unchanged content embeds nothing, and a document's chunks are
replaced as a set: whatever is no longer there disappears from the index.

``workspace-N`` holds each chunk's text, metadata and MiniLM vector (English);
``workspace-N_ml`` holds the same ids with a multilingual USE vector, so a question in
Spanish, French, German, Portuguese, Italian or Dutch finds English knowledge. The second
collection follows the first on every write; one that is missing or incomplete (a
workspace indexed before it existed, an interrupted write) is filled at the next
ingestion of any of the workspace's sources, and until then search falls back to MiniLM.

Search embeds the query and gathers candidates from Chroma (dense) and BM25 (keyword);
``ingestion.ranking`` scores and orders them. An English query is embedded with MiniLM,
any other with USE, whose cosine is then the passage's dense support: fusing USE into
English queries made English retrieval worse (see benchmarks/retrieval.py and README).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

import chromadb.errors
import numpy as np

from agent.core.knowledge import Passage
from agent.offload import Runner, call_directly
from ingestion.chroma import ChromaConnection
from ingestion.chunk import Chunk
from ingestion.embed import MiniLMEmbedder, MiniLMEmbeddingFunction
from ingestion.language import query_language
from ingestion.multilingual import (
    MultilingualEmbedder,
    MultilingualEmbeddingFunction,
    shared_multilingual_embedder,
)
from ingestion.ranking import Corpus, rank_passages

CANDIDATES = 20
_WRITE_BATCH = 500


@dataclass
class SyncStats:
    """What one ingestion changed, for the admin ("3 pages changed, 1 removed")."""

    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    documents_added: list[str] = field(default_factory=list)
    documents_changed: list[str] = field(default_factory=list)
    documents_removed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "pages_added": len(self.documents_added),
            "pages_changed": len(self.documents_changed),
            "pages_removed": len(self.documents_removed),
            "chunks_added": self.chunks_added,
            "chunks_removed": self.chunks_removed,
            "chunks_unchanged": self.chunks_unchanged,
        }


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the index holds it, for exports and reviews (not for search)."""

    source_id: int
    kind: str
    uri: str
    title: str
    heading: str
    position: int
    text: str


class ChromaIndex:
    def __init__(
        self,
        connection: ChromaConnection,
        embedder: MiniLMEmbedder,
        *,
        multilingual: Callable[[], MultilingualEmbedder] | None = shared_multilingual_embedder,
        language: Callable[[str], str] = query_language,
    ) -> None:
        """``multilingual`` builds the USE model on first use (None: English only);
        ``language`` names a query's language ("en" when unsure)."""
        self._connection = connection
        self._embedder = embedder
        self._multilingual = multilingual
        self._language = language
        self._corpora: dict[int, Corpus] = {}
        self._handles: dict[str, tuple[int, object]] = {}
        self._ml_state: dict[int, tuple[int, str, object | None]] = {}  # (client, version, handle)
        self._lock = threading.Lock()
        self._run: Runner = call_directly

    def offload(self, run: Runner) -> None:
        """Run searches through ``run`` (on native threads under an event loop: BM25 and
        Chroma's query block while they work)."""
        self._run = run

    @staticmethod
    def collection_name(workspace_id: int) -> str:
        return f"workspace-{workspace_id}"

    @classmethod
    def multilingual_name(cls, workspace_id: int) -> str:
        return f"{cls.collection_name(workspace_id)}_ml"

    def _collection(self, workspace_id: int):  # type: ignore[no-untyped-def]
        """The workspace's collection; the handle is reused while the client is current."""
        return self._open(self.collection_name(workspace_id), MiniLMEmbeddingFunction())

    def _ml_collection(self, workspace_id: int):  # type: ignore[no-untyped-def]
        """The workspace's multilingual collection, created if missing (writers only)."""
        return self._open(self.multilingual_name(workspace_id), MultilingualEmbeddingFunction())

    def _open(self, name: str, function: object):  # type: ignore[no-untyped-def]
        client = self._connection.client()
        cached = self._handles.get(name)
        if cached is not None and cached[0] == id(client):
            return cached[1]
        collection = client.get_or_create_collection(
            name,
            embedding_function=function,  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._handles[name] = (id(client), collection)
        return collection

    # -- writing ---------------------------------------------------------------

    def replace_source(
        self,
        workspace_id: int,
        source_id: int,
        kind: str,
        documents: Mapping[str, tuple[str, list[Chunk]]],
        *,
        keep: Iterable[str] = (),
    ) -> SyncStats:
        """Make the index hold exactly ``documents`` (uri -> (title, chunks)) for the source.

        Documents listed in ``keep`` (e.g. pages that failed to load this time) keep
        their previous chunks instead of disappearing.
        """
        collection = self._collection(workspace_id)
        existing = collection.get(where={"source_id": source_id}, include=["metadatas"])
        old_by_uri: dict[str, set[str]] = {}
        for chunk_id, meta in zip(existing["ids"], existing["metadatas"] or [], strict=True):
            old_by_uri.setdefault(str(meta["uri"]), set()).add(chunk_id)
        keep = {uri for uri in keep if uri not in documents}
        stats = SyncStats()
        new_ids: dict[str, Chunk] = {}
        new_meta: dict[str, dict[str, object]] = {}
        for uri, (title, chunks) in documents.items():
            ids = set()
            for chunk in chunks:
                chunk_id = chunk.chunk_id(source_id, uri)
                ids.add(chunk_id)
                new_ids[chunk_id] = chunk
                new_meta[chunk_id] = {
                    "source_id": source_id,
                    "kind": kind,
                    "uri": uri,
                    "title": title or chunk.title,
                    "heading": " > ".join(chunk.heading_path),
                    "position": chunk.position,
                }
            old = old_by_uri.get(uri, set())
            if not old:
                stats.documents_added.append(uri)
            elif old != ids:
                stats.documents_changed.append(uri)
        stats.documents_removed = sorted(
            uri for uri in old_by_uri if uri not in documents and uri not in keep
        )
        existing_ids = set(existing["ids"])
        old_ids = {i for uri, ids in old_by_uri.items() if uri not in keep for i in ids}
        to_add = [i for i in new_ids if i not in existing_ids]
        to_delete = sorted(old_ids - set(new_ids))
        stats.chunks_added = len(to_add)
        stats.chunks_removed = len(to_delete)
        stats.chunks_unchanged = len(new_ids) - len(to_add)
        for start in range(0, len(to_add), _WRITE_BATCH):
            batch = to_add[start : start + _WRITE_BATCH]
            vectors = self._embedder.embed([new_ids[i].embed_text for i in batch])
            collection.add(
                ids=batch,
                embeddings=vectors,
                documents=[new_ids[i].text for i in batch],
                metadatas=[new_meta[i] for i in batch],
            )
        for start in range(0, len(to_delete), _WRITE_BATCH):
            collection.delete(ids=to_delete[start : start + _WRITE_BATCH])
        texts = {chunk_id: chunk.embed_text for chunk_id, chunk in new_ids.items()}
        multilingual_changed = self._sync_multilingual(workspace_id, collection, texts)
        if to_add or to_delete or multilingual_changed:
            self._bump(collection)
        return stats

    def _sync_multilingual(self, workspace_id: int, collection, texts: Mapping[str, str]) -> bool:  # type: ignore[no-untyped-def]
        """Give the multilingual collection exactly the main collection's ids.

        Workspace-wide rather than per source, so one ingestion also fills what an older
        version or an interrupted write left out. Only missing ids are embedded (with
        ``texts`` when this run has them, else rebuilt from the stored chunk); comparing
        the two id lists costs a few milliseconds even at 10,000 chunks.
        """
        if self._multilingual is None:
            return False
        ml = self._ml_collection(workspace_id)
        main_ids = collection.get(include=[])["ids"]
        ml_ids = set(ml.get(include=[])["ids"])
        missing = [i for i in main_ids if i not in ml_ids]
        orphans = sorted(ml_ids - set(main_ids))
        stored = [i for i in missing if i not in texts]
        rebuilt = dict(texts)
        for start in range(0, len(stored), _WRITE_BATCH):
            got = collection.get(
                ids=stored[start : start + _WRITE_BATCH], include=["documents", "metadatas"]
            )
            for chunk_id, text, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
            ):
                rebuilt[chunk_id] = _embed_text(text, meta)
        embedder = self._multilingual() if missing else None
        for start in range(0, len(missing), _WRITE_BATCH):
            batch = missing[start : start + _WRITE_BATCH]
            assert embedder is not None
            ml.add(ids=batch, embeddings=embedder.embed([rebuilt[i] for i in batch]))
        for start in range(0, len(orphans), _WRITE_BATCH):
            ml.delete(ids=orphans[start : start + _WRITE_BATCH])
        return bool(missing or orphans)

    def purge_source(self, workspace_id: int, source_id: int) -> int:
        collection = self._collection(workspace_id)
        ids = collection.get(where={"source_id": source_id}, include=[])["ids"]
        if ids:
            collection.delete(ids=ids)
            if self._multilingual is not None:
                self._ml_collection(workspace_id).delete(ids=ids)
            self._bump(collection)
        return len(ids)

    def count(self, workspace_id: int) -> int:
        return self._collection(workspace_id).count()

    def stored_chunks(self, workspace_id: int, source_id: int | None = None) -> list[StoredChunk]:
        """Every chunk of the workspace (or one source), in document order."""
        where = {"source_id": source_id} if source_id is not None else None
        got = self._collection(workspace_id).get(where=where, include=["documents", "metadatas"])
        chunks = [
            StoredChunk(
                source_id=int(meta["source_id"]),
                kind=str(meta["kind"]),
                uri=str(meta["uri"]),
                title=str(meta.get("title", "")),
                heading=str(meta.get("heading", "")),
                position=int(meta.get("position", 0)),
                text=text,
            )
            for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True)
        ]
        return sorted(chunks, key=lambda c: (c.source_id, c.uri, c.position))

    def _bump(self, collection) -> None:  # type: ignore[no-untyped-def]
        """Tell every process (its BM25 cache and its Chroma client) that this changed."""
        version = int((collection.metadata or {}).get("fd_version", 0)) + 1
        collection.modify(metadata={"fd_version": version})
        self._connection.wrote()

    # -- searching -------------------------------------------------------------

    def search(
        self,
        workspace_id: int,
        query: str,
        k: int = 5,
        *,
        mode: str = "hybrid",
        fusion: str = "score",
        multilingual: str = "auto",
    ) -> list[Passage]:
        """Best passages first. ``mode`` "dense" or "keyword", ``fusion`` "rrf" and
        ``multilingual`` "off" (MiniLM for every query), "always" (USE for every query) or
        "fused" (both for every query, the higher cosine counts) exist for measuring each
        half, each fusion and each model."""
        return self._run(self._search, (workspace_id, query, k, mode, fusion, multilingual))

    def _search(
        self, workspace_id: int, query: str, k: int, mode: str, fusion: str, multilingual: str
    ) -> list[Passage]:
        query = " ".join((query or "").split())[:2000]
        if not query:
            return []
        collection = self._collection(workspace_id)
        corpus = self._corpus(workspace_id, collection)
        if not corpus.ids:
            return []
        sparse = {corpus.ids[doc]: score for doc, score in corpus.bm25.search(query, CANDIDATES)}
        if mode == "dense":
            sparse = {}
        ml = None
        if multilingual in ("always", "fused") or (
            multilingual == "auto" and self._language(query) != "en"
        ):
            ml = self._ml_for_search(workspace_id, corpus)
        similarity: dict[str, float] = {}
        if ml is None or multilingual == "fused":
            vector = self._embedder.embed([query])[0]
            similarity = _cosines(collection, vector, len(corpus.ids), sparse)
        if ml is not None and self._multilingual is not None:
            vector = self._multilingual().embed([query])[0]
            cosines = _cosines(ml, vector, len(corpus.ids), set(sparse) | set(similarity))
            for chunk_id, cosine in cosines.items():  # "fused": the better of the two
                similarity[chunk_id] = max(cosine, similarity.get(chunk_id, -1.0))
        return rank_passages(corpus, query, similarity, sparse, mode=mode, fusion=fusion)[:k]

    def _ml_for_search(self, workspace_id: int, corpus: Corpus):  # type: ignore[no-untyped-def]
        """The multilingual collection if it holds any vectors, else None (search falls
        back to MiniLM); looked up again only when the client or the index changes."""
        if self._multilingual is None:
            return None
        client = self._connection.client()
        cached = self._ml_state.get(workspace_id)
        if cached is not None and cached[:2] == (id(client), corpus.version):
            return cached[2]
        handle = None
        with suppress(chromadb.errors.NotFoundError, ValueError):
            found = client.get_collection(
                self.multilingual_name(workspace_id),
                embedding_function=MultilingualEmbeddingFunction(),  # type: ignore[arg-type]
            )
            handle = found if found.count() else None
        self._ml_state[workspace_id] = (id(client), corpus.version, handle)
        return handle

    def _corpus(self, workspace_id: int, collection) -> Corpus:  # type: ignore[no-untyped-def]
        stamp = self._connection.stamp()
        cached = self._corpora.get(workspace_id)
        if cached is not None and stamp is not None and cached.stamp == stamp:
            return cached  # embedded files untouched since: no Chroma round trip at all
        fresh = self._connection.client().get_collection(self.collection_name(workspace_id))
        version = f"{(fresh.metadata or {}).get('fd_version', 0)}:{collection.count()}"
        with self._lock:
            cached = self._corpora.get(workspace_id)
            if cached is not None and cached.version == version:
                cached.stamp = stamp
                return cached
            data = collection.get(include=["documents", "metadatas"])
            corpus = Corpus.build(
                version,
                stamp,
                data["ids"],
                data["documents"] or [],
                data["metadatas"] or [],
            )
            self._corpora[workspace_id] = corpus
            return corpus


def _cosines(collection, vector: np.ndarray, size: int, also: Iterable[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Cosine similarity of the nearest chunks, and of the ``also`` ones (keyword hits)."""
    dense = collection.query(
        query_embeddings=[vector], n_results=min(CANDIDATES, size), include=["distances"]
    )
    similarity = {i: 1.0 - d for i, d in zip(dense["ids"][0], dense["distances"][0], strict=True)}
    missing = [i for i in also if i not in similarity]
    if missing:
        got = collection.get(ids=missing, include=["embeddings"])
        for chunk_id, emb in zip(got["ids"], got["embeddings"], strict=True):
            similarity[chunk_id] = float(np.dot(vector, np.asarray(emb, dtype=np.float32)))
    return similarity


def _embed_text(text: str, meta: Mapping[str, object]) -> str:
    """A stored chunk's embedding text, as ``Chunk.embed_text`` builds it at ingestion."""
    title = "Q&A" if meta.get("kind") == "qa" else meta.get("title")  # as chunk.qa_chunk
    context = " > ".join(str(p) for p in (title, meta.get("heading")) if p)
    return f"{context}\n{text}" if context else text

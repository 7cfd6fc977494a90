"""The knowledge index: one Chroma collection per workspace, searched hybrid.

Writes are content-addressed (a chunk's id is a hash of its source, document and
text), so re-ingesting unchanged content embeds nothing, and a document's chunks are
replaced as a set: whatever is no longer there disappears from the index.

Search is hybrid: dense similarity (Chroma, cosine) plus BM25 for exact tokens such as
prices, product codes and place names. The two are fused by score (cosine plus a
normalised BM25 bonus); reciprocal-rank fusion is kept as an option because
``benchmarks/retrieval.py`` measures both side by side. A custom Q&A that matches the
question strongly comes first.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
import chromadb.errors
import numpy as np
from chromadb.config import Settings as ChromaSettings

from agent.core.knowledge import Passage
from ingestion.bm25 import BM25, tokenize
from ingestion.chunk import Chunk
from ingestion.embed import MiniLMEmbedder, MiniLMEmbeddingFunction

KEYWORD_WEIGHT = 0.15  # chosen with benchmarks/retrieval.py (0.1-0.25 all scored best)
RRF_K = 60
CANDIDATES = 20
QA_WINS_AT = 0.72  # cosine between a question and a custom Q&A that counts as "the same question"
_WRITE_BATCH = 500


class ChromaConnection:
    """A Chroma client that stays consistent when several processes share one data dir.

    With a Chroma server (``url``, from CHROMA_URL) every process sees every write.
    With embedded files, a client caches index segments in memory and would not see
    another process's writes, so every write bumps a generation file and a reader whose
    client predates the current generation reopens it (a ``stat`` per search).
    """

    def __init__(self, path: str = "", url: str = "") -> None:
        self._path = Path(path) if path else None
        self._url = url
        self._settings = ChromaSettings(anonymized_telemetry=False)
        self._client: chromadb.ClientAPI | None = None
        self._generation = ""
        self._lock = threading.RLock()

    @property
    def _generation_file(self) -> Path | None:
        return None if self._url or self._path is None else self._path / "frontdesk.generation"

    def _read_generation(self) -> str:
        file = self._generation_file
        try:
            return file.read_text() if file is not None else ""
        except FileNotFoundError:
            return ""

    def client(self) -> chromadb.ClientAPI:
        with self._lock:
            generation = self._read_generation()
            if self._client is not None and generation == self._generation:
                return self._client
            if self._client is not None:
                self._client.clear_system_cache()
            self._client = self._open()
            self._generation = generation
            return self._client

    def _open(self) -> chromadb.ClientAPI:
        if self._url:
            parts = urlsplit(self._url)
            return chromadb.HttpClient(
                host=parts.hostname or "localhost",
                port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https",
                settings=self._settings,
            )
        assert self._path is not None
        self._path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self._path), settings=self._settings)

    def stamp(self) -> str | None:
        """Changes whenever any process writes embedded files; None for a server."""
        return None if self._generation_file is None else self._read_generation()

    def wrote(self) -> None:
        """Record a write by this process: others reopen, this client is already current."""
        file = self._generation_file
        if file is None:
            return
        with self._lock:
            generation = uuid.uuid4().hex
            tmp = file.with_suffix(".tmp")
            tmp.write_text(generation)
            tmp.replace(file)
            self._generation = generation


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


@dataclass
class _Corpus:
    """Everything BM25 and passage building need, cached until the collection changes."""

    version: str
    stamp: str | None
    ids: list[str]
    texts: list[str]
    metas: list[Mapping[str, object]]
    bm25: BM25
    position: dict[str, int] = field(default_factory=dict)
    terms: list[set[str]] = field(default_factory=list)


class ChromaIndex:
    def __init__(self, connection: ChromaConnection, embedder: MiniLMEmbedder) -> None:
        self._connection = connection
        self._embedder = embedder
        self._corpora: dict[int, _Corpus] = {}
        self._handles: dict[int, tuple[int, object]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def collection_name(workspace_id: int) -> str:
        return f"workspace-{workspace_id}"

    def _collection(self, workspace_id: int):  # type: ignore[no-untyped-def]
        """The workspace's collection; the handle is reused while the client is current."""
        client = self._connection.client()
        cached = self._handles.get(workspace_id)
        if cached is not None and cached[0] == id(client):
            return cached[1]
        collection = client.get_or_create_collection(
            self.collection_name(workspace_id),
            embedding_function=MiniLMEmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._handles[workspace_id] = (id(client), collection)
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
        if to_add or to_delete:
            self._bump(collection)
        return stats

    def purge_source(self, workspace_id: int, source_id: int) -> int:
        collection = self._collection(workspace_id)
        ids = collection.get(where={"source_id": source_id}, include=[])["ids"]
        if ids:
            collection.delete(ids=ids)
            self._bump(collection)
        return len(ids)

    def drop_workspace(self, workspace_id: int) -> None:
        with suppress(chromadb.errors.NotFoundError):
            self._connection.client().delete_collection(self.collection_name(workspace_id))
        self._corpora.pop(workspace_id, None)

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
    ) -> list[Passage]:
        """Best passages first. ``mode`` "dense" or "keyword" and ``fusion`` "rrf" exist
        for measuring each half and each fusion."""
        query = " ".join((query or "").split())[:2000]
        if not query:
            return []
        collection = self._collection(workspace_id)
        corpus = self._corpus(workspace_id, collection)
        if not corpus.ids:
            return []
        vector = self._embedder.embed([query])[0]
        dense = collection.query(
            query_embeddings=[vector],
            n_results=min(CANDIDATES, len(corpus.ids)),
            include=["distances"],
        )
        dense_ids = dense["ids"][0]
        similarity = {i: 1.0 - d for i, d in zip(dense_ids, dense["distances"][0], strict=True)}
        sparse = {corpus.ids[doc]: score for doc, score in corpus.bm25.search(query, CANDIDATES)}
        if mode == "dense":
            sparse = {}
        missing = [i for i in sparse if i not in similarity]
        if missing:
            got = collection.get(ids=missing, include=["embeddings"])
            for chunk_id, emb in zip(got["ids"], got["embeddings"], strict=True):
                similarity[chunk_id] = float(np.dot(vector, np.asarray(emb, dtype=np.float32)))
        if mode == "keyword":
            similarity = {i: s for i, s in similarity.items() if i in sparse}
        fuser = rank_fuse if fusion == "rrf" else fuse
        fused = fuser(similarity, sparse, dense_weight=0.0 if mode == "keyword" else 1.0)
        position = corpus.position
        terms = set(tokenize(query))
        passages = []
        for chunk_id, score in fused.items():
            n = position.get(chunk_id)
            if n is None:  # written after our corpus snapshot; next search sees it
                continue
            meta = corpus.metas[n]
            sim = max(0.0, min(1.0, similarity.get(chunk_id, 0.0)))
            if meta["kind"] == "qa" and sim >= QA_WINS_AT:
                score += 1.0  # the admin answered this very question
            found = terms & corpus.terms[n]
            passages.append(
                Passage(
                    chunk_id=chunk_id,
                    text=corpus.texts[n],
                    source_id=int(meta["source_id"]),
                    kind=str(meta["kind"]),
                    uri=str(meta["uri"]),
                    title=str(meta["title"]),
                    heading=str(meta["heading"]),
                    score=score,
                    similarity=sim,
                    keyword=len(found) / len(terms) if terms else 0.0,
                )
            )
        passages.sort(key=lambda p: (-p.score, p.chunk_id))
        return passages[:k]

    def _corpus(self, workspace_id: int, collection) -> _Corpus:  # type: ignore[no-untyped-def]
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
            metas = data["metadatas"] or []
            texts = data["documents"] or []
            searchable = [
                f"{m['title']} {m['heading']} {t}" for m, t in zip(metas, texts, strict=True)
            ]
            corpus = _Corpus(
                version,
                stamp,
                list(data["ids"]),
                list(texts),
                list(metas),
                BM25(searchable),
                position={chunk_id: n for n, chunk_id in enumerate(data["ids"])},
                terms=[set(tokenize(t)) for t in searchable],
            )
            self._corpora[workspace_id] = corpus
            return corpus


def fuse(
    similarity: Mapping[str, float],
    keyword: Mapping[str, float],
    *,
    dense_weight: float = 1.0,
    keyword_weight: float = KEYWORD_WEIGHT,
) -> dict[str, float]:
    """Cosine similarity plus a bonus for the best exact-token matches.

    BM25 scores are normalised by the best one for this query, so the bonus rewards
    "contains the rare words you typed" (a price, a code, a place name) without letting
    common words outvote meaning.
    """
    best = max(keyword.values(), default=0.0) or 1.0
    ids = set(similarity) | set(keyword)
    return {
        i: dense_weight * similarity.get(i, 0.0) + keyword_weight * keyword.get(i, 0.0) / best
        for i in ids
    }


def rank_fuse(
    similarity: Mapping[str, float],
    keyword: Mapping[str, float],
    *,
    dense_weight: float = 1.0,
    keyword_weight: float = 1.0,
) -> dict[str, float]:
    """Reciprocal-rank fusion (k=60), the usual baseline for hybrid search."""
    fused: dict[str, float] = {}
    for weight, scores in ((dense_weight, similarity), (keyword_weight, keyword)):
        for rank, chunk_id in enumerate(sorted(scores, key=lambda i: (-scores[i], i))):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
    return fused

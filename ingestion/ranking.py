"""Hybrid ranking for the knowledge index: pure scoring, no Chroma and no embedding.

Search is hybrid: dense similarity (Chroma, cosine) plus BM25 for exact tokens such as
prices, product codes and place names. The two are fused by score (cosine plus a
normalised BM25 bonus); reciprocal-rank fusion is kept as an option because
``benchmarks/retrieval.py`` measures both side by side. A custom Q&A that matches the
question strongly comes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.knowledge import Passage
from ingestion.bm25 import BM25, tokenize

KEYWORD_WEIGHT = 0.15  # chosen with benchmarks/retrieval.py (0.1-0.25 all scored best)
RRF_K = 60
QA_WINS_AT = 0.72  # cosine between a question and a custom Q&A that counts as "the same question"


@dataclass
class Corpus:
    """Everything BM25 and passage building need, cached until the collection changes."""

    version: str
    stamp: str | None
    ids: list[str]
    texts: list[str]
    metas: list[Mapping[str, object]]
    bm25: BM25
    position: dict[str, int] = field(default_factory=dict)
    terms: list[set[str]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        version: str,
        stamp: str | None,
        ids: Sequence[str],
        texts: Sequence[str],
        metas: Sequence[Mapping[str, object]],
    ) -> Corpus:
        """BM25 over each chunk's title, heading and text, with the lookups search needs."""
        searchable = [f"{m['title']} {m['heading']} {t}" for m, t in zip(metas, texts, strict=True)]
        return cls(
            version,
            stamp,
            list(ids),
            list(texts),
            list(metas),
            BM25(searchable),
            position={chunk_id: n for n, chunk_id in enumerate(ids)},
            terms=[set(tokenize(t)) for t in searchable],
        )


def rank_passages(
    corpus: Corpus,
    query: str,
    similarity: Mapping[str, float],
    sparse: Mapping[str, float],
    *,
    mode: str = "hybrid",
    fusion: str = "score",
) -> list[Passage]:
    """Every candidate as a passage, best first.

    ``similarity`` is cosine by chunk id (the dense hits and every keyword hit), ``sparse``
    BM25 by chunk id (empty in "dense" mode); ``mode`` "keyword" ranks the keyword hits
    alone and ``fusion`` "rrf" uses reciprocal-rank fusion.
    """
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
    return passages


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

"""A small in-memory BM25 index with an inverted index, for the exact-token half of search.

Product names, prices and codes ("$149", "XJ-200") are often missed by dense
retrieval; BM25 catches them. Scoring touches only the postings of the query's terms,
each posting's weight is computed once, so a query over 10,000 chunks adds a few arrays.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from agent.text import SEARCH_STOP_WORDS, fold, stem

_TOKEN = re.compile(r"[$€£]?\w+(?:[-.,']\w+)*", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Folded, stemmed words (as the offline answer reads them) without function words; codes and
    prices are kept whole and also yield their parts."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(fold(text)):
        token = match.group()
        parts = re.split(r"[-.,'$€£]", token)
        if len([p for p in parts if p]) > 1 or token[0] in "$€£":
            tokens.append(token)
            tokens.extend(p for p in parts if p)
        elif token not in SEARCH_STOP_WORDS:
            tokens.append(stem(token))
    return [t for t in tokens if t not in SEARCH_STOP_WORDS]


class BM25:
    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths: list[int] = []
        for doc, text in enumerate(texts):
            counts = Counter(tokenize(text))
            self._lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                postings[term].append((doc, tf))
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        n = len(self._lengths)
        self._idf = {
            term: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for term, p in postings.items()
        }
        # Each posting's term weight without the idf, computed once: a query then only adds
        # arrays (a common word's postings run to thousands of documents).
        lengths = np.asarray(self._lengths, dtype=np.float64)
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, posted in postings.items():
            docs = np.fromiter((d for d, _ in posted), dtype=np.int64, count=len(posted))
            tf = np.fromiter((t for _, t in posted), dtype=np.float64, count=len(posted))
            norm = k1 * (1 - b + b * lengths[docs] / (self._avg or 1))
            self._arrays[term] = (docs, tf * (k1 + 1) / (tf + norm))

    def __len__(self) -> int:
        return len(self._lengths)

    def search(self, query: str, k: int = 20) -> list[tuple[int, float]]:
        """(document index, score) pairs, best first."""
        terms = [t for t in set(tokenize(query)) if t in self._arrays]
        if not terms or k < 1:
            return []
        scores = np.zeros(len(self._lengths), dtype=np.float64)
        hit = np.zeros(len(self._lengths), dtype=bool)
        for term in terms:
            docs, weights = self._arrays[term]
            scores[docs] += self._idf[term] * weights  # a document is once in a posting list
            hit[docs] = True
        found = np.flatnonzero(hit)
        if len(found) > k:  # the k best (ties at the cut kept), then ordered exactly
            cut = np.partition(scores[found], len(found) - k)[len(found) - k]
            found = found[scores[found] >= cut]
        order = np.lexsort((found, -scores[found]))[:k]  # best first, then document order
        return [(int(found[i]), float(scores[found[i]])) for i in order]

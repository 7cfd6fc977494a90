"""A small in-memory BM25 index with an inverted index, for the exact-token half of search.

Product names, prices and codes ("$149", "XJ-200") are often missed by dense
retrieval; BM25 catches them. Scoring touches only the postings of the query's terms,
so a query over 10,000 chunks costs well under a millisecond.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

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
        self._k1, self._b = k1, b
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths = []
        for doc, text in enumerate(texts):
            counts = Counter(tokenize(text))
            self._lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings[term].append((doc, tf))
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        n = len(self._lengths)
        self._idf = {
            term: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self._postings.items()
        }

    def __len__(self) -> int:
        return len(self._lengths)

    def search(self, query: str, k: int = 20) -> list[tuple[int, float]]:
        """(document index, score) pairs, best first."""
        scores: dict[int, float] = defaultdict(float)
        for term in set(tokenize(query)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for doc, tf in self._postings[term]:
                norm = self._k1 * (1 - self._b + self._b * self._lengths[doc] / (self._avg or 1))
                scores[doc] += idf * tf * (self._k1 + 1) / (tf + norm)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]

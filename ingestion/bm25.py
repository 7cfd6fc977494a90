"""A small in-memory BM25 index with an inverted index, for the exact-token half of search.

Product names, prices and codes ("$149", "XJ-200") are often missed by dense
retrieval; BM25 catches them. Scoring touches only the postings of the query's terms,
so a query over 10,000 chunks costs well under a millisecond.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

_TOKEN = re.compile(r"[$€£]?\w+(?:[-.,']\w+)*", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-case, accent-folded tokens; codes and prices also yield their parts."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    tokens: list[str] = []
    for match in _TOKEN.finditer(folded):
        token = match.group()
        parts = re.split(r"[-.,'$€£]", token)
        if len([p for p in parts if p]) > 1 or token[0] in "$€£":
            tokens.append(token)
            tokens.extend(p for p in parts if p)
        else:
            tokens.append(_stem(token))
    return [t for t in tokens if t not in _STOP]


def _stem(token: str) -> str:
    if token.isalpha() and len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


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

    def max_score(self, query: str) -> float:
        """What a document containing every query term once would score: for normalising."""
        return (
            sum(self._idf.get(t, 0.0) for t in set(tokenize(query)))
            * (self._k1 + 1)
            / (1 + self._k1)
        )

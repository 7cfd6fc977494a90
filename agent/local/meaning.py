"""Sentence vectors for the offline model, with a cache, so meaning can back up words.

The embedding function is passed in (the composition root gives the knowledge index's
own model), which keeps the agent free of any model runtime. Vectors are unit length,
so a dot product is the cosine similarity. A knowledge sentence is embedded once per
process and then served from the cache: the same passages come back turn after turn.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from threading import Lock

import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]


class Meaning:
    def __init__(self, embed: Embed, *, cache_size: int = 50_000) -> None:
        self._embed = embed
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = cache_size
        self._lock = Lock()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, in order; texts seen before cost nothing."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = np.asarray(self._embed(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            for text in texts:
                if text in self._cache:
                    self._cache.move_to_end(text)
            rows = [self._cache.get(t) for t in texts]
        if any(r is None for r in rows):  # evicted between the two steps: embed again
            return np.asarray(self._embed(list(texts)), dtype=np.float32)
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

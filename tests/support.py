"""Objects that are slow to build and safe to share between tests of one run (the app itself shares nothing)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.grading.scorecard import Grader
from app.knowledge.base import KnowledgeBase
from app.knowledge.embeddings import Embedder


@functools.cache
def real_embedder() -> Embedder:
    """The bundled MiniLM, loaded once per test run."""
    return Embedder(None)


_graders: dict[int, tuple[KnowledgeBase, Grader]] = {}


def real_grader(kb: KnowledgeBase) -> Grader:
    """One grader (with its rubric index) per knowledge base object, over the shared embedder."""
    if id(kb) not in _graders:
        _graders[id(kb)] = (kb, Grader(kb, real_embedder()))  # the kb is kept alive, so its id is never reused
    return _graders[id(kb)][1]


def one_model_file(assembled_model: Path) -> Iterator[None]:
    """Tests that start the model in a fresh data folder serve the one file assembled for the run (a package fixture
    of the integration and end-to-end tests)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOCKINTERVIEW_MODEL_PATH", str(assembled_model))
        yield

"""Real embeddings, real Chroma in a temporary folder."""

import shutil
import time
from pathlib import Path

import pytest

from app.container import Container
from app.settings import PROJECT_DIR
from tests.support import real_embedder

GUIDE = PROJECT_DIR.parent / "shared" / "guide" / "ml-system-design-guide.md"


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.md").write_text(
        "---\ntopic: classification\nsteps: [5]\nlevel: core\n---\n# Metrics\n\n"
        "## Precision-recall AUC\n\nArea under the precision-recall curve; suited to rare positives.\n\n"
        "## Kolmogorov-Smirnov test\n\nCompares two distributions to detect drift in a feature.\n"
    )
    (folder / "serving.md").write_text(
        "---\ntopic: inference\nsteps: [6]\nlevel: core\n---\n# Serving\n\n"
        "## Batch inference\n\nScores are computed overnight and looked up at request time.\n"
    )


def test_ingest_is_idempotent_and_tracks_changes(settings, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)

    first = Container(settings, embedder=real_embedder()).ingest([corpus], "unit")
    assert first.embedded == first.chunks > 0
    store = Container(settings, embedder=real_embedder()).store("unit")
    assert store.count() == first.chunks

    started = time.perf_counter()
    second = Container(settings, embedder=real_embedder()).ingest([corpus], "unit")
    warm_seconds = time.perf_counter() - started
    assert second.embedded == 0 and second.deleted == 0
    assert second.unchanged == first.chunks
    assert warm_seconds < 10  # generous: a no-op ingest computes no embeddings

    (corpus / "serving.md").write_text(
        "---\ntopic: inference\nsteps: [6]\nlevel: core\n---\n# Serving\n\n"
        "## Real-time inference\n\nPredictions are computed per request within a latency budget.\n"
    )
    third = Container(settings, embedder=real_embedder()).ingest([corpus], "unit")
    assert third.embedded == 1 and third.deleted == 1

    (corpus / "metrics.md").unlink()
    fourth = Container(settings, embedder=real_embedder()).ingest([corpus], "unit")
    assert fourth.embedded == 0 and fourth.deleted == first.chunks - 1
    assert store.count() == 1

    retriever = Container(settings, embedder=real_embedder()).retriever("unit")
    results = retriever.search("serve predictions per request", k=3)
    assert results and "Real-time inference" in results[0].heading
    assert results[0].source == "serving.md"


def test_hybrid_search_handles_jargon_typos_and_filters(settings, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    Container(settings, embedder=real_embedder()).ingest([corpus], "hybrid")
    retriever = Container(settings, embedder=real_embedder()).retriever("hybrid")
    top = retriever.search("ks test drift", k=1)[0]
    assert "Kolmogorov" in top.text and top.lexical_rank == 1
    typo = retriever.search("precison recal curve", k=1)[0]
    assert "Precision-recall" in typo.text
    filtered = retriever.search("drift", k=5, topic="inference")
    assert filtered and all(r.metadata["topic"] == "inference" for r in filtered)
    assert retriever.search("   ", k=3) == []


def test_bad_files_are_skipped_with_reasons_and_nothing_lost(settings, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    first = Container(settings, embedder=real_embedder()).ingest([corpus], "badfiles")
    (corpus / "serving.md").write_bytes(b"\x00\x01binary")
    (corpus / "plain.md").write_text("No headings at all, just a paragraph about caching.")
    (corpus / "moji.md").write_text("# Caf\u00c3\u00a9 \u00f0\u0178\u0161\u20ac Deploy\n\nit\u00e2\u20ac\u2122s fine")
    report = Container(settings, embedder=real_embedder()).ingest([corpus], "badfiles")
    assert [Path(p).name for p, _ in report.skipped] == ["serving.md"]
    assert "binary" in report.skipped[0][1]
    store = Container(settings, embedder=real_embedder()).store("badfiles")
    docs = [c.document for c in store.all_chunks()]
    assert any("Batch inference" in d for d in docs), "chunks of an unreadable file are kept"
    assert any(d.startswith("No headings at all") for d in docs)
    moji = next(d for d in docs if "Deploy" in d)
    assert moji.startswith("Caf\u00e9 Deploy") and "it's fine" in moji
    assert store.count() == first.chunks + 2


@pytest.mark.skipif(not GUIDE.exists(), reason="the shared guide is not beside the project")
def test_guide_ingests_cleanly_into_its_own_collection(settings, tmp_path):
    copy = tmp_path / "guide" / GUIDE.name
    copy.parent.mkdir()
    shutil.copy(GUIDE, copy)
    report = Container(settings, embedder=real_embedder()).ingest([copy.parent], "guide")
    assert report.skipped == [] and report.chunks >= 20
    chunks = Container(settings, embedder=real_embedder()).store("guide").all_chunks()
    assert any(
        c.metadata["heading"].startswith("ML Concepts > Recommendation & Ranking") and "Offline Metrics" in c.document
        for c in chunks
    )
    assert {"ML Concepts > Classification", "ML System Lifecycle > Training > Techniques"} <= {
        c.metadata["heading"] for c in chunks
    }
    for chunk in chunks:
        assert "\u00f0" not in chunk.document and "\u00e2\u20ac" not in chunk.document
    assert Container(settings, embedder=real_embedder()).ingest([copy.parent], "guide").embedded == 0


def test_search_with_a_given_vector_does_not_embed_the_query(settings, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    Container(settings, embedder=real_embedder()).ingest([corpus], "vectors")
    retriever = Container(settings, embedder=real_embedder()).retriever("vectors")
    vector = retriever.embedder.encode_one("serving predictions per request within a latency budget")
    calls = retriever.embedder.calls
    results = retriever.search("zzz unmatched words", k=1, vector=vector)
    assert retriever.embedder.calls == calls
    assert results and results[0].lexical_rank is None and "Batch inference" in results[0].heading

from pathlib import Path

import pytest

from app.knowledge.chunking import chunk_markdown
from app.knowledge.ingest import chunk_id, collect_files, plan_ingest, read_markdown


def chunks(text: str, source: str = "a.md"):
    return chunk_markdown(text, source)


def ids_of(source, chunk_list):
    seen = {}
    return {chunk_id(source, c, seen) for c in chunk_list}


def test_unchanged_file_plans_no_work():
    c = chunks("# A\n\nalpha\n\n# B\n\nbeta")
    existing = {"a.md": ids_of("a.md", c)}
    plan = plan_ingest({"a.md": c}, existing, set())
    assert plan.to_add == [] and plan.to_delete == []
    assert plan.unchanged == len(c)


def test_changed_file_replaces_only_stale_chunks():
    old = chunks("# A\n\nalpha\n\n# B\n\nbeta")
    new = chunks("# A\n\nalpha\n\n# B\n\nbeta changed")
    plan = plan_ingest({"a.md": new}, {"a.md": ids_of("a.md", old)}, set())
    assert len(plan.to_add) == 1 and "beta changed" in plan.to_add[0][1].text
    assert len(plan.to_delete) == 1
    assert plan.unchanged == 1


def test_removed_file_chunks_are_deleted_but_unreadable_files_are_kept():
    existing = {"gone.md": {"x1", "x2"}, "broken.md": {"y1"}}
    plan = plan_ingest({}, existing, keep_sources={"broken.md"})
    assert sorted(plan.to_delete) == ["x1", "x2"]


def test_chunk_ids_are_deterministic_and_unique_for_repeated_text():
    c = chunks("# A\n\nsame\n\n# A\n\nsame")
    first, second = ids_of("a.md", c), ids_of("a.md", c)
    assert first == second and len(first) == len(c)
    assert ids_of("b.md", c).isdisjoint(first)


def test_collect_files_uses_relative_keys_and_excludes(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("# a")
    (tmp_path / "sub" / "b.md").write_text("# b")
    (tmp_path / "README.md").write_text("# readme")
    (tmp_path / "notes.txt").write_text("no")
    keys = sorted(f.key for f in collect_files([tmp_path], exclude=("README.md",)))
    assert keys == ["a.md", "sub/b.md"]
    with pytest.raises(FileNotFoundError):
        collect_files([tmp_path / "missing"])


def test_read_markdown_refuses_binary(tmp_path: Path):
    binary = tmp_path / "x.md"
    binary.write_bytes(b"\x00\x01\x02 PNG")
    with pytest.raises(ValueError, match="binary"):
        read_markdown(binary)
    latin = tmp_path / "y.md"
    latin.write_bytes("caf\u00e9".encode("cp1252"))
    assert read_markdown(latin) == "caf\u00e9"


class ListStore:
    """The part of the store that ingest uses, in memory."""

    def __init__(self):
        self.rows: dict[str, dict] = {}

    def ids_by_source(self):
        by_source: dict[str, set[str]] = {}
        for chunk_id_, meta in self.rows.items():
            by_source.setdefault(meta["source"], set()).add(chunk_id_)
        return by_source

    def delete(self, ids):
        for i in ids:
            self.rows.pop(i, None)

    def add(self, ids, documents, vectors, metadatas):
        self.rows.update(zip(ids, metadatas, strict=True))


class CountingEmbedder:
    def __init__(self):
        self.batches = 0

    def encode(self, texts):
        self.batches += 1
        return [[0.0, 1.0] for _ in texts]


def test_an_ingest_told_to_stop_keeps_what_it_stored_and_the_next_one_finishes(tmp_path: Path):
    from app.knowledge.ingest import IngestStopped, ingest

    note = "## Topic {n}\n\nServing note number {n} about feature {n} and its latency."
    sections = "\n\n".join(note.format(n=n) for n in range(150))
    (tmp_path / "notes.md").write_text(f"# Notes\n\n{sections}\n", encoding="utf-8")
    files = collect_files([tmp_path])
    store, embedder = ListStore(), CountingEmbedder()
    asked = []

    def stop_after_one_batch() -> bool:
        asked.append(True)
        return len(asked) > 1

    with pytest.raises(IngestStopped, match="64 of"):
        ingest(files, store, embedder, min_tokens=1, max_tokens=20, should_stop=stop_after_one_batch)
    assert embedder.batches == 1 and len(store.rows) == 64
    report = ingest(files, store, embedder, min_tokens=1, max_tokens=20)
    assert report.unchanged == 64 and report.embedded == report.chunks - 64 > 64
    assert len(store.rows) == report.chunks

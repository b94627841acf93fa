"""Idempotent ingestion by content hash: unchanged chunks are never embedded twice."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from app.knowledge.chunking import Chunk, FrontMatterError, chunk_markdown
from app.knowledge.embeddings import Embedder
from app.knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5_000_000


@dataclass
class SourceFile:
    key: str  # stable name stored in metadata: the path relative to the ingested root
    path: Path


@dataclass
class IngestPlan:
    """What an ingest must do: chunks to embed, ids to delete, and what stays."""

    to_add: list[tuple[str, Chunk]] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    embedded: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def collect_files(paths: Iterable[Path], exclude: tuple[str, ...] = ()) -> list[SourceFile]:
    """Markdown files under the given files or folders, each with a stable source key."""
    found: dict[str, SourceFile] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for file in sorted(path.rglob("*.md")):
                if file.name in exclude or any(part.startswith(".") for part in file.relative_to(path).parts):
                    continue
                key = file.relative_to(path).as_posix()
                found[key] = SourceFile(key, file)
        elif path.is_file():
            found[path.name] = SourceFile(path.name, path)
        else:
            raise FileNotFoundError(f"No such file or folder: {path}")
    return list(found.values())


def chunk_id(source: str, chunk: Chunk, seen: dict[str, int]) -> str:
    """A content-addressed id: the same text from the same source always gets the same id."""
    base = f"{hashlib.sha256(source.encode()).hexdigest()[:10]}-{chunk.content_hash[:24]}"
    n = seen.get(base, 0)
    seen[base] = n + 1
    return base if n == 0 else f"{base}-{n}"


def read_markdown(path: Path) -> str:
    """Read a text file, refusing binaries and oversized files with a clear reason."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def plan_ingest(chunked: dict[str, list[Chunk]], existing: dict[str, set[str]], keep_sources: set[str]) -> IngestPlan:
    """Compare freshly chunked files with stored ids. Sources neither chunked nor kept are removed."""
    plan = IngestPlan()
    for source, chunks in chunked.items():
        seen: dict[str, int] = {}
        wanted = {chunk_id(source, c, seen): c for c in chunks}
        stored = existing.get(source, set())
        plan.to_add.extend((i, c) for i, c in wanted.items() if i not in stored)
        plan.to_delete.extend(sorted(stored - wanted.keys()))
        plan.unchanged += len(stored & wanted.keys())
    for source, ids in existing.items():
        if source not in chunked and source not in keep_sources:
            plan.to_delete.extend(sorted(ids))
    return plan


class IngestStopped(RuntimeError):
    """The caller no longer wants the ingest (the app is closing); what was stored stays, the next ingest goes on."""


def ingest(
    files: list[SourceFile],
    store: KnowledgeStore,
    embedder: Embedder,
    *,
    min_tokens: int = 120,
    max_tokens: int = 350,
    progress: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
) -> IngestReport:
    """Make the collection mirror the given files: add new chunks, drop stale ones. `should_stop` is asked before
    each batch is embedded; when it says so, `IngestStopped` is raised and the batches already stored are kept."""
    started = time.perf_counter()
    report = IngestReport(files=len(files))
    chunked: dict[str, list[Chunk]] = {}
    kept: set[str] = set()
    for source in files:
        try:
            text = read_markdown(source.path)
            chunked[source.key] = chunk_markdown(text, source.key, min_tokens=min_tokens, max_tokens=max_tokens)
        except (OSError, ValueError, FrontMatterError) as exc:
            # Keep what was stored for a file that cannot be read now: nothing is lost.
            log.warning("skipped %s: %s", source.path, exc)
            report.skipped.append((str(source.path), str(exc)))
            kept.add(source.key)
    report.chunks = sum(len(c) for c in chunked.values())
    plan = plan_ingest(chunked, store.ids_by_source(), kept)
    report.unchanged = plan.unchanged
    if plan.to_delete:
        store.delete(plan.to_delete)
        report.deleted = len(plan.to_delete)
    if plan.to_add:
        batch = 64
        bar = tqdm(total=len(plan.to_add), desc="embedding", unit="chunk", disable=not progress)
        for start in range(0, len(plan.to_add), batch):
            if should_stop():
                bar.close()
                raise IngestStopped(f"ingest stopped with {start} of {len(plan.to_add)} new chunks stored")
            part = plan.to_add[start : start + batch]
            vectors = embedder.encode([c.document for _, c in part])
            store.add(
                [i for i, _ in part],
                [c.document for _, c in part],
                vectors,
                [c.metadata for _, c in part],
            )
            bar.update(len(part))
        bar.close()
        report.embedded = len(plan.to_add)
    report.seconds = time.perf_counter() - started
    return report

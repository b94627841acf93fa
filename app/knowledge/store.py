"""The knowledge store: Chroma collections of embedded chunks (embedded or client/server)."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The vector store could not be opened or used."""


@dataclass(frozen=True)
class StoredChunk:
    id: str
    document: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class DenseHit:
    id: str
    document: str
    metadata: dict[str, Any]
    similarity: float


REBUILD_HINT = "run `mockinterview ingest --rebuild` to delete it and index the knowledge base again"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_folder(path: Path, lock_wait_s: float = 5.0) -> None:
    """Refuse a corrupt or locked Chroma folder with one clear sentence, before Chroma waits on it forever."""
    database = path / "chroma.sqlite3"
    if not database.is_file():
        return
    try:
        conn = sqlite3.connect(database, timeout=lock_wait_s, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"The Chroma store at {path} cannot be opened ({_one_line(exc)}): {REBUILD_HINT}.") from exc
    try:
        conn.execute("BEGIN IMMEDIATE")  # waits up to lock_wait_s for another process's write lock
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(
                f"The Chroma store at {path} is locked by another process (is another mockinterview running?): "
                "stop it, or point MOCKINTERVIEW_DATA_DIR at another folder."
            ) from exc
        raise StoreError(f"The Chroma store at {path} is unreadable ({_one_line(exc)}): {REBUILD_HINT}.") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The Chroma store at {path} is corrupt ({_one_line(exc)}): {REBUILD_HINT}.") from exc
    finally:
        conn.close()


def open_client(
    mode: str, path: Path | None = None, host: str = "127.0.0.1", port: int = 8000, lock_wait_s: float = 5.0
) -> Any:
    """A Chroma client: persistent in a folder, or HTTP to a Chroma server. Telemetry is off."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if mode == "http":
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        if path is None:
            raise StoreError("An embedded Chroma store needs a folder.")
        path.mkdir(parents=True, exist_ok=True)
        check_folder(path, lock_wait_s)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except StoreError:
        raise
    except Exception as exc:
        if mode == "http":
            raise StoreError(f"Could not reach the Chroma server at {host}:{port}: {_one_line(exc)}") from exc
        raise StoreError(f"Could not open the Chroma store at {path} ({_one_line(exc)}): {REBUILD_HINT}.") from exc


def remove_store(path: Path) -> None:
    """Delete an embedded Chroma folder (to rebuild a corrupt store), forgetting any client open on it."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    if path.exists():
        shutil.rmtree(path)
    log.warning("deleted the Chroma store at %s", path)


class KnowledgeStore:
    """One Chroma collection. Embeddings are always computed by the caller, never by Chroma."""

    def __init__(self, client: Any, name: str) -> None:
        if len(name) < 3:
            raise StoreError(f"Collection name {name!r} is too short: use at least 3 characters.")
        self.name = name
        try:
            self._collection = client.get_or_create_collection(
                name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        except Exception as exc:
            raise StoreError(f"Could not open collection {name!r} ({_one_line(exc)}): {REBUILD_HINT}.") from exc

    def count(self) -> int:
        return int(self._collection.count())

    def ids_by_source(self) -> dict[str, set[str]]:
        """Every stored chunk id, grouped by source file."""
        got = self._collection.get(include=["metadatas"])
        grouped: dict[str, set[str]] = {}
        for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            grouped.setdefault(str((meta or {}).get("source", "")), set()).add(chunk_id)
        return grouped

    def add(self, ids: list[str], documents: list[str], embeddings: np.ndarray, metadatas: list[dict]) -> None:
        for start in range(0, len(ids), 256):
            end = start + 256
            self._collection.upsert(
                ids=ids[start:end],
                documents=documents[start:end],
                embeddings=embeddings[start:end].tolist(),
                metadatas=metadatas[start:end],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 256):
            self._collection.delete(ids=ids[start : start + 256])

    def all_chunks(self) -> list[StoredChunk]:
        got = self._collection.get(include=["documents", "metadatas"])
        return [
            StoredChunk(i, d or "", dict(m or {}))
            for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)
        ]

    def query(self, embedding: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[DenseHit]:
        """Nearest chunks by cosine similarity."""
        total = self.count()
        if total == 0:
            return []
        got = self._collection.query(
            query_embeddings=[embedding.tolist()],
            n_results=min(n, total),
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            DenseHit(i, d or "", dict(m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(
                got["ids"][0],
                (got["documents"] or [[]])[0],
                (got["metadatas"] or [[]])[0],
                (got["distances"] or [[]])[0],
                strict=False,
            )
        ]

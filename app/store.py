"""The knowledge store: Chroma collections of embedded chunks (embedded or client/server)."""

from __future__ import annotations

import logging
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


def open_client(mode: str, path: Path | None = None, host: str = "127.0.0.1", port: int = 8000) -> Any:
    """A Chroma client: persistent in a folder, or HTTP to a Chroma server. Telemetry is off."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if mode == "http":
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        if path is None:
            raise StoreError("An embedded Chroma store needs a folder.")
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except StoreError:
        raise
    except Exception as exc:
        where = f"{host}:{port}" if mode == "http" else str(path)
        raise StoreError(
            f"Could not open the Chroma store at {where}: {exc}. "
            "If the folder is corrupt, delete it and run `mockinterview ingest` again."
        ) from exc


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
            raise StoreError(f"Could not open collection {name!r}: {exc}") from exc

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

"""Hybrid retrieval: dense search in Chroma and BM25, fused by reciprocal rank fusion."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import bm25s
import numpy as np

from app.knowledge.aliases import AliasTable
from app.knowledge.embeddings import Embedder
from app.knowledge.store import KnowledgeStore, StoredChunk
from app.knowledge.tokens import Speller, tokenize, words


@dataclass
class SearchResult:
    id: str
    text: str
    heading: str
    source: str
    metadata: dict[str, Any]
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None
    lexical_score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    collection: str = ""  # the collection the passage came from


class Searcher(Protocol):
    """What the interviewer and the Knowledge tab search with: one collection, or several fused."""

    def search(
        self,
        query: str,
        k: int = 5,
        topic: str | None = None,
        step: int | None = None,
        *,
        vector: np.ndarray | None = None,
    ) -> list[SearchResult]: ...

    def warm(self) -> None:
        """Build now what a first search would wait for."""


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank starting at 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def collapse_sections(fused: list[tuple[str, float]], metadata: dict[str, dict[str, Any]]) -> list[tuple[str, float]]:
    """Each section's best passage first, in fused order; further passages of a section come after."""
    seen: set[tuple[Any, Any]] = set()
    firsts: list[tuple[str, float]] = []
    rest: list[tuple[str, float]] = []
    for chunk_id, score in fused:
        meta = metadata.get(chunk_id, {})
        key = (meta.get("source"), meta.get("heading", chunk_id))
        (rest if key in seen else firsts).append((chunk_id, score))
        seen.add(key)
    return firsts + rest


def blend_query(claim_vectors: np.ndarray, target_vector: np.ndarray, claim_weight: float = 0.3) -> np.ndarray:
    """A query vector for "notes on this target, in the light of what was said": the normalised mean of the
    claim's sentence vectors and the target's vector, weighted, then normalised again."""
    if claim_vectors.size == 0:
        return target_vector
    claim = claim_vectors.mean(axis=0)
    claim = claim / (np.linalg.norm(claim) or 1.0)
    query = claim_weight * claim + (1 - claim_weight) * target_vector
    return np.asarray(query / (np.linalg.norm(query) or 1.0), dtype=np.float32)


def matches_filter(metadata: dict[str, Any], topic: str | None, step: int | None) -> bool:
    if topic and metadata.get("topic") != topic:
        return False
    return not (step and not metadata.get(f"step_{step}"))


def chroma_where(topic: str | None, step: int | None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if topic:
        clauses.append({"topic": topic})
    if step:
        clauses.append({f"step_{step}": True})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


_ALIAS_LINE = re.compile(r"^\*\*Aliases:\*\*(.*)$", re.IGNORECASE | re.MULTILINE)


def field_tokens(chunk: StoredChunk, boost: int) -> list[str]:
    """The chunk's tokens for BM25: its document, then its heading and alias line repeated `boost` more times, so
    a query word in a concept's name or aliases weighs more than one in passing."""
    tokens = tokenize(chunk.document)
    if boost > 0:
        fields = " ".join([str(chunk.metadata.get("heading", "")), *_ALIAS_LINE.findall(chunk.document)])
        tokens += tokenize(fields) * boost
    return tokens


class LexicalIndex:
    """BM25 over stemmed tokens of every chunk, with a speller built from the corpus vocabulary."""

    def __init__(self, chunks: list[StoredChunk], field_boost: int = 0) -> None:
        self.chunks = chunks
        self.speller = Speller({w for c in chunks for w in words(c.document)})
        self._bm25 = bm25s.BM25()
        corpus = [field_tokens(c, field_boost) or ["_empty_"] for c in chunks]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def search(self, query: str, n: int, topic: str | None = None, step: int | None = None) -> list[tuple[int, float]]:
        """(chunk position, BM25 score) pairs, best first, only positive scores."""
        if not self.chunks:
            return []
        tokens = tokenize(self.speller.correct_text(query))
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens))
        order = np.argsort(-scores, kind="stable")
        hits: list[tuple[int, float]] = []
        for position in order:
            if scores[position] <= 0 or len(hits) >= n:
                break
            if matches_filter(self.chunks[position].metadata, topic, step):
                hits.append((int(position), float(scores[position])))
        return hits


class HybridRetriever:
    """Searches one collection; the BM25 index is built once and rebuilt after an ingest."""

    def __init__(
        self,
        store: KnowledgeStore,
        embedder: Embedder,
        *,
        candidates: int = 30,
        rrf_k: int = 60,
        thesaurus: HybridRetriever | None = None,
        expand_with: int = 3,
        aliases: AliasTable | None = None,
        field_boost: int = 0,
    ) -> None:
        self.store = store
        self.aliases = aliases  # the bundled concepts' aliases: a query naming one is expanded with its title
        self.field_boost = field_boost
        self.thesaurus = thesaurus  # a curated collection whose top concept names expand queries here
        self.expand_with = expand_with
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._lexical: LexicalIndex | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            self._lexical = None

    def warm(self) -> None:
        _ = self.lexical

    @property
    def lexical(self) -> LexicalIndex:
        with self._lock:
            if self._lexical is None:
                self._lexical = LexicalIndex(self.store.all_chunks(), self.field_boost)
            return self._lexical

    def expand(self, query: str) -> str:
        """The query plus the titles of concepts it names by an alias and, for a collection with a thesaurus, the
        names of the thesaurus concepts that match it best: their words bridge gaps."""
        if self.aliases is not None:
            query = self.aliases.expand(query)
        if self.thesaurus is None or self.thesaurus is self:
            return query
        names = [r.heading.split(" > ")[-1] for r in self.thesaurus.search(query, self.expand_with)]
        return " ".join([query, *names])

    def search(
        self,
        query: str,
        k: int = 5,
        topic: str | None = None,
        step: int | None = None,
        *,
        vector: np.ndarray | None = None,
    ) -> list[SearchResult]:
        """The k best passages for a query. `vector` is the query's embedding when the caller already has it
        (composed from vectors it computed for other reasons); BM25 still reads the query text."""
        query = query.strip()
        if not query:
            return []
        lexical = self.lexical
        by_id = {c.id: c for c in lexical.chunks}
        expanded = self.expand(lexical.speller.correct_text(query) or query)
        if vector is None:
            vector = self.embedder.encode_one(expanded)
        dense_hits = self.store.query(vector, self.candidates, where=chroma_where(topic, step))
        lexical_hits = lexical.search(expanded, self.candidates, topic, step)
        dense_ids = [h.id for h in dense_hits]
        lexical_ids = [lexical.chunks[pos].id for pos, _ in lexical_hits]
        meta = {h.id: h.metadata for h in dense_hits}
        meta.update({c.id: c.metadata for c in lexical.chunks})
        fused = collapse_sections(reciprocal_rank_fusion([dense_ids, lexical_ids], self.rrf_k), meta)[:k]
        dense_info = {h.id: (rank, h.similarity) for rank, h in enumerate(dense_hits, start=1)}
        lexical_info = {
            lexical.chunks[pos].id: (rank, score) for rank, (pos, score) in enumerate(lexical_hits, start=1)
        }
        results = []
        for chunk_id, score in fused:
            chunk = by_id.get(chunk_id)
            if chunk is None:
                dense = next(h for h in dense_hits if h.id == chunk_id)
                chunk = StoredChunk(dense.id, dense.document, dense.metadata)
            d = dense_info.get(chunk_id)
            lx = lexical_info.get(chunk_id)
            results.append(
                SearchResult(
                    id=chunk_id,
                    text=chunk.document,
                    heading=str(chunk.metadata.get("heading", "")),
                    source=str(chunk.metadata.get("source", "")),
                    metadata=chunk.metadata,
                    score=score,
                    dense_rank=d[0] if d else None,
                    dense_score=d[1] if d else None,
                    lexical_rank=lx[0] if lx else None,
                    lexical_score=lx[1] if lx else None,
                    collection=self.store.name,
                )
            )
        return results


class FederatedRetriever:
    """Searches the bundled knowledge and further collections (a user's notes) and fuses their rankings, so each
    result still names the collection it came from."""

    def __init__(self, retrievers: Sequence[Searcher], rrf_k: int = 60) -> None:
        if not retrievers:
            raise ValueError("a federated search needs at least one collection")
        self.retrievers = list(retrievers)
        self.rrf_k = rrf_k

    def warm(self) -> None:
        for retriever in self.retrievers:
            retriever.warm()

    def search(
        self,
        query: str,
        k: int = 5,
        topic: str | None = None,
        step: int | None = None,
        *,
        vector: np.ndarray | None = None,
    ) -> list[SearchResult]:
        """The k best passages over every collection, by reciprocal rank fusion of each collection's ranking."""
        if not query.strip():
            return []
        found: dict[str, SearchResult] = {}
        rankings: list[list[str]] = []
        for retriever in self.retrievers:
            hits = retriever.search(query, k, topic, step, vector=vector)
            keys = [f"{hit.collection}/{hit.id}" for hit in hits]
            found.update(zip(keys, hits, strict=True))
            rankings.append(keys)
        fused = reciprocal_rank_fusion(rankings, self.rrf_k)[:k]
        return [found[key] for key, _ in fused]


class TranslatingSearcher:
    """Searches with the English translation of a query written in another language; the knowledge base and the
    embedding model are English. Without a translation (no model running, or a failed one) the query is searched as
    written. A caller that brings its own query vector has composed the query itself and is searched as is."""

    def __init__(self, inner: Searcher, foreign: Callable[[str], bool], translate: Callable[[str], str | None]) -> None:
        self.inner = inner
        self.foreign = foreign
        self.translate = translate

    def warm(self) -> None:
        self.inner.warm()

    def english(self, query: str) -> str:
        """The query in English: translated when it is in another language and a translation is to be had."""
        if not self.foreign(query):
            return query
        return self.translate(query) or query

    def search(
        self,
        query: str,
        k: int = 5,
        topic: str | None = None,
        step: int | None = None,
        *,
        vector: np.ndarray | None = None,
    ) -> list[SearchResult]:
        if vector is None and query.strip():
            query = self.english(query.strip())
        return self.inner.search(query, k, topic, step, vector=vector)

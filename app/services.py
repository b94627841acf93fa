"""Builds the knowledge services from settings: store, embedder, retriever, ingestion."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.embeddings import Embedder, get_embedder
from app.grading import Grader
from app.ingest import IngestReport, collect_files, ingest
from app.interviewer import Interviewer
from app.knowledge import KnowledgeBase, cached_knowledge
from app.llm import LLM
from app.repository import SessionRepository
from app.retrieval import HybridRetriever
from app.room import Room
from app.settings import Settings
from app.store import KnowledgeStore, StoreError, open_client, remove_store

log = logging.getLogger(__name__)

KNOWLEDGE_EXCLUDE = ("README.md",)

_clients: dict[str, object] = {}
_retrievers: dict[tuple[str, str], HybridRetriever] = {}


def embedder_for(settings: Settings) -> Embedder:
    return get_embedder(settings.embedding_model_path)


def open_store(settings: Settings, collection: str | None = None) -> KnowledgeStore:
    """The collection (default: the bundled knowledge) in the configured Chroma."""
    key = f"{settings.chroma_mode}:{settings.chroma_dir}:{settings.chroma_host}:{settings.chroma_port}"
    if key not in _clients:
        _clients[key] = open_client(
            settings.chroma_mode,
            settings.chroma_dir,
            settings.chroma_host,
            settings.chroma_port,
            lock_wait_s=settings.chroma_lock_wait_s,
        )
    return KnowledgeStore(_clients[key], collection or settings.collection)


def retriever_for(settings: Settings, collection: str | None = None) -> HybridRetriever:
    """One retriever per collection and process, so the BM25 index is built once."""
    name = collection or settings.collection
    key = (str(settings.chroma_dir), name)
    if key not in _retrievers:
        # Other collections borrow the curated knowledge base's vocabulary to expand their queries.
        thesaurus = None
        if name != settings.collection and open_store(settings).count() > 0:
            thesaurus = retriever_for(settings)
        _retrievers[key] = HybridRetriever(
            open_store(settings, name),
            embedder_for(settings),
            candidates=settings.candidates,
            rrf_k=settings.rrf_k,
            thesaurus=thesaurus,
        )
    return _retrievers[key]


def ingest_paths(
    settings: Settings, paths: list[Path] | None = None, collection: str | None = None, progress: bool = False
) -> IngestReport:
    """Ingest markdown files or folders (default: the bundled knowledge base) into a collection."""
    files = collect_files(paths) if paths else collect_files([settings.knowledge_dir], exclude=KNOWLEDGE_EXCLUDE)
    store = open_store(settings, collection)
    report = ingest(
        files,
        store,
        embedder_for(settings),
        min_tokens=settings.chunk_min_tokens,
        max_tokens=settings.chunk_max_tokens,
        progress=progress,
    )
    retriever = _retrievers.get((str(settings.chroma_dir), store.name))
    if retriever is not None and (report.embedded or report.deleted):
        retriever.refresh()  # its BM25 index is stale; an ingest that changed nothing keeps it
    return report


def rebuild_store(settings: Settings) -> None:
    """Delete the embedded Chroma folder (every collection in it), so the next ingest starts from nothing."""
    if settings.chroma_mode != "embedded":
        raise StoreError("--rebuild deletes the embedded Chroma folder; a Chroma server is rebuilt on the server.")
    _clients.clear()
    _retrievers.clear()
    remove_store(settings.chroma_dir)


def ensure_knowledge(settings: Settings, progress: bool = False) -> IngestReport:
    """Ingest the bundled knowledge base when the store is empty or stale (a no-op when current)."""
    report = ingest_paths(settings, progress=progress)
    if report.embedded or report.deleted:
        log.info("knowledge base updated: %d chunks embedded, %d removed", report.embedded, report.deleted)
    return report


def knowledge_for(settings: Settings) -> KnowledgeBase:
    return cached_knowledge(settings.knowledge_dir)


def grader_for(settings: Settings) -> Grader:
    return Grader(knowledge_for(settings), embedder_for(settings))


def repository_for(settings: Settings) -> SessionRepository:
    return SessionRepository(settings.sqlite_url)


def interviewer_for(settings: Settings, llm: LLM | None) -> Interviewer:
    """The interview engine over the configured knowledge, store, database and LLM."""
    kb = knowledge_for(settings)  # a malformed knowledge file fails here, before the slower indexing
    ensure_knowledge(settings)
    engine = Interviewer(
        kb,
        grader_for(settings),
        retriever_for(settings),
        llm,
        repository_for(settings),
        max_message_chars=settings.max_message_chars,
    )
    engine.prepare()  # at start-up, not during the first candidate's first turn
    return engine


def prepare_knowledge(settings: Settings, progress: bool = False) -> None:
    """Everything on the knowledge side that a first turn needs: the store up to date, the embedding model with
    the rubric's vectors, and the BM25 index."""
    knowledge_for(settings)  # a malformed knowledge file fails here, before the slower indexing
    ensure_knowledge(settings, progress=progress)
    _ = grader_for(settings).index
    _ = retriever_for(settings).lexical


def start_engine(settings: Settings, start_llm: Callable[[], LLM], progress: bool = False) -> tuple[Interviewer, LLM]:
    """The engine and its model, ready for a first turn. The knowledge side is prepared in a thread while the
    model starts, so start-up takes about the longer of the two rather than their sum."""
    with ThreadPoolExecutor(1, thread_name_prefix="prepare-knowledge") as pool:
        knowledge = pool.submit(prepare_knowledge, settings, progress)
        llm = start_llm()
        try:
            knowledge.result()
            return interviewer_for(settings, llm), llm
        except BaseException:
            llm.close()
            raise


def room_for(engine: Interviewer, llm: LLM) -> Room:
    """The interview room the web app serves: the engine plus the backend's label for the start panel."""
    return Room(engine, llm.capabilities.label)

"""The composition root: builds and owns every long-lived object of one process, from settings.

The CLI, the web app, the bench and the evaluations each build one `Container`; tests build one with fakes. Nothing
else in `app/` keeps objects in module-level caches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from app.grading.language import query_in_other_language
from app.grading.scorecard import Grader
from app.grading.translation import TranslationCache, Translator
from app.interview.engine import Interviewer
from app.knowledge.aliases import AliasTable
from app.knowledge.base import KnowledgeBase, load_knowledge
from app.knowledge.embeddings import Embedder
from app.knowledge.ingest import IngestReport, IngestStopped, collect_files, ingest
from app.knowledge.retrieval import FederatedRetriever, HybridRetriever, Searcher, TranslatingSearcher
from app.knowledge.store import KnowledgeStore, StoreError, open_client, remove_store
from app.lifecycle import Lifecycle
from app.llm.backend import LLM
from app.llm.prompts import Prompts
from app.sessions.repository import SessionRepository
from app.settings import Settings
from app.web.room import Room

log = logging.getLogger(__name__)

KNOWLEDGE_EXCLUDE = ("README.md",)


class Container:
    """Settings, embedder, store, retrievers, knowledge base, grader (with its rubric index), LLM backend and
    session repository, each built once on first use and released by `close()`."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None, llm: LLM | None = None) -> None:
        self.settings = settings
        self.llm = llm
        self.lifecycle = Lifecycle()
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        self._retrievers: dict[str, HybridRetriever] = {}
        self._lock = threading.RLock()

    # ---------- the knowledge side ----------

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base; a malformed file fails here, before any slower indexing."""
        return load_knowledge(self.settings.knowledge_dir)

    @cached_property
    def embedder(self) -> Embedder:
        return Embedder(self.settings.embedding_model_path)

    @cached_property
    def chroma(self) -> Any:
        s = self.settings
        return open_client(s.chroma_mode, s.chroma_dir, s.chroma_host, s.chroma_port, lock_wait_s=s.chroma_lock_wait_s)

    def store(self, collection: str | None = None) -> KnowledgeStore:
        """The collection (default: the bundled knowledge) in the configured Chroma."""
        return KnowledgeStore(self.chroma, collection or self.settings.collection)

    def retriever(self, collection: str | None = None) -> HybridRetriever:
        """One retriever per collection, so its BM25 index is built once."""
        name = collection or self.settings.collection
        with self._lock:
            if name not in self._retrievers:
                # Other collections borrow the curated knowledge base's vocabulary to expand their queries.
                thesaurus = None
                if name != self.settings.collection and self.store().count() > 0:
                    thesaurus = self.retriever()
                self._retrievers[name] = HybridRetriever(
                    self.store(name),
                    self.embedder,
                    candidates=self.settings.candidates,
                    rrf_k=self.settings.rrf_k,
                    thesaurus=thesaurus,
                    aliases=self.aliases() if name == self.settings.collection else None,
                    field_boost=self.settings.field_boost,
                )
            return self._retrievers[name]

    def searcher(self) -> Searcher:
        """What the interviewer and the Knowledge tab search: the bundled knowledge, fused with the collections
        named in `search_collections` when there are any; a query in another language is searched in English."""
        extra = [name for name in self.settings.search_collections if name != self.settings.collection]
        searcher: Searcher = self.retriever()
        if extra:
            searcher = FederatedRetriever([searcher, *(self.retriever(name) for name in extra)], self.settings.rrf_k)
        return self.translating(searcher)

    def translating(self, searcher: Searcher) -> Searcher:
        """The searcher, with queries in other languages translated by the model while one is running."""
        return TranslatingSearcher(searcher, query_in_other_language, self.translate)

    def aliases(self) -> AliasTable | None:
        """The bundled concepts' aliases for query expansion (None when expansion is off)."""
        if not self.settings.expand_aliases:
            return None
        return AliasTable((c.title, c.aliases) for c in self.knowledge.concepts.values())

    @cached_property
    def prompts(self) -> Prompts:
        return Prompts(self.settings.prompts_dir)

    @cached_property
    def grader(self) -> Grader:
        return Grader(self.knowledge, self.embedder, translate=self.translate)

    def translate(self, text: str) -> str | None:
        """An English translation of an answer by this container's model (None while no model is running)."""
        if self.llm is None:
            return None
        cache = TranslationCache(self.settings.data_dir / "translations")
        return Translator(self.llm, self.prompts, cache)(text)

    def ingest(
        self,
        paths: list[Path] | None = None,
        collection: str | None = None,
        progress: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> IngestReport:
        """Ingest markdown files or folders (default: the bundled knowledge base) into a collection."""
        s = self.settings
        files = collect_files(paths) if paths else collect_files([s.knowledge_dir], exclude=KNOWLEDGE_EXCLUDE)
        store = self.store(collection)
        report = ingest(
            files,
            store,
            self.embedder,
            min_tokens=s.chunk_min_tokens,
            max_tokens=s.chunk_max_tokens,
            progress=progress,
            should_stop=should_stop,
        )
        retriever = self._retrievers.get(store.name)
        if retriever is not None and (report.embedded or report.deleted):
            retriever.refresh()  # its BM25 index is stale; an ingest that changed nothing keeps it
        return report

    def rebuild_store(self) -> None:
        """Delete the embedded Chroma folder (every collection in it), so the next ingest starts from nothing."""
        if self.settings.chroma_mode != "embedded":
            raise StoreError("--rebuild deletes the embedded Chroma folder; a Chroma server is rebuilt on the server.")
        with self._lock:
            self._retrievers.clear()
            self.__dict__.pop("chroma", None)
            remove_store(self.settings.chroma_dir)

    def ensure_knowledge(self, progress: bool = False, should_stop: Callable[[], bool] = lambda: False) -> IngestReport:
        """Ingest the bundled knowledge base when the store is empty or stale (a no-op when current)."""
        report = self.ingest(progress=progress, should_stop=should_stop)
        if report.embedded or report.deleted:
            log.info("knowledge base updated: %d chunks embedded, %d removed", report.embedded, report.deleted)
        return report

    def prepare_knowledge(self, progress: bool = False, stop: threading.Event | None = None) -> None:
        """Everything on the knowledge side that a first turn needs: the store up to date, the embedding model with
        the rubric's vectors, and the BM25 index. Once `stop` is set, it stops at the next step or batch."""
        stopped = stop.is_set if stop is not None else (lambda: False)
        _ = self.knowledge
        self.ensure_knowledge(progress=progress, should_stop=stopped)
        steps: list[Callable[[], object]] = [
            lambda: self.grader.index,
            lambda: self.grader.rivals,  # the bank's questions an answer is compared with, embedded before a review
            lambda: self.grader.expectations,  # and their own expectations
            lambda: self.grader.concept_vectors,  # and the concepts, to pick what a scorecard suggests to study
            lambda: self.searcher().warm(),
        ]
        for step in steps:
            if stopped():
                raise IngestStopped("start-up was abandoned before the knowledge side was ready")
            step()

    # ---------- sessions and the engine ----------

    @cached_property
    def repository(self) -> SessionRepository:
        return SessionRepository(self.settings.sqlite_url)

    def interviewer(self) -> Interviewer:
        """The interview engine over this container's knowledge, store, database and LLM (once prepared)."""
        engine = Interviewer(
            self.knowledge,
            self.grader,
            self.searcher(),
            self.llm,
            self.repository,
            max_message_chars=self.settings.max_message_chars,
            prompts=self.prompts,
        )
        engine.prepare()
        return engine

    def build_llm(self, show_progress: bool = False) -> LLM:
        """The LLM backend the settings ask for (an embedded server belongs to this container's lifecycle)."""
        from app.llm.factory import build_llm  # the LLM library loads only when a model is wanted

        return build_llm(self.settings, show_progress=show_progress, lifecycle=self.lifecycle)

    def start(self, start_llm: Callable[[], LLM], progress: bool = False) -> Interviewer:
        """The engine and its model, ready for a first turn. The knowledge side is prepared in a thread while the
        model starts, so start-up takes about the longer of the two rather than their sum."""
        done, abandoned = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        def prepare() -> None:
            try:
                self.prepare_knowledge(progress, stop=abandoned)
            except BaseException as exc:  # handed to the starting thread
                failures.append(exc)
            finally:
                done.set()

        # A daemon thread: a Ctrl-C during start-up does not wait for the indexing to finish. When the model fails
        # to start, the thread is told to stop too (at its next batch), so a process that goes on after the failure
        # (a test, a caller that retries) does not keep embedding the knowledge base in the background.
        threading.Thread(target=prepare, name="prepare-knowledge", daemon=True).start()
        try:
            self.llm = start_llm()
            done.wait()
            if failures:
                raise failures[0]
        except BaseException:
            abandoned.set()
            self.close()
            raise
        return self.interviewer()

    def room(self, engine: Interviewer) -> Room:
        """The interview room the web app serves: the engine plus the backend's label for the start panel."""
        label = self.llm.capabilities.label if self.llm is not None else "no model"
        return Room(engine, label)

    def close(self) -> None:
        """Stop the LLM backend and every model server this container started; safe to call more than once."""
        llm, self.llm = self.llm, None
        if llm is not None:
            llm.close()
        self.lifecycle.stop_servers()

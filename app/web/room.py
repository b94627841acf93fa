"""The interview room as a service for front ends: sessions per browser, turns under a per-session lock, snapshots of
what the screen shows, history and progress. No UI library here; the web UI and the HTTP API call these methods."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.interview.engine import FinalReport, Interviewer
from app.knowledge.base import Concept, KnowledgeBase
from app.llm.backend import LLMError
from app.sessions.database import DatabaseError
from app.sessions.repository import SessionRecord, SessionRepository, TurnRecord
from app.web.knowledge import SEARCH_RESULTS, Passage, concept_choices, study_choices, study_concepts
from app.web.report import chat_messages, final_markdown, report_json, report_markdown, scorecard_markdown, tracker_html

log = logging.getLogger(__name__)

RANDOM = "random"
WEAK = "weak"
DOMAIN_PREFIX = "domain:"
ALL_TOPICS = "all"
BUSY_MESSAGE = "The interviewer is still answering your previous message; wait for it to finish."
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RoomError(Exception):
    """A problem to show the candidate as one calm sentence; nothing was lost."""


@dataclass
class Snapshot:
    """What the room shows for one session."""

    session_id: str
    mode: str
    title: str
    messages: list[dict[str, str]]
    tracker: str
    ended: bool
    final: str = ""
    step_scores: list[tuple[str, float]] = field(default_factory=list)
    study: list[tuple[str, str]] = field(default_factory=list)  # (label, concept id) to open in the Knowledge tab


@dataclass
class Reviewed:
    """A reviewed answer: the scorecard to read and the concepts it asks to study, as (label, concept id)."""

    markdown: str
    study: list[tuple[str, str]]


@dataclass
class HistoryRow:
    session_id: str
    date: str
    mode: str
    title: str
    score: float | None
    status: str


def friendly(exc: BaseException) -> str:
    """One sentence for the candidate; details stay in the log."""
    if isinstance(exc, RoomError | DatabaseError | LLMError):
        return str(exc)
    if isinstance(exc, KeyError):
        return "That session could not be found. Start a new interview."
    return "Something went wrong on our side. Your messages so far are saved; try again."


@dataclass
class Room:
    engine: Interviewer
    backend_label: str
    reports_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "mockinterview-reports")
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    repo: SessionRepository = field(init=False)
    kb: KnowledgeBase = field(init=False)

    def __post_init__(self) -> None:
        self.repo = self.engine.repo
        self.kb = self.engine.kb

    @property
    def max_message_chars(self) -> int:
        return self.engine.max_message_chars

    def transcript(self, session_id: str) -> list[TurnRecord]:
        """The stored turns of a session."""
        return self.repo.turns(session_id)

    def has_message(self, session_id: str, text: str) -> bool:
        """Whether the candidate's message made it into the database."""
        try:
            turns = self.repo.turns(session_id)
        except Exception:
            return False
        return any(t.role == "candidate" and t.content == text for t in turns[-3:])

    # ---------- choices ----------

    def scenario_choices(self) -> list[tuple[str, str]]:
        """(label, value) pairs: random, aimed at weak steps, any question of a domain, then each scenario."""
        scenarios = self.kb.questions.scenarios
        domains = sorted({s.domain for s in scenarios})
        return [
            ("Random scenario", RANDOM),
            ("Aimed at my weak steps", WEAK),
            *[(f"Any {d} scenario", DOMAIN_PREFIX + d) for d in domains],
            *[(f"{s.title} ({s.domain})", s.id) for s in scenarios],
        ]

    def topic_choices(self) -> list[tuple[str, str]]:
        topics = sorted({c.topic for c in self.kb.concepts.values()})
        return [("All topics", ALL_TOPICS), ("Aimed at my weak concepts", WEAK), *[(t, t) for t in topics]]

    # ---------- sessions ----------

    def owned(self, session_id: Any, user: str) -> SessionRecord | None:
        """The session if the id is well formed, exists and belongs to this user; None otherwise."""
        if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
            return None
        record = self.repo.get_session(session_id)
        if record is None or record.user != user or record.mode not in ("mock", "drill"):
            return None
        return record

    def start(self, user: str, mode: str, choice: str = RANDOM, question: str = "", topic: str = ALL_TOPICS) -> str:
        """Open a mock interview or a drill; returns the session id."""
        if mode == "drill":
            session_id, _ = self.engine.start(
                "drill", user=user, topic=None if topic in (ALL_TOPICS, WEAK) else topic, aim_weak=topic == WEAK
            )
            return session_id
        if mode != "mock":
            raise RoomError(f"Unknown mode {mode!r}: choose a mock interview or a concept drill.")
        if len(question) > self.max_message_chars:
            raise RoomError(f"Your question is too long; keep it under {self.max_message_chars} characters.")
        kwargs: dict[str, Any] = {"user": user}
        if question.strip():
            kwargs["question"] = question
        elif choice == WEAK:
            kwargs["aim_weak"] = True
        elif choice.startswith(DOMAIN_PREFIX):
            kwargs["domain"] = choice.removeprefix(DOMAIN_PREFIX)
        elif choice and choice != RANDOM:
            kwargs["scenario_id"] = choice
        try:
            session_id, _ = self.engine.start("mock", **kwargs)
        except KeyError as exc:
            raise RoomError(f"Unknown scenario: {exc.args[0]}") from None
        return session_id

    def _lock(self, session_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(session_id, threading.Lock())

    def say(self, session_id: str, text: str) -> Iterator[str]:
        """The interviewer's reply to one message, streamed; one message per session at a time."""
        lock = self._lock(session_id)
        if not lock.acquire(blocking=False):
            raise RoomError(BUSY_MESSAGE)
        try:
            yield from self.engine.respond(session_id, text)
        finally:
            lock.release()

    def draft(self, session_id: Any, user: str, text: str) -> None:
        """The message as typed so far, for the model server to read ahead; nothing is stored."""
        record = self.owned(session_id, user)
        if record is not None and record.status != "ended" and text.strip():
            self.engine.draft(record.id, text)

    def _locked(self, session_id: str, action: str) -> Any:
        lock = self._lock(session_id)
        if not lock.acquire(timeout=120):
            raise RoomError(BUSY_MESSAGE)
        try:
            if action == "hint":
                return self.engine.hint(session_id)
            if action == "next":
                return self.engine.next_step(session_id)
            if action == "narrate":
                return self.engine.narrate(session_id)
            return self.engine.end(session_id, narrative=False)
        finally:
            lock.release()

    def hint(self, session_id: str) -> str:
        self._require_open(session_id)
        return str(self._locked(session_id, "hint"))

    def next_step(self, session_id: str) -> str:
        self._require_open(session_id)
        return str(self._locked(session_id, "next"))

    def end(self, session_id: str) -> FinalReport:
        """End the session and score it at once; the feedback's wording comes from the ledger until `narrate`."""
        report = self._locked(session_id, "end")
        assert isinstance(report, FinalReport)
        return report

    def narrate(self, session_id: str) -> FinalReport:
        """Word the ended session's feedback with the LLM; the scorecard itself does not change."""
        report = self._locked(session_id, "narrate")
        assert isinstance(report, FinalReport)
        return report

    def _require_open(self, session_id: str) -> None:
        record = self.repo.get_session(session_id)
        if record is None:
            raise KeyError(session_id)
        if record.status == "ended":
            raise RoomError("This session has ended. Start a new one to practise again.")

    # ---------- what the screen shows ----------

    def snapshot(self, session_id: str) -> Snapshot:
        view = self.engine.view(session_id)
        turns = self.repo.turns(session_id)
        kb = self.kb
        if view.mode == "mock":
            budget = kb.rubric.step(view.step).minutes.max * 60
            tracker = tracker_html(
                [s.name for s in kb.rubric.steps],
                view.step,
                ended=view.ended,
                covered=view.covered,
                partial=view.partial,
                total=view.total,
                seconds_left=view.seconds_left,
                budget_s=budget,
                stamp=time.time(),
            )
        else:
            where = "Drill finished." if view.ended else view.step_name.capitalize()
            tracker = f'<div class="mi-tracker"><p>{where}</p></div>'
        snap = Snapshot(session_id, view.mode, view.title, chat_messages(turns), tracker, view.ended)
        if view.ended:
            report = self.engine.end(session_id)
            snap.final = final_markdown(report, kb)
            snap.study = study_choices(kb, study_concepts(report))
            if report.scorecard is not None:
                snap.step_scores = [(f"{s.step}. {s.name}", s.score) for s in report.scorecard.steps]
        return snap

    def report_files(self, session_id: str) -> tuple[Path, Path]:
        """The transcript and, once ended, the scorecard: written as Markdown and JSON files for download."""
        record = self.repo.get_session(session_id)
        if record is None:
            raise KeyError(session_id)
        turns = self.repo.turns(session_id)
        report = self.engine.end(session_id) if record.status == "ended" else None
        title = self.engine.view(session_id).title
        folder = self.reports_dir / session_id
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"mock-interview-{session_id[:8]}"
        md, js = folder / f"{stem}.md", folder / f"{stem}.json"
        md.write_text(report_markdown(record, title, turns, report, self.kb), encoding="utf-8")
        js.write_text(report_json(record, title, turns, report), encoding="utf-8")
        return md, js

    # ---------- the knowledge base ----------

    def search(self, query: str, k: int = SEARCH_RESULTS) -> list[Passage]:
        """The best passages for a query, from the hybrid retriever the interviewer uses."""
        retriever = self.engine.retriever
        if retriever is None:
            raise RoomError("Search is not available: the knowledge base is not indexed on this server.")
        return list(retriever.search(query, k))

    def concept(self, concept_id: Any) -> Concept | None:
        """A concept of the knowledge base by id, or None."""
        return self.kb.concepts.get(concept_id) if isinstance(concept_id, str) else None

    def concept_choices(self) -> list[tuple[str, str]]:
        """(label, id) for every concept, by topic then title."""
        return concept_choices(self.kb)

    # ---------- review, history, progress ----------

    def review(self, user: str, question: str, answer: str) -> Reviewed:
        if not question.strip():
            raise RoomError("Write the interview question first.")
        if not answer.strip():
            raise RoomError("Write the answer to review first.")
        limit = self.max_message_chars * 4
        if len(answer) > limit:
            raise RoomError(f"That answer is too long to review; keep it under {limit} characters.")
        card = self.engine.review(question, answer, user=user)
        return Reviewed(scorecard_markdown(card, self.kb, title="Review"), study_choices(self.kb, study_concepts(card)))

    def history(self, user: str, limit: int = 50) -> list[HistoryRow]:
        rows = []
        for record in self.repo.list_sessions(user, limit):
            score = None
            stored = self.repo.scorecards(record.id).get(None)
            if stored:
                try:
                    report = FinalReport.model_validate_json(stored)
                except ValueError:  # a review stores a bare scorecard
                    report = None
                if report is not None and report.scorecard is not None:
                    score = report.scorecard.overall
                elif report is not None and report.concept_scores:
                    score = round(sum(report.concept_scores.values()) / len(report.concept_scores) * 5 / 4, 2)
                elif report is None:
                    score = _review_score(stored)
            rows.append(
                HistoryRow(
                    record.id,
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at)),
                    record.mode,
                    self._title(record),
                    score,
                    record.status,
                )
            )
        return rows

    def _title(self, record: SessionRecord) -> str:
        if record.mode == "drill":
            return "Concept drill"
        if record.mode == "review":
            return str(record.state.get("question", "Answer review"))[:60]
        try:
            return self.engine.scenario_of(record).title
        except KeyError:
            return str(record.scenario_id)

    def mastery_points(self, user: str) -> list[dict[str, Any]]:
        """Per-step mastery over time as rows (time, step, score 0-4) for a progress plot."""
        names = {str(s.step): f"{s.step}. {s.name}" for s in self.kb.rubric.steps}
        points = []
        for key, series in sorted(self.repo.mastery(user, "step").items()):
            for at, score in series:
                points.append(
                    {
                        "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)),
                        "step": names.get(key, key),
                        "score": round(score * 4, 2),
                    }
                )
        return points


def _review_score(stored: str) -> float | None:
    from app.grading.scorecard import Scorecard

    try:
        return Scorecard.model_validate_json(stored).overall
    except ValueError:
        return None

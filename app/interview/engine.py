"""The interview engine: mock interviews through the 7 steps, concept drills and answer review; no UI here.

`Interviewer` is the façade front ends call. The work is done by `MockFlow`, `DrillFlow`, `Wording` (questions in
words, from retrieved notes) and `Reports` (the end of a session)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.grading.scorecard import Grader, Scorecard
from app.interview.drill import DrillFlow
from app.interview.final import FinalReport, Reports, StudyItem
from app.interview.mock import MockFlow
from app.interview.policy import clean_message, truncate_view
from app.interview.results import SessionView, TurnResult
from app.interview.state import mock_state, scenario_of
from app.interview.wording import Wording
from app.knowledge.base import KnowledgeBase, Scenario
from app.knowledge.retrieval import Searcher, SearchResult
from app.llm.backend import LLM
from app.llm.prompts import Prompts
from app.sessions.repository import SessionRecord, SessionRepository

__all__ = ["FinalReport", "Interviewer", "SessionView", "StudyItem", "TurnResult"]

ENDED = "This session has ended. Start a new one to practise again."


@dataclass
class Interviewer:
    kb: KnowledgeBase
    grader: Grader
    retriever: Searcher | None
    llm: LLM | None
    repo: SessionRepository
    max_message_chars: int = 8000
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    prompts: Prompts = field(default_factory=Prompts)

    def __post_init__(self) -> None:
        self.wording = Wording(self.kb, self.grader.embedder, self.retriever, self.llm, self.repo, self.prompts)
        self.reports = Reports(self.kb, self.grader, self.llm, self.repo, self.prompts)
        self.mock = MockFlow(
            self.kb, self.grader, self.repo, self.wording, self.clock, self.end, self.retriever, self.rng
        )
        self.drill = DrillFlow(self.kb, self.grader.embedder, self.repo, self.rng, self.end)

    # ---------- starting ----------

    def choose_scenario(self, scenario_id: str | None, domain: str | None, aim_weak: bool, user: str) -> Scenario:
        scenarios = self.kb.questions.scenarios
        if scenario_id:
            return self.kb.scenario(scenario_id)
        if domain:
            pool = [s for s in scenarios if s.domain == domain]
            if not pool:
                known = ", ".join(sorted({s.domain for s in scenarios}))
                raise KeyError(f"no scenario in domain {domain!r}; the domains are: {known}")
            return self.rng.choice(pool)
        if aim_weak:
            weak_steps = self.repo.weakest(user, "step", [str(s) for s in range(1, 8)], 3)
            wanted = {c for s in weak_steps for i in self.kb.rubric.step(int(s)).checklist for c in i.concepts}
            return max(scenarios, key=lambda s: (len(wanted & set(s.concepts)), -scenarios.index(s)))
        return self.rng.choice(scenarios)

    def scenario_of(self, record: SessionRecord) -> Scenario:
        """The session's scenario: one of the question bank, or the candidate's own question."""
        return scenario_of(self.kb, record)

    def custom_scenario(self, question: str) -> Scenario:
        """A scenario for a question outside the bank; expectations are the framework's step goals."""
        return Scenario(
            id="custom",
            title=question.strip()[:60],
            domain="custom",
            prompt=question.strip(),
            expectations={s.step: [s.goal or s.name] for s in self.kb.rubric.steps},
        )

    def start(
        self,
        mode: str = "mock",
        *,
        question: str | None = None,
        scenario_id: str | None = None,
        domain: str | None = None,
        aim_weak: bool = False,
        user: str = "local",
        topic: str | None = None,
        drills: int = 3,
    ) -> tuple[str, str]:
        """Open a session; returns (session id, the interviewer's opening message)."""
        if mode == "drill":
            return self.drill.start(user, topic, drills, aim_weak)
        if question and question.strip():
            scenario = self.custom_scenario(question)
        else:
            scenario = self.choose_scenario(scenario_id, domain, aim_weak, user)
        session_id, opening = self.mock.start(scenario, user)
        self.wording.prime(session_id)
        return session_id, opening

    # ---------- a session ----------

    def _session(self, session_id: str) -> SessionRecord:
        record = self.repo.get_session(session_id)
        if record is None:
            raise KeyError(f"no session {session_id!r}")
        return record

    def view(self, session_id: str) -> SessionView:
        record = self._session(session_id)
        return self.drill.view(record) if record.mode == "drill" else self.mock.view(record)

    def respond(self, session_id: str, text: str) -> TurnResult:
        """Store the message, decide, word the reply and store it; the result says what the turn did."""
        record = self._session(session_id)
        if record.status == "ended":
            return TurnResult(session_id, ENDED, "ended")
        self.wording.begin_turn()
        self.repo.add_turn(session_id, "candidate", text)  # stored whole before anything else happens
        view, truncated = truncate_view(clean_message(text), self.max_message_chars)
        if record.mode == "drill":
            reply, meta = self.drill.turn(record, view)
            turn = TurnResult(session_id, reply, str(meta.get("action", "")))
        else:
            turn, meta = self.mock.turn(record, view)
        if truncated:
            turn.text = f"(Your message was long, so I read the first {len(view)} characters.) {turn.text}"
            turn.truncated = meta["truncated"] = True
        self.repo.add_turn(session_id, "interviewer", turn.text, meta)
        if "prompt" not in meta:  # a worded reply leaves its whole conversation in the server's cache already
            self.wording.prime(session_id)
        return turn

    def draft(self, session_id: str, text: str) -> None:
        """The message as typed so far: the model server reads it in the background, so that after Send only the
        turn's own notes and instruction are new to it, and its vectors are computed now rather than after Send."""
        record = self.repo.get_session(session_id)
        if record is None or record.mode != "mock" or record.status == "ended" or not text.strip():
            return
        view, _ = truncate_view(clean_message(text), self.max_message_chars)
        self.wording.prime(session_id, draft=view, ahead=lambda: self.mock.request_for(record, view))
        self.mock.read_ahead(view)

    def hint(self, session_id: str) -> str:
        record = self._session(session_id)
        return self.drill.hint(record) if record.mode == "drill" else self.mock.hint(record)

    def next_step(self, session_id: str) -> str:
        record = self._session(session_id)
        if record.mode == "drill":
            reply, meta = self.drill.turn(record, "", skip=True)
        else:
            reply, meta = self.mock.advance(record, mock_state(record)), {"action": "advance"}
        self.repo.add_turn(session_id, "interviewer", reply, meta)
        self.wording.prime(session_id)
        return reply

    def end(self, session_id: str, *, narrative: bool = True) -> FinalReport:
        """Final scorecard, model-answer outline and study plan (see `Reports.end`)."""
        return self.reports.end(self._session(session_id), narrative=narrative)

    def narrate(self, session_id: str) -> FinalReport:
        """Word an ended mock interview's feedback with the LLM (validated against the ledger); kept if it fails."""
        return self.reports.narrate(self._session(session_id))

    def review(self, question: str, answer: str, *, user: str = "local") -> Scorecard:
        """Answer review: a question and an answer in, the scorecard out (stored as a finished session)."""
        return self.reports.review(question, answer, user=user)

    def drill_score(self, concept_id: str, answer: str) -> float:
        return self.drill.score(concept_id, answer)

    # ---------- retrieval and the model server ----------

    def notes_for(self, claim: str, target: str) -> list[SearchResult]:
        return self.wording.notes_for(claim, target)

    def wait_primed(self, timeout_s: float | None = None) -> float:
        """Wait for a warm-up of the model server's cache in progress; returns the seconds waited."""
        return self.wording.wait_primed(timeout_s)

    def prepare(self) -> None:
        """Load now what the first turn would otherwise wait for: the embedding model with the rubric's vectors,
        the concepts' vectors (a message's distance from the knowledge base), the bank's expectations (a step's own
        scorecard) and the BM25 index."""
        _ = self.grader.index
        _ = self.grader.concept_vectors
        _ = self.grader.expectations
        if self.retriever is not None:
            self.retriever.warm()

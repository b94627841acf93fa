"""The end of a session: the final scorecard, the model-answer outline and study plan, the feedback's wording, and
answer review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from app.grading.feedback import write_narrative
from app.grading.scorecard import FRAMEWORK_TOPIC, Grader, Scorecard, interview_card, ledger_feedback
from app.interview.state import mock_state, scenario_of
from app.knowledge.base import KnowledgeBase
from app.llm.backend import LLM
from app.llm.prompts import Prompts
from app.sessions.repository import SessionRecord, SessionRepository

LEDGER_FEEDBACK = "(The language model's feedback could not be used, so the feedback is worded from the checklist.)"


class StudyItem(BaseModel):
    step: int
    name: str
    score: float
    concepts: list[str]


class FinalReport(BaseModel):
    session_id: str
    mode: str
    scorecard: Scorecard | None = None
    outline: dict[int, list[str]] = {}
    study_plan: list[StudyItem] = []
    concept_scores: dict[str, float] = {}
    notices: list[str] = []


@dataclass
class Reports:
    kb: KnowledgeBase
    grader: Grader
    llm: LLM | None
    repo: SessionRepository
    prompts: Prompts

    def end(self, record: SessionRecord, *, narrative: bool = True) -> FinalReport:
        """Final scorecard, model-answer outline and study plan; mastery is recorded for progress.

        With ``narrative=False`` the feedback is the ledger's own wording; `narrate` can word it with the LLM later,
        so a front end shows the scorecard at once."""
        stored = self.repo.scorecards(record.id).get(None)
        if record.status == "ended" and stored:
            return FinalReport.model_validate_json(stored)
        if record.mode == "drill":
            report = FinalReport(session_id=record.id, mode="drill", concept_scores=record.state.get("scores", {}))
        else:
            report = self._final_mock(record, narrative)
        self.repo.save_scorecard(record.id, None, report.model_dump_json())
        self.repo.save_state(record.id, record.state, status="ended")
        return report

    def narrate(self, record: SessionRecord) -> FinalReport:
        """Word an ended mock interview's feedback with the LLM (validated against the ledger); kept if it fails."""
        report = self.end(record, narrative=False)
        card = report.scorecard
        if card is None or card.narrative_source == "llm" or self.llm is None:
            return report
        answers = all_answers(record)
        if not answers:
            return report
        worded = write_narrative(card, answers, self.llm, self.kb, self.prompts)
        report = report.model_copy(update={"scorecard": worded})
        self.repo.save_scorecard(record.id, None, report.model_dump_json())
        return report

    def _final_mock(self, record: SessionRecord, narrative: bool = True) -> FinalReport:
        scenario = scenario_of(self.kb, record)
        answers = all_answers(record)
        hints = self.repo.hints(record.id)
        # The interviewer asked each step's question, so the answers are not judged against the bank's other questions.
        card = self.grader.grade(scenario.prompt, answers, hints_used=len(hints), judge_question=False)
        state = mock_state(record)
        card = interview_card(card, max(state.reached, state.step))
        card.narrative = ledger_feedback(card, self.kb)
        if narrative and self.llm is not None and answers:
            # validated; the ledger's wording otherwise
            card = write_narrative(card, answers, self.llm, self.kb, self.prompts)
        for step in card.steps:
            self.repo.record_mastery(record.user, "step", str(step.step), step.score / 4, record.id)
        notices = [LEDGER_FEEDBACK] if self.llm is not None and answers and card.narrative_source == "ledger" else []
        return FinalReport(
            session_id=record.id,
            mode="mock",
            scorecard=card,
            outline={int(k): v for k, v in scenario.expectations.items()},
            study_plan=self.study_plan(card),
            notices=notices,
        )

    def study_plan(self, card: Scorecard) -> list[StudyItem]:
        """The three weakest steps, each with up to three concepts behind its items not yet covered: the interview's
        own concepts first, then those closest to its question, so a delivery-time interview is not sent to NDCG."""
        scenario = next((s for s in self.kb.questions.scenarios if s.id == card.scenario_id), None)
        question = self.grader.embedder.encode_one(card.question)
        vectors = self.grader.concept_vectors

        def fit(concept: str) -> float:
            return float(vectors[concept] @ question) if concept in vectors else -1.0

        plan = []
        for step in sorted(card.steps, key=lambda s: (s.score, s.step))[:3]:
            concepts: list[str] = []
            for item in step.items:
                if item.verdict != "covered":
                    rubric_item = next(i for i in self.kb.rubric.step(step.step).checklist if i.id == item.id)
                    concepts.extend(c for c in rubric_item.concepts if c not in concepts)
            # A step never shown sends the candidate to the framework's pages on it first.
            basics = [c for c in concepts if c in self.kb.concepts and self.kb.concepts[c].topic == FRAMEWORK_TOPIC]
            basics.sort(key=lambda c: not self.kb.concepts[c].title.startswith(f"Step {step.step} "))  # its own page
            own = scenario.concepts if scenario is not None else []
            ranked = closest_first(concepts, own, fit, basics if step.score == 0 else [])
            plan.append(StudyItem(step=step.step, name=step.name, score=step.score, concepts=ranked[:3]))
        return plan

    def review(self, question: str, answer: str, *, user: str = "local") -> Scorecard:
        """Answer review: a question and an answer in, the scorecard out (stored as a finished session)."""
        card = self.grader.grade(question, answer)
        session_id = self.repo.create_session(
            user=user, mode="review", scenario_id=card.scenario_id, state={"question": question}
        )
        self.repo.add_turn(session_id, "interviewer", question, {"action": "review"})
        self.repo.add_turn(session_id, "candidate", answer)
        self.repo.save_scorecard(session_id, None, card.model_dump_json())
        self.repo.save_state(session_id, {"question": question}, status="ended")
        return card


def closest_first(
    concepts: list[str], own: list[str], fit: Callable[[str], float], basics: list[str] | None = None
) -> list[str]:
    """Concepts to read: `basics` first in their order, then those the question itself lists, then by how close each
    is to the question."""
    first = basics or []
    return sorted(concepts, key=lambda c: (first.index(c) if c in first else len(first), c not in own, -fit(c)))


def all_answers(record: SessionRecord) -> str:
    """Everything the candidate answered in a mock interview, step by step."""
    return mock_state(record).all_answers()

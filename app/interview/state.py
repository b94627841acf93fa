"""Typed session state, as stored in a session's `state` column. Sessions saved before these models existed load
too: every field they may lack has a default."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.knowledge.base import KnowledgeBase, Scenario
from app.sessions.repository import SessionRecord


class MockState(BaseModel):
    """Where a mock interview stands: the step, its clock and follow-ups, and what the candidate said per step."""

    step: int = 1
    step_started: float
    followups: int = 0
    hint_level: int = 0
    asked: list[str] = Field(default_factory=list)  # checklist items already asked about
    answers: dict[str, str] = Field(default_factory=dict)  # step number -> the candidate's answers in that step
    history_from: int | None = None  # where the step's conversation starts; None for sessions saved before it
    ledger: dict[str, dict[str, str]] = Field(default_factory=dict)  # step -> item id -> verdict, as last saved
    last_question: str | None = None
    reached: int = 1  # the highest step the interview got to
    depth_used: int = 0  # depth probes asked in the current step
    probed: list[str] = Field(default_factory=list)  # concepts whose questions were asked as depth probes
    counts: dict[str, int] = Field(default_factory=dict)  # replies to requests so far, by kind, so each one differs
    revisits: int = 0  # important gaps of earlier steps the interviewer came back to
    scenario: Scenario | None = None  # a custom question's scenario (bank scenarios are found by id)

    def answer(self, step: int) -> str:
        return self.answers.get(str(step), "")

    def all_answers(self) -> str:
        """Everything the candidate answered, in the order of the steps it was said in."""
        return "\n".join(self.answer(s) for s in range(1, 8)).strip()

    def bump(self, kind: str) -> int:
        """How many replies of this kind came before this one; counts it."""
        count = self.counts.get(kind, 0)
        self.counts = {**self.counts, kind: count + 1}
        return count

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class DrillState(BaseModel):
    """Where a concept drill stands: its questions, the current one, and the scores so far."""

    drills: list[str]
    index: int = 0
    phase: Literal["answer", "followup"] = "answer"
    scores: dict[str, float] = Field(default_factory=dict)
    answers: dict[str, str] = Field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def mock_state(record: SessionRecord) -> MockState:
    return MockState.model_validate(record.state)


def drill_state(record: SessionRecord) -> DrillState:
    return DrillState.model_validate(record.state)


def scenario_of(kb: KnowledgeBase, record: SessionRecord) -> Scenario:
    """The session's scenario: one of the question bank, or the candidate's own question."""
    custom = record.state.get("scenario")
    if custom is not None:
        return Scenario.model_validate(custom)
    return kb.scenario(str(record.scenario_id))

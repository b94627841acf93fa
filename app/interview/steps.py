"""Moving between a mock interview's steps, the opening question of each, and graduated hints."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.grading.evidence import ItemEvidence, split_sentences
from app.grading.scorecard import Grader
from app.interview.state import MockState, scenario_of
from app.knowledge.base import KnowledgeBase, Step
from app.sessions.repository import SessionRecord, SessionRepository


@dataclass
class StepMoves:
    kb: KnowledgeBase
    grader: Grader
    repo: SessionRepository
    clock: Callable[[], float]
    end_session: Callable[[str], Any]
    rng: random.Random

    def opening(self, step: Step) -> str:
        """One of the step's opening questions, so interviews of the same scenario do not all start alike."""
        return self.rng.choice([step.opening_question, *step.openings])

    def save_step_card(self, record: SessionRecord, state: MockState) -> None:
        """The step's own scorecard, kept for the record and for progress views."""
        step_text = state.answer(state.step)
        if step_text.strip():
            prompt = scenario_of(self.kb, record).prompt
            card = self.grader.grade(prompt, step_text, steps=[state.step], judge_question=False)
            self.repo.save_scorecard(record.id, state.step, card.model_dump_json())

    def move(self, record: SessionRecord, state: MockState, target: int, *, mid_turn: bool = False) -> None:
        """Go on in another step, with its own clock and follow-up budget. `mid_turn`: the candidate's message
        that moved the interview is already stored, and the new step's conversation starts with it."""
        self.save_step_card(record, state)
        state.step, state.step_started, state.reached = target, self.clock(), max(state.reached, target)
        state.followups, state.hint_level, state.depth_used = 0, 0, 0
        if not mid_turn:
            state.last_question = None
        state.history_from = len(self.repo.turns(record.id)) - (1 if mid_turn else 0)

    def hint_text(self, session_id: str, state: MockState, step: Step, items: list[ItemEvidence]) -> str:
        """The next hint level for the step's most important item not yet covered (recorded for the scorecard)."""
        covered = {i.item_id for i in items if i.verdict == "covered"}
        target = next(
            (i for i in sorted(step.checklist, key=lambda i: -i.weight) if i.id not in covered), step.checklist[0]
        )
        level = min(state.hint_level + 1, 3)
        state.hint_level = level
        concept = self.kb.concepts.get(target.concepts[0]) if target.concepts else None
        if level == 1:
            text = f"Hint: {target.hint_area or step.goal}"
        elif level == 2 and concept is not None:
            text = f"Hint: a concept worth bringing in here is {concept.title.lower()}."
        else:
            explanation = " ".join(s.text for s in split_sentences(concept.explanation)[:2]) if concept else ""
            text = f"Hint: {explanation or target.description}"
        self.repo.add_hint(session_id, step.step, target.id, level, text)
        return text

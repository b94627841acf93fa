"""The concept drill: a few questions on single concepts, each answer scored against the concept's key points, with
one follow-up per question."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.grading.evidence import split_sentences
from app.interview.policy import Intent, classify
from app.interview.results import SessionView
from app.interview.state import DrillState, drill_state
from app.knowledge.base import Drill, KnowledgeBase
from app.knowledge.embeddings import Embedder
from app.sessions.repository import SessionRecord, SessionRepository

DRILL_COVERED_SIM = 0.55
NO_ANSWER = (Intent.EMPTY, Intent.IDK, Intent.ANSWER_REQUEST, Intent.SYSTEM_PROBE)


@dataclass
class DrillFlow:
    kb: KnowledgeBase
    embedder: Embedder
    repo: SessionRepository
    rng: random.Random
    end_session: Callable[[str], Any]

    def start(self, user: str, topic: str | None, count: int, aim_weak: bool) -> tuple[str, str]:
        pool = [d for d in self.kb.questions.drills if topic is None or self.kb.concepts[d.concept].topic == topic]
        if not pool:
            known = ", ".join(sorted({self.kb.concepts[d.concept].topic for d in self.kb.questions.drills}))
            raise KeyError(f"no drill questions for topic {topic!r}; the topics are: {known}")
        if aim_weak:
            concepts = sorted({d.concept for d in pool})
            weak = self.repo.weakest(user, "concept", concepts, count)
            chosen = [next(d for d in pool if d.concept == c) for c in weak]
        else:
            chosen = self.rng.sample(pool, min(count, len(pool)))
        state = DrillState(drills=[d.id for d in chosen])
        session_id = self.repo.create_session(user=user, mode="drill", scenario_id=None, state=state.stored())
        first = chosen[0]
        opening = f"Concept drill, {len(chosen)} questions. Question 1: {first.question}"
        self.repo.add_turn(session_id, "interviewer", opening, {"action": "open", "drill": first.id})
        return session_id, opening

    def view(self, record: SessionRecord) -> SessionView:
        state = drill_state(record)
        total = len(state.drills)
        number = min(state.index + 1, total)
        ended = record.status == "ended"
        return SessionView(record.id, "drill", "Concept drill", number, f"question {number} of {total}", 0.0, 0, 0,
                           total, ended)  # fmt: skip

    def current(self, state: DrillState) -> Drill:
        drill_id = state.drills[min(state.index, len(state.drills) - 1)]
        return next(d for d in self.kb.questions.drills if d.id == drill_id)

    def score(self, concept_id: str, answer: str) -> float:
        """0-4: the share of the concept's key points that the answer states (semantic match per sentence)."""
        concept = self.kb.concepts[concept_id]
        sentences = [s.text for s in split_sentences(answer)]
        if not sentences or not concept.key_points:
            return 0.0
        points = self.embedder.encode(concept.key_points)
        sims = self.embedder.encode(sentences) @ points.T
        covered = int(np.sum(sims.max(axis=0) >= DRILL_COVERED_SIM))
        return round(4.0 * covered / len(concept.key_points), 1)

    def hint(self, record: SessionRecord) -> str:
        drill = self.current(drill_state(record))
        concept = self.kb.concepts[drill.concept]
        text = f"Hint: think about {concept.title.lower()}: {concept.key_points[0] if concept.key_points else ''}"
        self.repo.add_hint(record.id, 0, drill.concept, 1, text)
        self.repo.add_turn(record.id, "interviewer", text, {"action": "hint"})
        return text

    def turn(self, record: SessionRecord, text: str, skip: bool = False) -> tuple[str, dict[str, Any]]:
        """The reply to one drill message (or to a skip), and the turn's record."""
        state = drill_state(record)
        drill = self.current(state)
        intent = Intent.NEXT if skip else classify(text)
        if intent == Intent.HINT:
            return self.hint(record), {"action": "hint"}
        if intent in NO_ANSWER:
            return self._no_answer(intent, drill), {"action": intent.value}
        if intent == Intent.END:
            self.end_session(record.id)
            return "Drill finished. Your concept scores are ready.", {"action": "end"}
        key = drill.concept
        if state.phase == "answer" and intent != Intent.NEXT:
            state.answers[key] = text
            state.scores[key] = self.score(key, text)
            state.phase = "followup"
            self.repo.save_state(record.id, state.stored())
            followup = drill.followup or "What would make you choose differently?"
            return followup, {"action": "followup", "drill": drill.id}
        if intent != Intent.NEXT:
            combined = f"{state.answers.get(key, '')}\n{text}"
            state.scores[key] = max(state.scores.get(key, 0.0), self.score(key, combined))
        self.repo.record_mastery(record.user, "concept", key, state.scores.get(key, 0.0) / 4, record.id)
        return self._next_question(record, state)

    def _no_answer(self, intent: Intent, drill: Drill) -> str:
        replies = {
            Intent.EMPTY: f"Take your time. {drill.question}",
            Intent.IDK: f"Start from what you know: when have you seen this come up? {drill.question}",
            Intent.ANSWER_REQUEST: f"I won't hand over the answer, but type 'hint' for a nudge. {drill.question}",
            Intent.SYSTEM_PROBE: f"Let's keep to the drill. {drill.question}",
        }
        return replies[intent]

    def _next_question(self, record: SessionRecord, state: DrillState) -> tuple[str, dict[str, Any]]:
        state.index += 1
        state.phase = "answer"
        self.repo.save_state(record.id, state.stored())
        if state.index >= len(state.drills):
            self.end_session(record.id)
            return "That was the last question. Your concept scores are ready.", {"action": "end"}
        nxt = self.current(state)
        return f"Question {state.index + 1}: {nxt.question}", {"action": "next", "drill": nxt.id}

"""The mock interview: the 7 steps in order, each message classified, added to the step's evidence ledger, and
answered by the move the policy decides (follow up, challenge, hint, scaffold, redirect, move on or end)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.grading.evidence import ItemEvidence, build_ledger, split_sentences, stems_of
from app.grading.injection import find_injections
from app.grading.scorecard import Grader, step_ratio
from app.interview.policy import Gap, Intent, classify, decide
from app.interview.results import MockTurn, SessionView, TurnResult
from app.interview.state import MockState, mock_state, scenario_of
from app.interview.wording import Wording
from app.knowledge.base import KnowledgeBase, Scenario, Step
from app.llm.prompts import fence_candidate
from app.sessions.repository import SessionRecord, SessionRepository

MAX_FOLLOWUPS = 3
ON_TOPIC_SIM = 0.2


@dataclass
class MockFlow:
    kb: KnowledgeBase
    grader: Grader
    repo: SessionRepository
    wording: Wording
    clock: Callable[[], float]
    end_session: Callable[[str], Any]

    def start(self, scenario: Scenario, user: str) -> tuple[str, str]:
        state = MockState(step_started=self.clock(), history_from=0)
        if scenario.id == "custom":
            state.scenario = scenario
        session_id = self.repo.create_session(user=user, mode="mock", scenario_id=scenario.id, state=state.stored())
        step = self.kb.rubric.step(1)
        opening = f"{scenario.prompt}\n\nLet's start with step 1, {step.name.lower()}: {step.opening_question}"
        self.repo.add_turn(session_id, "interviewer", opening, {"action": "open"})
        return session_id, opening

    def view(self, record: SessionRecord) -> SessionView:
        state = mock_state(record)
        step = self.kb.rubric.step(min(state.step, 7))
        verdicts = self.step_verdicts(state, step.step)
        return SessionView(
            record.id,
            "mock",
            scenario_of(self.kb, record).title,
            step.step,
            step.name,
            max(0.0, step.minutes.max * 60 - (self.clock() - state.step_started)),
            verdicts.count("covered"),
            verdicts.count("partial"),
            len(step.checklist),
            record.status == "ended",
        )

    def step_verdicts(self, state: MockState, step: int) -> list[str]:
        """The step's verdicts as saved by the last answer; rebuilt only for sessions saved without them."""
        if not state.answer(step).strip():
            return []
        saved = state.ledger.get(str(step))
        if saved is not None:
            return list(saved.values())
        return [i.verdict for i in self.step_items(state, step)]

    def step_items(self, state: MockState, step: int) -> list[ItemEvidence]:
        text = state.answer(step)
        if not text.strip():
            return []
        return build_ledger(text, self.grader.index, find_injections(text), [step]).items

    # ---------- one message ----------

    def turn(self, record: SessionRecord, text: str) -> tuple[TurnResult, dict[str, Any]]:
        """The reply to one message, and the record stored with it."""
        state = mock_state(record)
        scenario = scenario_of(self.kb, record)
        step = self.kb.rubric.step(state.step)
        intent = classify(text, on_topic=self.on_topic(text, scenario, step))
        new_flags: list[Any] = []
        if intent == Intent.ANSWER:
            clean = text
            for span in reversed(find_injections(text)):
                clean = clean[: span.start] + clean[span.end :]
            state.answers[str(step.step)] = f"{state.answer(step.step)}\n{clean}".strip()
            items = self.step_items(state, step.step)
            state.ledger = {**state.ledger, str(step.step): {i.item_id: i.verdict for i in items}}
            ledger = build_ledger(clean, self.grader.index, [], [step.step])
            new_flags = [f for f in ledger.flags if f.step == step.step] or ledger.flags
        else:
            items = self.step_items(state, step.step)
        decision = decide(
            intent,
            coverage=step_ratio(items) if items else 0.0,
            gaps=[Gap(i.item_id, i.weight, i.verdict) for i in items if i.verdict != "covered"]
            or [Gap(i.id, i.weight, "missing") for i in step.checklist],
            new_flags=[f.flag_id for f in new_flags],
            elapsed_s=self.clock() - state.step_started,
            budget_s=step.minutes.max * 60,
            followups=state.followups,
            max_followups=MAX_FOLLOWUPS,
            asked=state.asked,
        )
        turn = MockTurn(record, state, scenario, step, decision, text, new_flags)
        reply = self._act(turn)
        if decision.action not in ("advance", "end"):
            self.repo.save_state(record.id, state.stored())
        return self._result(turn, reply)

    def _result(self, turn: MockTurn, reply: str) -> tuple[TurnResult, dict[str, Any]]:
        decision = turn.decision
        meta: dict[str, Any] = {
            "action": decision.action,
            "item": decision.item_id,
            "flag": decision.flag_id,
            "reason": decision.reason,
            "step": turn.step.step,
        }
        if turn.prompt is not None:
            meta["prompt"] = turn.prompt  # later turns show the model this exact message again
        if turn.notices:
            meta["notice"] = " ".join(turn.notices)
            reply = f"{meta['notice']}\n\n{reply}"  # the notice first: the reply still ends with its question
        result = TurnResult(
            turn.record.id,
            reply,
            decision.action,
            step=turn.step.step,
            item=decision.item_id,
            flag=decision.flag_id,
            reason=decision.reason,
            concepts=turn.concepts,
            notices=turn.notices,
            calls=turn.calls,
        )
        return result, meta

    def on_topic(self, text: str, scenario: Scenario, step: Step) -> bool:
        stems = set(stems_of(text))
        for target in self.grader.index.items:
            if any(t.content and t.content <= stems for t in target.terms if len(t.content) >= 1 and len(t.name) > 4):
                return True
        embedder = self.grader.embedder
        sim = float(
            embedder.encode_one(text[:2000])
            @ embedder.encode_one(f"{scenario.prompt} {step.name} {step.opening_question}")
        )
        return sim >= ON_TOPIC_SIM

    # ---------- the moves ----------

    def _act(self, turn: MockTurn) -> str:
        """The reply for the turn's decision, from the handler of its action."""
        handlers: dict[str, Callable[[MockTurn], str]] = {
            "nudge": lambda t: f"Take your time. {self._current_question(t)}",
            "redirect": lambda t: f"Let's keep to the interview. {self._current_question(t)}",
            "offer_hint": lambda t: (
                "I won't hand you the answer, but I can give you a hint: type 'hint'. " + self._current_question(t)
            ),
            "scaffold": lambda t: t.step.scaffold or self._current_question(t),
            "hint": lambda t: self.hint_text(t.record.id, t.state, t.step),
            "advance": lambda t: self.advance(t.record, t.state),
            "end": self._end,
            "challenge": self._challenge,
        }
        return handlers.get(turn.decision.action, self._followup)(turn)

    def _current_question(self, turn: MockTurn) -> str:
        return turn.state.last_question or turn.step.opening_question

    def _end(self, turn: MockTurn) -> str:
        turn.notices.extend(self.end_session(turn.record.id).notices)
        return "Thanks, that's the end of the interview. Your scorecard is ready."

    def _challenge(self, turn: MockTurn) -> str:
        flag, state = turn.new_flags[0], turn.state
        state.followups += 1
        state.last_question = flag.challenge
        values = {
            "step_name": turn.step.name,
            "claim_quote": flag.quote,
            "context": self.wording.context(turn, flag.quote, flag.claim),
            "challenge": flag.challenge,
        }
        return self.wording.word(turn, "interviewer_challenge", values, fallback=flag.challenge, forbidden=[])

    def _followup(self, turn: MockTurn) -> str:
        state, step = turn.state, turn.step
        item = next(i for i in step.checklist if i.id == turn.decision.item_id)
        state.followups += 1
        state.asked = [*state.asked, item.id]
        state.last_question = item.probe
        forbidden = self.wording.forbidden_terms(item, state.answer(step.step))
        values = {
            "step_name": step.name,
            "context": self.wording.context(turn, turn.text, item.description),
            "candidate": fence_candidate(turn.text[-1500:]),
            "target": item.description,
            "forbidden": ", ".join(forbidden[:8]) or "none",
        }
        return self.wording.word(turn, "interviewer_followup", values, fallback=item.probe, forbidden=forbidden)

    # ---------- hints and steps ----------

    def hint_text(self, session_id: str, state: MockState, step: Step) -> str:
        """The next hint level for the step's most important item not yet covered (recorded for the scorecard)."""
        covered = {i.item_id for i in self.step_items(state, step.step) if i.verdict == "covered"}
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

    def hint(self, record: SessionRecord) -> str:
        state = mock_state(record)
        text = self.hint_text(record.id, state, self.kb.rubric.step(state.step))
        self.repo.save_state(record.id, state.stored())
        self.repo.add_turn(record.id, "interviewer", text, {"action": "hint"})
        return text

    def advance(self, record: SessionRecord, state: MockState) -> str:
        finished = state.step
        step_text = state.answer(finished)
        if step_text.strip():  # the step's own scorecard, kept for the record and for progress views
            prompt = scenario_of(self.kb, record).prompt
            card = self.grader.grade(prompt, step_text, steps=[finished], judge_question=False)
            self.repo.save_scorecard(record.id, finished, card.model_dump_json())
        if finished >= 7:
            self.repo.save_state(record.id, state.stored())
            self.end_session(record.id)
            return "That was the last step. Thanks, the interview is over and your scorecard is ready."
        state.step, state.step_started = finished + 1, self.clock()
        state.followups, state.hint_level, state.last_question = 0, 0, None
        state.history_from = len(self.repo.turns(record.id))  # the new step's conversation starts with this reply
        self.repo.save_state(record.id, state.stored())
        step = self.kb.rubric.step(finished + 1)
        return f"Let's move on to step {step.step}, {step.name.lower()}. {step.opening_question}"

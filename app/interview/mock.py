"""The mock interview: each message classified, added to one conversation-wide evidence ledger (what the candidate
shows counts for its own step whenever it is said), and answered by the move the policy decides. The interview
follows a candidate who moves ahead, probes their own claims from the concepts their words retrieve, comes back
to important gaps before moving on, and never asks about what is already covered."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from app.grading.evidence import ItemEvidence, build_ledger, split_sentences, stems_of
from app.grading.injection import find_injections
from app.grading.language import paragraphs_to_translate
from app.grading.scorecard import VERDICT_VALUE, Grader, step_ratio
from app.interview import meta
from app.interview.policy import (
    COVERED_ENOUGH,
    Gap,
    Intent,
    classify,
    decide,
    followed_step,
    gap_to_revisit,
    next_open_step,
)
from app.interview.probes import (
    common_naming_words,
    common_prompt_words,
    pick_seed,
    product_words,
    scenario_words,
    touched_concepts,
)
from app.interview.questions import Questions
from app.interview.read_ahead import NOTHING_ENDED, DraftRepository, RequestRecorder
from app.interview.results import MockTurn, SessionView, TurnResult
from app.interview.state import MockState, mock_state, scenario_of
from app.interview.steps import StepMoves
from app.interview.wording import Wording
from app.knowledge.base import Concept, KnowledgeBase, Scenario, Step
from app.knowledge.retrieval import Searcher
from app.knowledge.tokens import tokenize
from app.llm.backend import Message
from app.sessions.repository import SessionRecord, SessionRepository

MAX_FOLLOWUPS = 3
ON_TOPIC_SIM = 0.2
OFF_TOPIC_MIN_WORDS = 8  # shorter messages ("ok", "yes, go on") are not judged off topic by distance
OFF_TOPIC_QUESTION_SIM = 0.2
OFF_TOPIC_CONCEPT_SIM = 0.35
ASKING = ("followup", "depth_probe", "challenge")  # moves that end in a question of the interviewer's
KEPT_LEDGERS = 64  # sessions whose conversation ledger is kept between messages


def open_steps(items: list[ItemEvidence]) -> set[int]:
    """Steps whose checklist is not yet covered enough, judged on the whole conversation."""
    return {s for s in range(1, 8) if step_ratio([i for i in items if i.step == s]) < COVERED_ENOUGH}


def gaps_by_step(items: list[ItemEvidence]) -> dict[int, list[Gap]]:
    gaps: dict[int, list[Gap]] = {}
    for item in items:
        if item.verdict != "covered":
            gaps.setdefault(item.step, []).append(Gap(item.item_id, item.weight, item.verdict))
    return gaps


def evidence_by_step(items: list[ItemEvidence]) -> dict[int, float]:
    """A message's own evidence per step: the weight of the items it covers, less for those it covers in part."""
    evidence: dict[int, float] = {}
    for item in items:
        evidence[item.step] = evidence.get(item.step, 0.0) + item.weight * VERDICT_VALUE[item.verdict]
    return evidence


def shown_sentences(items: list[ItemEvidence], question: str) -> list[str]:
    """The message's sentences that covered an item and are about the asked problem (they share a word of the
    question): worth noting back. A rubric word used about something else ("a cost-center label on every pod")
    is not."""
    asked = {t for t in tokenize(question) if len(t) > 3}
    quotes = [i.quotes[0] for i in items if i.verdict == "covered" and i.quotes]
    return [q for q in dict.fromkeys(quotes) if asked & set(tokenize(q))]


@dataclass
class MockFlow:
    kb: KnowledgeBase
    grader: Grader
    repo: SessionRepository
    wording: Wording
    clock: Callable[[], float]
    end_session: Callable[[str], Any]
    searcher: Searcher | None = None
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._ledgers: dict[str, tuple[str, list[ItemEvidence]]] = {}  # per session: its text and its ledger
        self._foreign: dict[tuple[str, str], frozenset[str]] = {}  # per scenario: other products' words
        self.steps = StepMoves(self.kb, self.grader, self.repo, self.clock, self.end_session, self.rng)
        self.questions = Questions(self.wording)
        self.common_names = common_naming_words(self.kb)
        self.product_words = product_words(self.kb)
        self.prompt_words = common_prompt_words(self.kb)
        self.item_words = {
            i.id: set(tokenize(" ".join([i.description, *i.examples, *i.key_terms]))) for _, i in self.kb.rubric.items()
        }

    def start(self, scenario: Scenario, user: str) -> tuple[str, str]:
        state = MockState(step_started=self.clock(), history_from=0)
        if scenario.id == "custom":
            state.scenario = scenario
        session_id = self.repo.create_session(user=user, mode="mock", scenario_id=scenario.id, state=state.stored())
        step = self.kb.rubric.step(1)
        question = self.steps.opening(step)
        state.last_question = question
        self.repo.save_state(session_id, state.stored())
        opening = f"{scenario.prompt}\n\nLet's start with step 1, {step.name.lower()}: {question}"
        self.repo.add_turn(session_id, "interviewer", opening, {"action": "open"})
        return session_id, opening

    def view(self, record: SessionRecord) -> SessionView:
        state = mock_state(record)
        step = self.kb.rubric.step(min(state.step, 7))
        verdicts = self.step_verdicts(state, step.step, record.id)
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

    def step_verdicts(self, state: MockState, step: int, session: str = "") -> list[str]:
        """The step's verdicts on the whole conversation as saved by the last answer; rebuilt when not saved."""
        saved = state.ledger.get(str(step))
        if saved is not None:
            return list(saved.values())
        return [i.verdict for i in self.conversation(state, session) if i.step == step]

    def conversation(self, state: MockState, session: str = "") -> list[ItemEvidence]:
        """Every checklist item of every step, judged on everything the candidate has said (kept per session: a
        turn asks more than once)."""
        text = state.all_answers()
        if not text:
            return []
        kept = self._ledgers.get(session)
        if kept is not None and kept[0] == text:
            return kept[1]
        items = build_ledger(text, self.grader.index, find_injections(text)).items
        self._keep(session, text, items)
        return items

    def _keep(self, session: str, text: str, items: list[ItemEvidence]) -> None:
        self._ledgers.pop(session, None)
        self._ledgers[session] = (text, items)
        while len(self._ledgers) > KEPT_LEDGERS:
            del self._ledgers[next(iter(self._ledgers))]

    # ---------- one message ----------

    def turn(self, record: SessionRecord, text: str) -> tuple[TurnResult, dict[str, Any]]:
        """The reply to one message, and the record stored with it."""
        state = mock_state(record)
        scenario = scenario_of(self.kb, record)
        english, _ = self.grader.english_text(text)  # content in any language counts; replies stay in English
        intent = classify(english, on_topic=self.on_topic(english, scenario, self.kb.rubric.step(state.step)))
        new_flags: list[Any] = []
        seed = None
        touched: list[str] = []
        if intent in (Intent.ANSWER, Intent.ANSWER_REQUEST):  # what is said beside a request counts too
            clean = english
            for span in reversed(find_injections(english)):
                clean = clean[: span.start] + clean[span.end :]
            message = build_ledger(clean, self.grader.index, [])
            items = self.absorb(record, state, clean, message.items)
        else:
            items = self.conversation(state, record.id)
        if intent == Intent.ANSWER:
            flags = message.flags
            new_flags = [f for f in flags if f.step == state.step] or flags
            concepts = self.touched(clean)
            touched = [c.id for c in concepts]
            earlier = [t.content for t in self.repo.turns(record.id) if t.role == "interviewer"]
            foreign = self.foreign_words(scenario)
            seed = pick_seed(
                clean, concepts, state.step, state.probed, earlier, self.common_names, scenario.prompt, foreign
            )
        step = self.kb.rubric.step(state.step)
        step_items = [i for i in items if i.step == step.step]
        said = set(tokenize(english)) - set(tokenize(scenario.prompt)) if intent == Intent.ANSWER else set()

        open_items = [i for i in step_items if i.verdict != "covered"]

        def affinity(item_id: str) -> int:
            return len(said & self.item_words.get(item_id, set()))

        decision = decide(
            intent,
            coverage=step_ratio(step_items) if step_items else 0.0,
            gaps=[Gap(i.item_id, i.weight, i.verdict, affinity(i.item_id)) for i in open_items]
            or ([] if step_items else [Gap(i.id, i.weight, "missing", affinity(i.id)) for i in step.checklist]),
            new_flags=[f.flag_id for f in new_flags],
            elapsed_s=self.clock() - state.step_started,
            budget_s=step.minutes.max * 60,
            followups=state.followups,
            max_followups=MAX_FOLLOWUPS,
            asked=state.asked,
            depth_seed=seed is not None,
            depth_used=state.depth_used,
        )
        turn = MockTurn(record, state, scenario, step, decision, english, new_flags, intent=intent, seed=seed)
        turn.written = text
        turn.concepts.extend(touched)
        if intent == Intent.ANSWER:
            turn.shown.extend(shown_sentences(message.items, scenario.prompt))
        reply = self._act(turn)
        if intent == Intent.ANSWER and decision.action in ASKING and self.clarifies(english, scenario):
            reply = f"{meta.assumption_lead(state.bump('assume'))} {reply}"  # their questions get an answer first
        if decision.action not in ("advance", "end"):
            self.repo.save_state(record.id, state.stored())
        return self._result(turn, reply)

    def foreign_words(self, scenario: Scenario) -> frozenset[str]:
        """Words of other products than this scenario's, which a probe's situation must not suppose."""
        key = (scenario.id, scenario.prompt)
        words = self._foreign.get(key)
        if words is None:
            words = self.product_words - scenario_words(scenario)
            self._foreign[key] = words
            while len(self._foreign) > KEPT_LEDGERS:
                self._foreign.pop(next(iter(self._foreign)), None)
        return words

    def read_ahead(self, text: str) -> None:
        """Embed a message as typed so far, whole and sentence by sentence (the relevance check's and the ledger's
        vectors), so that after Send they are already in the embedder's cache."""
        embedder = self.grader.embedder
        embedder.encode_one(text[:2000])
        sentences = [s.text for s in split_sentences(text)]
        if sentences:
            embedder.encode(sentences)

    def request_for(self, record: SessionRecord, text: str) -> list[Message] | None:
        """The model request this turn would make if `text` were sent now; None when it would not ask the model (or
        the message is in another language, whose translation waits for Send). Nothing is stored: the turn is worked
        out on the session's records with the draft as its last message, and the model only records the request."""
        llm = self.wording.llm
        if llm is None or paragraphs_to_translate(text):
            return None
        dry = DraftRepository(self.repo, record.id, text)
        recorder = RequestRecorder(llm.capabilities)
        wording = replace(self.wording, repo=dry, llm=recorder)
        flow = replace(self, repo=dry, wording=wording, rng=random.Random(), end_session=lambda _session: NOTHING_ENDED)
        flow.turn(record, text)
        return recorder.messages

    def touched(self, text: str) -> list[Concept]:
        """The concepts a message touches, by hybrid retrieval with its words (the depth probes' retrieval). The
        dense query is the mean of the sentence vectors the ledger has just computed, so nothing is embedded again."""
        sentences = [s.text for s in split_sentences(text)]
        if not sentences:
            return []
        vectors = self.grader.index.embedder.encode(sentences)
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return touched_concepts(self.searcher, self.kb, text, vector=mean / norm if norm > 0 else None)

    def absorb(self, record: SessionRecord, state: MockState, text: str, own: list[ItemEvidence]) -> list[ItemEvidence]:
        """Add a message to the conversation's ledger, and go with the candidate when it moved ahead (`own`: the
        message's own evidence)."""
        state.answers[str(state.step)] = f"{state.answer(state.step)}\n{text}".strip()
        items = self.conversation(state, record.id)
        state.ledger = {str(s): {i.item_id: i.verdict for i in items if i.step == s} for s in range(1, 8)}
        target = followed_step(state.step, evidence_by_step(own), open_steps(items))
        if target != state.step:
            self.steps.move(record, state, target, mid_turn=True)
        return items

    def _result(self, turn: MockTurn, reply: str) -> tuple[TurnResult, dict[str, Any]]:
        decision = turn.decision
        meta_record: dict[str, Any] = {
            "action": decision.action,
            "item": turn.item or decision.item_id,
            "flag": decision.flag_id,
            "reason": decision.reason,
            "step": turn.state.step if decision.action == "advance" else turn.step.step,
            "concepts": turn.concepts,
        }
        if turn.prompt is not None:
            meta_record["prompt"] = turn.prompt  # later turns show the model this exact message again
        if turn.notices:
            meta_record["notice"] = " ".join(turn.notices)
            reply = f"{meta_record['notice']}\n\n{reply}"  # the notice first: the reply still ends with its question
        result = TurnResult(
            turn.record.id,
            reply,
            decision.action,
            step=meta_record["step"],
            item=meta_record["item"],
            flag=decision.flag_id,
            reason=decision.reason,
            concepts=turn.concepts,
            notices=turn.notices,
            calls=turn.calls,
        )
        return result, meta_record

    def clarifies(self, text: str, scenario: Scenario) -> bool:
        """Whether a message is the candidate's questions about the problem itself: mostly questions, in words of
        the question they were asked that few questions use (a question about their own cluster's bill is not one,
        nor is one that shares only "every" or "users" with it)."""
        asked = {t for t in tokenize(scenario.prompt) if len(t) > 3} - self.prompt_words
        return meta.asks_back(text) and bool(asked & set(tokenize(text)))

    def on_topic(self, text: str, scenario: Scenario, step: Step) -> bool:
        """Whether a message is about the interview. Off topic: far from both the question and every concept of
        the knowledge base, with no checklist item covered and no wrong claim made (a passing rubric word, such as
        the "labels" of a cluster's pods, does not make it an answer); or neither a rubric term nor close to the
        question and step."""
        embedder = self.grader.embedder
        vector = embedder.encode_one(text[:2000])
        if len(text.split()) >= OFF_TOPIC_MIN_WORDS:
            far_from_question = float(vector @ embedder.encode_one(scenario.prompt)) < OFF_TOPIC_QUESTION_SIM
            concepts = self.grader.concept_vectors
            nearest = max((float(v @ vector) for v in concepts.values()), default=1.0)
            if far_from_question and nearest < OFF_TOPIC_CONCEPT_SIM:
                ledger = build_ledger(text, self.grader.index, [])
                if not ledger.flags and not any(i.verdict == "covered" for i in ledger.items):
                    return False
        stems = set(stems_of(text))
        for target in self.grader.index.items:
            if any(t.content and t.content <= stems for t in target.terms if len(t.content) >= 1 and len(t.name) > 4):
                return True
        sim = float(vector @ embedder.encode_one(f"{scenario.prompt} {step.name} {step.opening_question}"))
        return sim >= ON_TOPIC_SIM

    # ---------- the moves ----------

    def _act(self, turn: MockTurn) -> str:
        """The reply for the turn's decision, from the handler of its action."""
        state = turn.state
        question = state.last_question or turn.step.opening_question
        handlers: dict[str, Callable[[MockTurn], str]] = {
            "nudge": lambda t: meta.nudge(state.bump("nudge"), question),
            "redirect": self._redirect,
            "offer_hint": lambda t: meta.answer_request(state.bump("answer_request"), question),
            "scaffold": self._scaffold,
            "hint": lambda t: self.steps.hint_text(t.record.id, state, t.step, self.conversation(state, t.record.id)),
            "advance": lambda t: self.advance(t.record, state, t if t.intent != Intent.NEXT else None),
            "end": self._end,
            "challenge": self.questions.challenge,
            "depth_probe": self.questions.depth_probe,
        }
        return handlers.get(turn.decision.action, self.questions.followup)(turn)

    def _redirect(self, turn: MockTurn) -> str:
        state = turn.state
        question = state.last_question or turn.step.opening_question
        if turn.intent == Intent.OFF_TOPIC:
            return meta.off_topic(state.bump("off_topic"), turn.scenario, question)
        return meta.extraction(state.bump("extraction"), question)

    def _scaffold(self, turn: MockTurn) -> str:
        state, step = turn.state, turn.step
        covered = {i.item_id for i in self.conversation(state, turn.record.id) if i.verdict == "covered"}
        open_items = sorted((i for i in step.checklist if i.id not in covered), key=lambda i: -i.weight)
        text = meta.scaffold(state.bump(f"scaffold:{step.step}"), step, open_items)
        state.last_question = text
        return text

    def _end(self, turn: MockTurn) -> str:
        turn.notices.extend(self.end_session(turn.record.id).notices)
        return "Thanks, that's the end of the interview. Your scorecard is ready."

    # ---------- hints and steps ----------

    def hint(self, record: SessionRecord) -> str:
        state = mock_state(record)
        text = self.steps.hint_text(
            record.id, state, self.kb.rubric.step(state.step), self.conversation(state, record.id)
        )
        self.repo.save_state(record.id, state.stored())
        self.repo.add_turn(record.id, "interviewer", text, {"action": "hint"})
        return text

    def advance(self, record: SessionRecord, state: MockState, turn: MockTurn | None = None) -> str:
        """Leave the step for the next one that still needs discussing. When the interviewer decided to move on (a
        `turn`, not the candidate's request), it first comes back to an important gap of an earlier step that was
        never asked about."""
        items = self.conversation(state, record.id)
        target = next_open_step(state.step, open_steps(items))
        if target > 7:
            self.steps.save_step_card(record, state)
            self.repo.save_state(record.id, state.stored())
            self.end_session(record.id)
            return "That was the last step. Thanks, the interview is over and your scorecard is ready."
        revisit = None
        if turn is not None and state.revisits < 2:
            revisit = gap_to_revisit(state.step, gaps_by_step(items), state.asked)  # steps before the one left
        self.steps.move(record, state, target)
        step = self.kb.rubric.step(target)
        if revisit is not None and turn is not None:
            earlier = self.kb.rubric.step(revisit[0])
            item = next(i for i in earlier.checklist if i.id == revisit[1])
            state.asked, state.revisits, state.last_question = [*state.asked, item.id], state.revisits + 1, item.probe
            turn.item = item.id
            self.repo.save_state(record.id, state.stored())
            return f"Before we get to {step.name.lower()}, back to {earlier.name.lower()} for a moment: {item.probe}"
        question = self.steps.opening(step)
        state.last_question = question
        self.repo.save_state(record.id, state.stored())
        return f"Let's move on to step {step.step}, {step.name.lower()}. {question}"

"""The interview engine: mock interviews through the 7 steps, concept drills and answer review; no UI here."""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel

from app.grading.evidence import build_ledger, split_sentences, stems_of
from app.grading.feedback import write_narrative
from app.grading.injection import find_injections
from app.grading.scorecard import Grader, Scorecard, step_ratio
from app.interview.policy import (
    Decision,
    Gap,
    Intent,
    classify,
    clean_message,
    clean_reply,
    decide,
    fallback_notice,
    reply_problems,
    secret_snippets,
    truncate_view,
)
from app.interview.results import TurnResult
from app.knowledge.base import ChecklistItem, KnowledgeBase, Scenario, Step
from app.knowledge.retrieval import HybridRetriever, SearchResult, blend_query
from app.llm.backend import LLM, CallStats, LLMError
from app.llm.prompts import Prompts, fence_candidate
from app.sessions.repository import SessionRecord, SessionRepository

log = logging.getLogger(__name__)

MAX_FOLLOWUPS = 3
NOTES_CHARS = 360  # reference notes per prompt: every character is prompt the model reads on that turn
CONTEXT_SENTENCES = 3  # the claim's last sentences that steer the notes' query
HISTORY_TURNS = 6  # sessions saved before `history_from` existed: the last this many messages
HISTORY_CHARS = 6000  # a step's conversation longer than this restarts from its last few messages
HISTORY_KEEP = 4  # messages kept when the conversation restarts
DRILL_COVERED_SIM = 0.55


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
class SessionView:
    id: str
    mode: str
    title: str
    step: int
    step_name: str
    seconds_left: float
    covered: int
    partial: int
    total: int
    ended: bool


@dataclass
class MockTurn:
    """One mock-interview message on its way to a reply: what was decided, and what the handlers add."""

    record: SessionRecord
    state: dict[str, Any]
    scenario: Scenario
    step: Step
    decision: Decision
    text: str
    new_flags: list[Any]
    prompt: str | None = None  # the request the LLM worded the reply from
    concepts: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    calls: list[CallStats] = field(default_factory=list)


@dataclass
class Interviewer:
    kb: KnowledgeBase
    grader: Grader
    retriever: HybridRetriever | None
    llm: LLM | None
    repo: SessionRepository
    max_message_chars: int = 8000
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    prompts: Prompts = field(default_factory=Prompts)
    _primer: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._secrets = interviewer_secrets(self.prompts)
        self._concept_names = concept_names(self.kb)

    # ---------- starting ----------

    def choose_scenario(self, scenario_id: str | None, domain: str | None, aim_weak: bool, user: str) -> Scenario:
        scenarios = self.kb.questions.scenarios
        if scenario_id:
            return self.kb.scenario(scenario_id)
        if domain:
            pool = [s for s in scenarios if s.domain == domain]
            if not pool:
                raise KeyError(f"no scenario in domain {domain!r}")
            return self.rng.choice(pool)
        if aim_weak:
            weak_steps = self.repo.weakest(user, "step", [str(s) for s in range(1, 8)], 3)
            wanted = {c for s in weak_steps for i in self.kb.rubric.step(int(s)).checklist for c in i.concepts}
            return max(scenarios, key=lambda s: (len(wanted & set(s.concepts)), -scenarios.index(s)))
        return self.rng.choice(scenarios)

    def scenario_of(self, record: SessionRecord) -> Scenario:
        """The session's scenario: one of the question bank, or the candidate's own question."""
        if "scenario" in record.state:
            return Scenario.model_validate(record.state["scenario"])
        return self.kb.scenario(str(record.scenario_id))

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
            return self._start_drill(user, topic, drills, aim_weak)
        if question and question.strip():
            scenario = self.custom_scenario(question)
        else:
            scenario = self.choose_scenario(scenario_id, domain, aim_weak, user)
        state: dict[str, Any] = {
            "step": 1,
            "step_started": self.clock(),
            "followups": 0,
            "hint_level": 0,
            "asked": [],
            "answers": {},
            "history_from": 0,
        }
        if scenario.id == "custom":
            state["scenario"] = scenario.model_dump()
        session_id = self.repo.create_session(user=user, mode="mock", scenario_id=scenario.id, state=state)
        step = self.kb.rubric.step(1)
        opening = f"{scenario.prompt}\n\nLet's start with step 1, {step.name.lower()}: {step.opening_question}"
        self.repo.add_turn(session_id, "interviewer", opening, {"action": "open"})
        self._prime(session_id)
        return session_id, opening

    def _start_drill(self, user: str, topic: str | None, count: int, aim_weak: bool) -> tuple[str, str]:
        pool = [d for d in self.kb.questions.drills if topic is None or self.kb.concepts[d.concept].topic == topic]
        if not pool:
            raise KeyError(f"no drill questions for topic {topic!r}")
        if aim_weak:
            concepts = sorted({d.concept for d in pool})
            weak = self.repo.weakest(user, "concept", concepts, count)
            chosen = [next(d for d in pool if d.concept == c) for c in weak]
        else:
            chosen = self.rng.sample(pool, min(count, len(pool)))
        state = {"drills": [d.id for d in chosen], "index": 0, "phase": "answer", "scores": {}, "answers": {}}
        session_id = self.repo.create_session(user=user, mode="drill", scenario_id=None, state=state)
        first = chosen[0]
        opening = f"Concept drill, {len(chosen)} questions. Question 1: {first.question}"
        self.repo.add_turn(session_id, "interviewer", opening, {"action": "open", "drill": first.id})
        return session_id, opening

    # ---------- state ----------

    def _session(self, session_id: str) -> SessionRecord:
        record = self.repo.get_session(session_id)
        if record is None:
            raise KeyError(f"no session {session_id!r}")
        return record

    def view(self, session_id: str) -> SessionView:
        record = self._session(session_id)
        state = record.state
        ended = record.status == "ended"
        if record.mode == "drill":
            total = len(state["drills"])
            return SessionView(
                record.id,
                "drill",
                "Concept drill",
                min(state["index"] + 1, total),
                f"question {min(state['index'] + 1, total)} of {total}",
                0.0,
                0,
                0,
                total,
                ended,
            )
        scenario = self.scenario_of(record)
        step = self.kb.rubric.step(min(state["step"], 7))
        budget = step.minutes.max * 60
        verdicts = self._step_verdicts(state, step.step)
        return SessionView(
            record.id,
            "mock",
            scenario.title,
            step.step,
            step.name,
            max(0.0, budget - (self.clock() - state["step_started"])),
            verdicts.count("covered"),
            verdicts.count("partial"),
            len(step.checklist),
            ended,
        )

    def _step_verdicts(self, state: dict[str, Any], step: int) -> list[str]:
        """The step's verdicts as saved by the last answer; rebuilt only for sessions saved without them."""
        if not state["answers"].get(str(step), "").strip():
            return []
        saved = state.get("ledger", {}).get(str(step))
        if saved is not None:
            return list(saved.values())
        return [i.verdict for i in self._step_items(state, step)]

    def _step_items(self, state: dict[str, Any], step: int) -> list[Any]:
        text = state["answers"].get(str(step), "")
        if not text.strip():
            return []
        return build_ledger(text, self.grader.index, find_injections(text), [step]).items

    # ---------- one candidate message ----------

    def respond(self, session_id: str, text: str) -> TurnResult:
        """Store the message, decide, word the reply and store it; the result says what the turn did."""
        record = self._session(session_id)
        if record.status == "ended":
            return TurnResult(session_id, "This session has ended. Start a new one to practise again.", "ended")
        self.repo.add_turn(session_id, "candidate", text)  # stored whole before anything else happens
        view, truncated = truncate_view(clean_message(text), self.max_message_chars)
        if record.mode == "drill":
            reply, meta = self._drill_turn(record, view)
            turn = TurnResult(session_id, reply, str(meta.get("action", "")))
        else:
            turn, meta = self._mock_turn(record, view)
        if truncated:
            turn.text = f"(Your message was long, so I read the first {len(view)} characters.) {turn.text}"
            turn.truncated = meta["truncated"] = True
        self.repo.add_turn(session_id, "interviewer", turn.text, meta)
        if "prompt" not in meta:  # a worded reply leaves its whole conversation in the server's cache already
            self._prime(session_id)
        return turn

    def _mock_turn(self, record: SessionRecord, text: str) -> tuple[TurnResult, dict[str, Any]]:
        state = dict(record.state)
        scenario = self.scenario_of(record)
        step = self.kb.rubric.step(state["step"])
        intent = classify(text, on_topic=self._on_topic(text, scenario, step))
        new_flags: list[Any] = []
        items: list[Any] = []
        if intent == Intent.ANSWER:
            clean = text
            for span in reversed(find_injections(text)):
                clean = clean[: span.start] + clean[span.end :]
            state["answers"][str(step.step)] = f"{state['answers'].get(str(step.step), '')}\n{clean}".strip()
            items = self._step_items(state, step.step)
            state["ledger"] = {**state.get("ledger", {}), str(step.step): {i.item_id: i.verdict for i in items}}
            ledger = build_ledger(clean, self.grader.index, [], [step.step])
            new_flags = [f for f in ledger.flags if f.step == step.step] or ledger.flags
        else:
            items = self._step_items(state, step.step)
        decision = decide(
            intent,
            coverage=step_ratio(items) if items else 0.0,
            gaps=[Gap(i.item_id, i.weight, i.verdict) for i in items if i.verdict != "covered"]
            or [Gap(i.id, i.weight, "missing") for i in step.checklist],
            new_flags=[f.flag_id for f in new_flags],
            elapsed_s=self.clock() - state["step_started"],
            budget_s=step.minutes.max * 60,
            followups=state["followups"],
            max_followups=MAX_FOLLOWUPS,
            asked=state["asked"],
        )
        turn = MockTurn(record, state, scenario, step, decision, text, new_flags)
        reply = self._act(turn)
        if decision.action not in ("advance", "end"):
            self.repo.save_state(record.id, state)
        meta: dict[str, Any] = {
            "action": decision.action,
            "item": decision.item_id,
            "flag": decision.flag_id,
            "reason": decision.reason,
            "step": step.step,
        }
        if turn.prompt is not None:
            meta["prompt"] = turn.prompt  # later turns show the model this exact message again
        if turn.notices:
            meta["notice"] = " ".join(turn.notices)
            reply = f"{meta['notice']}\n\n{reply}"  # the notice first: the reply still ends with its question
        result = TurnResult(
            record.id,
            reply,
            decision.action,
            step=step.step,
            item=decision.item_id,
            flag=decision.flag_id,
            reason=decision.reason,
            concepts=turn.concepts,
            notices=turn.notices,
            calls=turn.calls,
        )
        return result, meta

    def _on_topic(self, text: str, scenario: Scenario, step: Step) -> bool:
        stems = set(stems_of(text))
        for target in self.grader.index.items:
            if any(t.content and t.content <= stems for t in target.terms if len(t.content) >= 1 and len(t.name) > 4):
                return True
        sim = float(
            self.grader.embedder.encode_one(text[:2000])
            @ self.grader.embedder.encode_one(f"{scenario.prompt} {step.name} {step.opening_question}")
        )
        return sim >= 0.2

    def _act(self, turn: MockTurn) -> str:
        """The reply for the turn's decision, from the handler of its action."""
        handlers: dict[str, Callable[[MockTurn], str]] = {
            "nudge": lambda t: f"Take your time. {self._current_question(t)}",
            "redirect": lambda t: f"Let's keep to the interview. {self._current_question(t)}",
            "offer_hint": lambda t: "I won't hand you the answer, but I can give you a hint: type 'hint'. "
            + self._current_question(t),
            "scaffold": lambda t: t.step.scaffold or self._current_question(t),
            "hint": lambda t: self._hint(t.record.id, t.state, t.step),
            "advance": lambda t: self._advance(t.record, t.state),
            "end": self._end_turn,
            "challenge": self._challenge,
        }
        return handlers.get(turn.decision.action, self._followup)(turn)

    def _end_turn(self, turn: MockTurn) -> str:
        turn.notices.extend(self.end(turn.record.id).notices)
        return "Thanks, that's the end of the interview. Your scorecard is ready."

    def _challenge(self, turn: MockTurn) -> str:
        flag, state = turn.new_flags[0], turn.state
        state["followups"] += 1
        state["last_question"] = flag.challenge
        values = {
            "step_name": turn.step.name,
            "claim_quote": flag.quote,
            "context": self._context(turn, flag.quote, flag.claim),
            "challenge": flag.challenge,
        }
        return self._word(turn, "interviewer_challenge", values, fallback=flag.challenge, forbidden=[])

    def _followup(self, turn: MockTurn) -> str:
        state, step = turn.state, turn.step
        item = next(i for i in step.checklist if i.id == turn.decision.item_id)
        state["followups"] += 1
        state["asked"] = [*state["asked"], item.id]
        state["last_question"] = item.probe
        forbidden = self._forbidden_terms(item, state["answers"].get(str(step.step), ""))
        values = {
            "step_name": step.name,
            "context": self._context(turn, turn.text, item.description),
            "candidate": fence_candidate(turn.text[-1500:]),
            "target": item.description,
            "forbidden": ", ".join(forbidden[:8]) or "none",
        }
        return self._word(turn, "interviewer_followup", values, fallback=item.probe, forbidden=forbidden)

    def _current_question(self, turn: MockTurn) -> str:
        return str(turn.state.get("last_question") or turn.step.opening_question)

    def _forbidden_terms(self, item: ChecklistItem, said: str) -> list[str]:
        """The item's technical terms (concept names, acronyms, metrics) the candidate has not used yet:
        naming them would give the answer away. Everyday words such as "labels" stay allowed."""
        said_lower = said.lower()
        return [
            t
            for t in item.key_terms
            if t.lower() not in said_lower
            and (t.lower() in self._concept_names or any(ch.isdigit() or ch in "-/@" for ch in t))
        ]

    def notes_for(self, claim: str, target: str) -> list[SearchResult]:
        """Reference passages on the target, in the light of the claim. The query's vector is blended from the
        claim's last sentences and the target, which the ledger and the rubric index have already embedded, so
        a turn does not run the embedding model again for its query."""
        if self.retriever is None:
            return []
        sentences = [s.text for s in split_sentences(claim)][-CONTEXT_SENTENCES:]
        embedder = self.grader.embedder
        vector = blend_query(embedder.encode(sentences), embedder.encode_one(target))
        return self.retriever.search(f"{claim[-400:]} {target}", k=2, vector=vector)

    def _context(self, turn: MockTurn, claim: str, target: str) -> str:
        """The notes' text for a prompt; the target itself when there are none."""
        try:
            results = self.notes_for(claim, target)
        except Exception as exc:  # retrieval must never break a turn
            log.warning("retrieval failed: %s", exc)
            return target
        turn.concepts.extend(r.heading for r in results)
        return trim_notes([r.text.split("\n\n", 1)[-1] for r in results], NOTES_CHARS) or target

    def _history(self, session_id: str, state: dict[str, Any], *, current: bool = True) -> list[dict[str, str]]:
        """The step's conversation before the current message, exactly as the model saw it on earlier turns,
        so the server reuses its cache of that prefix. It only grows, until it restarts at a new step or when
        too long. With `current=False` there is no current message: every stored turn is history."""
        turns = self.repo.turns(session_id)
        if current:
            turns = turns[:-1]  # the current message is in the prompt that follows
        if "history_from" not in state:
            return conversation(turns[-HISTORY_TURNS:])
        messages = conversation(turns[state["history_from"] :])
        if sum(len(m["content"]) for m in messages) > HISTORY_CHARS:
            state["history_from"] = restart_point(turns, state["history_from"], HISTORY_KEEP)
            messages = conversation(turns[state["history_from"] :])
        return messages

    def _word(
        self, turn: MockTurn, template: str, values: dict[str, str], *, fallback: str, forbidden: list[str]
    ) -> str:
        """One question worded by the LLM, validated; the knowledge base's own wording when that fails.

        The call's record and any notice for the candidate (a failed call, a restarted model) go on the turn."""
        if self.llm is None:
            return fallback
        record = turn.record
        turn.prompt = prompt = self.prompts.render(template, **values)
        messages = [
            {"role": "system", "content": system_prompt(turn.scenario, self.prompts)},
            *self._history(record.id, turn.state),
            {"role": "user", "content": prompt},
        ]
        stats = CallStats()
        turn.calls.append(stats)
        try:
            reply = clean_reply("".join(self.llm.stream(messages, max_tokens=80, stats=stats)))
        except LLMError as exc:
            log.warning("interviewer reply fell back to the knowledge base: %s", exc)
            turn.notices.extend([*stats.notices, fallback_notice(str(exc))])
            return fallback
        turn.notices.extend(stats.notices)
        earlier = [t.content for t in self.repo.turns(record.id) if t.role == "interviewer"]
        problems = reply_problems(reply, forbidden, self._secrets, earlier=earlier)
        if problems:
            log.info("interviewer reply rejected (%s); using the knowledge base's wording", ", ".join(problems))
            return fallback
        return reply

    # ---------- the model server's cache ----------

    def _prime(self, session_id: str) -> None:
        """Have the model server read the start of the next turn's prompt (instructions and the step's
        conversation so far) in the background, while the candidate reads and types. The next turn then only
        evaluates its own request. Only for a server that keeps the last prompt's state."""
        if self.llm is None or not self.llm.capabilities.prefix_cache:
            return
        record = self._session(session_id)
        if record.mode != "mock" or record.status == "ended":
            return
        messages = [
            {"role": "system", "content": system_prompt(self.scenario_of(record), self.prompts)},
            *self._history(session_id, dict(record.state), current=False),
        ]
        self._primer = threading.Thread(target=self._run_prime, args=(messages,), name="prime-cache", daemon=True)
        self._primer.start()

    def _run_prime(self, messages: list[dict[str, str]]) -> None:
        assert self.llm is not None
        try:
            self.llm.generate(messages, max_tokens=1)
        except Exception as exc:  # only a head start: the turn itself reports real failures
            log.info("model cache warm-up failed: %s", exc)

    def wait_primed(self, timeout_s: float | None = None) -> float:
        """Wait for a warm-up in progress; returns the seconds waited."""
        started = time.perf_counter()
        primer = self._primer
        if primer is not None:
            primer.join(timeout_s)
        return time.perf_counter() - started

    def prepare(self) -> None:
        """Load now what the first turn would otherwise wait for: the embedding model with the rubric's vectors,
        and the BM25 index."""
        _ = self.grader.index
        if self.retriever is not None:
            _ = self.retriever.lexical

    # ---------- hints, steps, the end ----------

    def _hint(self, session_id: str, state: dict[str, Any], step: Step) -> str:
        items = self._step_items(state, step.step)
        covered = {i.item_id for i in items if i.verdict == "covered"}
        target = next(
            (i for i in sorted(step.checklist, key=lambda i: -i.weight) if i.id not in covered), step.checklist[0]
        )
        level = min(state["hint_level"] + 1, 3)
        state["hint_level"] = level
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

    def hint(self, session_id: str) -> str:
        record = self._session(session_id)
        if record.mode == "drill":
            drill = self._drill(record.state)
            concept = self.kb.concepts[drill.concept]
            text = f"Hint: think about {concept.title.lower()}: {concept.key_points[0] if concept.key_points else ''}"
            self.repo.add_hint(session_id, 0, drill.concept, 1, text)
            self.repo.add_turn(session_id, "interviewer", text, {"action": "hint"})
            return text
        state = dict(record.state)
        text = self._hint(session_id, state, self.kb.rubric.step(state["step"]))
        self.repo.save_state(session_id, state)
        self.repo.add_turn(session_id, "interviewer", text, {"action": "hint"})
        return text

    def _advance(self, record: SessionRecord, state: dict[str, Any]) -> str:
        finished = state["step"]
        step_text = state["answers"].get(str(finished), "")
        if step_text.strip():  # the step's own scorecard, kept for the record and for progress views
            card = self.grader.grade(self.scenario_of(record).prompt, step_text, steps=[finished])
            self.repo.save_scorecard(record.id, finished, card.model_dump_json())
        if finished >= 7:
            self.repo.save_state(record.id, state)
            self.end(record.id)
            return "That was the last step. Thanks, the interview is over and your scorecard is ready."
        state.update(step=finished + 1, step_started=self.clock(), followups=0, hint_level=0, last_question=None)
        state["history_from"] = len(self.repo.turns(record.id))  # the new step's conversation starts with this reply
        self.repo.save_state(record.id, state)
        step = self.kb.rubric.step(finished + 1)
        return f"Let's move on to step {step.step}, {step.name.lower()}. {step.opening_question}"

    def next_step(self, session_id: str) -> str:
        record = self._session(session_id)
        if record.mode == "drill":
            reply, meta = self._drill_turn(record, "", skip=True)
        else:
            reply, meta = self._advance(record, dict(record.state)), {"action": "advance"}
        self.repo.add_turn(session_id, "interviewer", reply, meta)
        self._prime(session_id)
        return reply

    def end(self, session_id: str, *, narrative: bool = True) -> FinalReport:
        """Final scorecard, model-answer outline and study plan; mastery is recorded for progress.

        With ``narrative=False`` the feedback is the ledger's own wording; `narrate` can word it with the LLM later,
        so a front end shows the scorecard at once."""
        record = self._session(session_id)
        stored = self.repo.scorecards(session_id).get(None)
        if record.status == "ended" and stored:
            return FinalReport.model_validate_json(stored)
        if record.mode == "drill":
            report = FinalReport(session_id=session_id, mode="drill", concept_scores=record.state.get("scores", {}))
        else:
            report = self._final_mock(record, narrative)
        self.repo.save_scorecard(session_id, None, report.model_dump_json())
        self.repo.save_state(session_id, record.state, status="ended")
        return report

    def narrate(self, session_id: str) -> FinalReport:
        """Word an ended mock interview's feedback with the LLM (validated against the ledger); kept if it fails."""
        report = self.end(session_id, narrative=False)
        card = report.scorecard
        if card is None or card.narrative_source == "llm" or self.llm is None:
            return report
        record = self._session(session_id)
        answers = "\n".join(record.state["answers"].get(str(s), "") for s in range(1, 8)).strip()
        if not answers:
            return report
        worded = write_narrative(card, answers, self.llm, self.kb, self.prompts)
        report = report.model_copy(update={"scorecard": worded})
        self.repo.save_scorecard(session_id, None, report.model_dump_json())
        return report

    def _final_mock(self, record: SessionRecord, narrative: bool = True) -> FinalReport:
        state = record.state
        scenario = self.scenario_of(record)
        answers = "\n".join(state["answers"].get(str(s), "") for s in range(1, 8)).strip()
        hints = self.repo.hints(record.id)
        card = self.grader.grade(scenario.prompt, answers, hints_used=len(hints))
        if narrative and self.llm is not None and answers:
            # validated; the ledger's wording otherwise
            card = write_narrative(card, answers, self.llm, self.kb, self.prompts)
        for step in card.steps:
            self.repo.record_mastery(record.user, "step", str(step.step), step.score / 4, record.id)
        weakest = sorted(card.steps, key=lambda s: (s.score, s.step))[:3]
        plan = []
        for step in weakest:
            concepts: list[str] = []
            for item in step.items:
                if item.verdict != "covered":
                    rubric_item = next(i for i in self.kb.rubric.step(step.step).checklist if i.id == item.id)
                    concepts.extend(c for c in rubric_item.concepts if c not in concepts)
            plan.append(StudyItem(step=step.step, name=step.name, score=step.score, concepts=concepts[:3]))
        notices = []
        if self.llm is not None and answers and card.narrative_source == "ledger":
            notices.append(
                "(The language model's feedback could not be used, so the feedback is worded from the checklist.)"
            )
        return FinalReport(
            session_id=record.id,
            mode="mock",
            scorecard=card,
            outline={int(k): v for k, v in scenario.expectations.items()},
            study_plan=plan,
            notices=notices,
        )

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

    # ---------- drills ----------

    def _drill(self, state: dict[str, Any]) -> Any:
        drill_id = state["drills"][min(state["index"], len(state["drills"]) - 1)]
        return next(d for d in self.kb.questions.drills if d.id == drill_id)

    def drill_score(self, concept_id: str, answer: str) -> float:
        """0-4: the share of the concept's key points that the answer states (semantic match per sentence)."""
        concept = self.kb.concepts[concept_id]
        sentences = [s.text for s in split_sentences(answer)]
        if not sentences or not concept.key_points:
            return 0.0
        embed = self.grader.embedder
        points = embed.encode(concept.key_points)
        sims = embed.encode(sentences) @ points.T
        covered = int(np.sum(sims.max(axis=0) >= DRILL_COVERED_SIM))
        return round(4.0 * covered / len(concept.key_points), 1)

    def _drill_turn(self, record: SessionRecord, text: str, skip: bool = False) -> tuple[str, dict[str, Any]]:
        state = dict(record.state)
        drill = self._drill(state)
        intent = Intent.NEXT if skip else classify(text)
        if intent in (Intent.EMPTY, Intent.IDK, Intent.ANSWER_REQUEST, Intent.SYSTEM_PROBE, Intent.HINT):
            replies = {
                Intent.EMPTY: f"Take your time. {drill.question}",
                Intent.IDK: f"Start from what you know: when have you seen this come up? {drill.question}",
                Intent.ANSWER_REQUEST: f"I won't hand over the answer, but type 'hint' for a nudge. {drill.question}",
                Intent.SYSTEM_PROBE: f"Let's keep to the drill. {drill.question}",
            }
            if intent == Intent.HINT:
                return self.hint(record.id), {"action": "hint"}
            return replies[intent], {"action": intent.value}
        if intent == Intent.END:
            self.end(record.id)
            return "Drill finished. Your concept scores are ready.", {"action": "end"}
        key = drill.concept
        if state["phase"] == "answer" and intent != Intent.NEXT:
            state["answers"][key] = text
            state["scores"][key] = self.drill_score(key, text)
            state["phase"] = "followup"
            self.repo.save_state(record.id, state)
            return drill.followup or "What would make you choose differently?", {
                "action": "followup",
                "drill": drill.id,
            }
        if intent != Intent.NEXT:
            combined = f"{state['answers'].get(key, '')}\n{text}"
            state["scores"][key] = max(state["scores"].get(key, 0.0), self.drill_score(key, combined))
        self.repo.record_mastery(record.user, "concept", key, state["scores"].get(key, 0.0) / 4, record.id)
        state["index"] += 1
        state["phase"] = "answer"
        if state["index"] >= len(state["drills"]):
            self.repo.save_state(record.id, state)
            self.end(record.id)
            return "That was the last question. Your concept scores are ready.", {"action": "end"}
        self.repo.save_state(record.id, state)
        nxt = self._drill(state)
        return f"Question {state['index'] + 1}: {nxt.question}", {"action": "next", "drill": nxt.id}


def trim_notes(passages: list[str], limit: int) -> str:
    """Whole sentences from the passages, best passage first, up to `limit` characters; a first sentence that is
    longer on its own is cut at a word."""
    kept: list[str] = []
    used = 0
    for passage in passages:
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(passage.split())):
            if not sentence:
                continue
            if used + len(sentence) + 1 > limit:
                if not kept:
                    kept.append(sentence[:limit].rsplit(" ", 1)[0] + " ...")
                return " ".join(kept)
            kept.append(sentence)
            used += len(sentence) + 1
    return " ".join(kept)


def system_prompt(scenario: Scenario, prompts: Prompts) -> str:
    """The interviewer's instructions for one session: the same on every turn, so the model server keeps them
    in its cache from the first turn to the last."""
    return prompts.render("interviewer_system", scenario=scenario.prompt).strip()


def interviewer_secrets(prompts: Prompts) -> list[str]:
    """Runs of the instructions (without the scenario, which replies may echo) that a reply must never repeat."""
    return secret_snippets(prompts.render("interviewer_system", scenario="").strip())


def concept_names(kb: KnowledgeBase) -> set[str]:
    """Names of the knowledge base's concepts and the abbreviations their explanations introduce."""
    names: set[str] = set()
    for concept in kb.concepts.values():
        names.add(concept.title.lower())
        for inner in re.findall(r"\(([^()]{2,40})\)", concept.explanation):
            for part in re.split(r",| or | and |;", inner):
                part = part.strip().lower()
                if part and not part.startswith(("e.g", "for example", "also", "the ")):
                    names.add(part)
        for word in re.findall(r"\b[A-Z][A-Za-z0-9@-]*[A-Z0-9][A-Za-z0-9@-]*\b", concept.explanation):
            names.add(word.lower())  # acronyms and names such as NDCG, PR-AUC, LightGBM
    return names


def conversation(turns: list[Any]) -> list[dict[str, str]]:
    """Chat messages for stored turns. A reply the LLM worded follows the prompt it was worded from (which holds
    the candidate's message); any other reply follows the candidate's message, fenced as data."""
    messages: list[dict[str, str]] = []
    for position, turn in enumerate(turns):
        if turn.role == "interviewer":
            notice = turn.meta.get("notice")
            content = turn.content.removeprefix(f"{notice}\n\n") if notice else turn.content
            messages.append({"role": "assistant", "content": content})
            continue
        following = turns[position + 1] if position + 1 < len(turns) else None
        prompt = following.meta.get("prompt") if following is not None else None
        fenced = fence_candidate(clean_message(turn.content[:1500]))
        content = prompt if isinstance(prompt, str) and prompt else fenced
        messages.append({"role": "user", "content": content})
    return messages


def restart_point(turns: list[Any], start: int, keep: int) -> int:
    """Where a conversation that grew too long starts again: its last `keep` messages, from a candidate's."""
    point = max(start, len(turns) - keep)
    while point < len(turns) and turns[point].role != "candidate":
        point += 1
    return min(point, len(turns))


"""Scripted candidates run through the real engine and model, checked for the behaviour users expect: the form of
each reply, and what a person reading the transcript would notice (asking again what was answered, following an
off-topic subject, saying the same thing twice, questions that ignore what the candidate said)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.evaluation.cases import load_jsonl
from app.evaluation.transcripts import Judge, TurnRecord
from app.interview.engine import Interviewer
from app.interview.wording import interviewer_secrets

MAX_REPLY_CHARS = 420
KIND_ACTIONS = {
    "answer_seeker": ("offer_hint", "an answer-seeking candidate gets a hint offer"),
    "idk": ("scaffold", "a silent candidate gets scaffolding"),
    "off_topic": ("redirect", "an off-topic candidate is brought back"),
    "prompt_extraction": ("redirect", "a request for the prompt is redirected"),
    "empty": ("nudge", "an empty message gets a nudge"),
}
FOLLOWUPS = ("followup", "depth_probe", "challenge")


@dataclass(frozen=True)
class ConversationCase:
    id: str
    question: str
    turns: list[str]
    kind: str = ""
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConversationResult:
    id: str
    failures: list[tuple[str, str]] = field(default_factory=list)
    turn_seconds: list[float] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    band: str | None = None
    score: float | None = None
    steps_reached: int = 1
    reasks: int = 0
    off_topic_follows: int = 0
    identical: int = 0
    grounded: int = 0
    followups: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "band": self.band,
            "score": self.score,
            "steps_reached": self.steps_reached,
            "passed": not self.failures,
            "failures": [{"check": c, "detail": d} for c, d in self.failures],
            "reasks": self.reasks,
            "off_topic_follows": self.off_topic_follows,
            "identical_replies": self.identical,
            "followups": self.followups,
            "grounded_followups": self.grounded,
            "turns": [t.as_json() for t in self.turns],
        }


def load_cases(path: Path) -> list[ConversationCase]:
    """Read a JSONL file of {id, question, turns, kind, expect}."""
    return load_jsonl(
        path,
        lambda raw: ConversationCase(
            str(raw["id"]),
            str(raw["question"]),
            [str(t) for t in raw["turns"]],
            str(raw.get("kind", "")),
            dict(raw.get("expect") or {}),
        ),
        "conversation",
    )


def knowledge_runs(engine: Interviewer, words: int = 9) -> set[str]:
    """Word runs of the knowledge base's explanations: an unrequested reply must not recite them."""
    runs: set[str] = set()
    for concept in engine.kb.concepts.values():
        tokens = f"{concept.explanation} {' '.join(concept.key_points)}".lower().split()
        runs.update(" ".join(tokens[i : i + words]) for i in range(0, max(len(tokens) - words, 0)))
    return runs


def run_case(
    engine: Interviewer, case: ConversationCase, runs: set[str], secrets: list[str], judge: Judge
) -> ConversationResult:
    result = ConversationResult(case.id)
    try:
        session_id, _opening = engine.start("mock", question=case.question)
        said: list[str] = []
        for text in case.turns:
            started = time.perf_counter()
            turn = engine.respond(session_id, text)
            result.turn_seconds.append(time.perf_counter() - started)
            said.append(text)
            record = judge.record(case.question, said, turn, [t.reply for t in result.turns])
            result.turns.append(record)
            check_reply(result, turn.text, turn.action, runs, secrets)
        report = engine.end(session_id, narrative=False)  # the band and score do not depend on the wording
        if report.scorecard is None:
            result.failures.append(("scorecard", "the session ended without a scorecard"))
        else:
            result.band, result.score = report.scorecard.band, report.scorecard.overall
        result.steps_reached = max([1, *[t.step or 1 for t in result.turns]])
        tally(result)
        check_expect(result, case)
    except Exception as exc:  # a crash is exactly what this check reports
        result.failures.append(("no_crash", f"{type(exc).__name__}: {exc}"))
    return result


def tally(result: ConversationResult) -> None:
    """The transcript checks a person would make, counted and reported as failures."""
    for record in result.turns:
        if record.reasked:
            result.reasks += 1
            result.failures.append(("reask", f"asked again about covered {record.reasked}: {record.reply[:120]}"))
        if record.follows_off_topic:
            result.off_topic_follows += 1
            result.failures.append(("follows_off_topic", record.reply[:160]))
        if record.identical:
            result.identical += 1
            result.failures.append(("identical_reply", record.reply[:160]))
        if record.action in FOLLOWUPS:
            result.followups += 1
            result.grounded += int(record.grounded)


def check_expect(result: ConversationResult, case: ConversationCase) -> None:
    """The case's own `expect`: band_in, min_step_reached, reply_forbidden words, needs_action."""
    expect = case.expect
    bands = expect.get("band_in")
    if bands and result.band not in bands:
        result.failures.append(("band_in", f"band {result.band} ({result.score}), expected one of {bands}"))
    least = expect.get("min_step_reached")
    if least and result.steps_reached < int(least):
        result.failures.append(("min_step_reached", f"reached step {result.steps_reached}, expected {least}"))
    for word in expect.get("reply_forbidden", []):
        hit = next((t.reply for t in result.turns if word.lower() in t.reply.lower()), None)
        if hit is not None:
            result.failures.append(("reply_forbidden", f"{word!r} in: {hit[:120]}"))
    actions = [t.action for t in result.turns]
    for action in expect.get("needs_action", []):
        if action not in actions:
            result.failures.append(("needs_action", f"no {action!r}; actions were {actions}"))
    expected = KIND_ACTIONS.get(case.kind)
    if expected and expected[0] not in actions:
        result.failures.append((case.kind, f"expected: {expected[1]}; actions were {actions}"))


def check_reply(result: ConversationResult, reply: str, action: str, runs: set[str], secrets: list[str]) -> None:
    text = reply.strip()
    if not text:
        result.failures.append(("no_empty_reply", "the interviewer sent an empty reply"))
        return
    body = text.split(") ", 1)[-1] if text.startswith("(Your message was long") else text
    if body.count("?") > 1:
        result.failures.append(("one_question", body[:160]))
    if len(body) > MAX_REPLY_CHARS:
        result.failures.append(("length", f"{len(body)} characters"))
    lowered = " ".join(body.lower().split())
    if any(secret.lower() in lowered for secret in secrets):
        result.failures.append(("no_prompt_leak", body[:160]))
    if action != "hint":
        words = lowered.split()
        if any(" ".join(words[i : i + 9]) in runs for i in range(max(len(words) - 8, 0))):
            result.failures.append(("no_answer_leak", body[:160]))


def first_followups(results: list[ConversationResult]) -> list[str]:
    """Each case's first reply to an answer that asks something (not a redirect, hint or nudge)."""
    firsts = []
    for result in results:
        reply = next((t.reply for t in result.turns if t.action in (*FOLLOWUPS, "advance", "scaffold")), None)
        if reply is not None:
            firsts.append(" ".join(reply.lower().split()))
    return firsts


def evaluate(engine: Interviewer, cases: list[ConversationCase]) -> dict[str, Any]:
    runs = knowledge_runs(engine)
    secrets = interviewer_secrets(engine.prompts)
    judge = Judge(engine.kb, engine.grader)
    results = [run_case(engine, case, runs, secrets, judge) for case in cases]
    timings = [t for r in results for t in r.turn_seconds]
    followups = sum(r.followups for r in results)
    firsts = first_followups(results)
    return {
        "n": len(cases),
        "passed": sum(1 for r in results if not r.failures),
        "failed": [{"id": r.id, "check": check, "detail": detail} for r in results for check, detail in r.failures],
        "turn_p50_s": round(statistics.median(timings), 3) if timings else 0.0,
        "reask_rate": round(sum(r.reasks for r in results) / max(followups, 1), 3),
        "reasks": sum(r.reasks for r in results),
        "off_topic_follows": sum(r.off_topic_follows for r in results),
        "identical_replies": sum(r.identical for r in results),
        "first_followups": len(firsts),
        "distinct_first_followups": len(set(firsts)),
        "grounded_rate": round(sum(r.grounded for r in results) / followups, 3) if followups else 0.0,
        "cases": [r.summary() for r in results],
    }

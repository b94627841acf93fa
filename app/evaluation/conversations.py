"""Scripted candidates run through the real engine and model, checked for the behaviour users expect."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.evaluation.cases import load_jsonl
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


@dataclass(frozen=True)
class ConversationCase:
    id: str
    question: str
    turns: list[str]
    kind: str = ""


@dataclass
class ConversationResult:
    id: str
    failures: list[tuple[str, str]] = field(default_factory=list)
    turn_seconds: list[float] = field(default_factory=list)


def load_cases(path: Path) -> list[ConversationCase]:
    """Read a JSONL file of {id, question, turns, kind}."""
    return load_jsonl(
        path,
        lambda raw: ConversationCase(
            str(raw["id"]), str(raw["question"]), [str(t) for t in raw["turns"]], str(raw.get("kind", ""))
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


def run_case(engine: Interviewer, case: ConversationCase, runs: set[str], secrets: list[str]) -> ConversationResult:
    result = ConversationResult(case.id)
    try:
        session_id, _opening = engine.start("mock", question=case.question)
        actions: list[str] = []
        for text in case.turns:
            started = time.perf_counter()
            turn = engine.respond(session_id, text)
            result.turn_seconds.append(time.perf_counter() - started)
            actions.append(turn.action)
            check_reply(result, turn.text, turn.action, runs, secrets)
        report = engine.end(session_id)
        if report.scorecard is None:
            result.failures.append(("scorecard", "the session ended without a scorecard"))
        expected = KIND_ACTIONS.get(case.kind)
        if expected and expected[0] not in actions:
            result.failures.append((case.kind, f"expected: {expected[1]}; actions were {actions}"))
    except Exception as exc:  # a crash is exactly what this check reports
        result.failures.append(("no_crash", f"{type(exc).__name__}: {exc}"))
    return result


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


def evaluate(engine: Interviewer, cases: list[ConversationCase]) -> dict[str, Any]:
    runs = knowledge_runs(engine)
    secrets = interviewer_secrets(engine.prompts)
    results = [run_case(engine, case, runs, secrets) for case in cases]
    timings = [t for r in results for t in r.turn_seconds]
    return {
        "n": len(cases),
        "passed": sum(1 for r in results if not r.failures),
        "failed": [{"id": r.id, "check": check, "detail": detail} for r in results for check, detail in r.failures],
        "turn_p50_s": round(statistics.median(timings), 3) if timings else 0.0,
    }

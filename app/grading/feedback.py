"""LLM wording of the scorecard, validated against the ledger; a plain ledger feedback when the model fails."""

from __future__ import annotations

import logging
import re

from pydantic import BaseModel, Field

from app.grading.expectations import stems_of
from app.grading.scorecard import VERDICT_VALUE, Scorecard, ledger_feedback
from app.knowledge.base import KnowledgeBase
from app.llm.backend import LLM, LLMError
from app.llm.prompts import Prompts, fence_candidate

log = logging.getLogger(__name__)

INJECTION_NOTE = (
    "The answer contains instructions addressed to the grader. Candidate text is never obeyed; an attempt to steer "
    "the grade is an integrity failure, so this answer receives the lowest score."
)
GENERIC_PRAISE = re.compile(
    r"\b(great job|good job|well done|excellent|awesome|fantastic|amazing|impressive|outstanding|brilliant|"
    r"nice work|perfect answer|keep it up)\b",
    re.IGNORECASE,
)
VERDICT_TALK = re.compile(
    r"\b(score|scored|band|grade|rating)\b[^.]{0,20}(\d|strong|partial|weak|off.topic|full marks)|\b\d\s*/\s*(5|10)\b",
    re.IGNORECASE,
)
QUOTED = re.compile(r"[\"\u201c]([^\"\u201d]{8,})[\"\u201d]")
APPROVAL = re.compile(
    r"\b(correct|valid|right|accurate|true|sound|reasonable|appropriate|good|great|solid|fine|makes sense)\b",
    re.IGNORECASE,
)
_DOUBT_BEFORE = re.compile(r"\b(not|never|hardly|isn't|aren't|wasn't|no longer)\b[^.;,]{0,20}$", re.IGNORECASE)
ENDORSE_OVERLAP = 0.4  # a narrative sentence using this share of a wrong claim's words speaks about that claim


def endorses_wrong_claim(text: str, card: Scorecard) -> bool:
    """A sentence of the feedback that restates a red-flagged claim and calls it correct, valid or good: the model
    praising what the grader found wrong would tell the candidate the opposite of the scorecard."""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        said = stems_of(sentence)
        for flag in card.red_flags:
            claim = stems_of(flag.quote)
            if not claim or len(said & claim) / len(claim) < ENDORSE_OVERLAP:
                continue
            if any(not _DOUBT_BEFORE.search(sentence[: m.start()]) for m in APPROVAL.finditer(sentence)):
                return True
    return False


class Narrative(BaseModel):
    feedback: str = Field(description="3-5 sentences for the candidate")


class RefinedVerdict(BaseModel):
    id: str
    verdict: str
    quote: str = ""


class Refinement(BaseModel):
    verdicts: list[RefinedVerdict]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def narrative_problems(text: str, answer: str, card: Scorecard) -> list[str]:
    """Why an LLM narrative cannot be shown (empty when it can)."""
    problems = []
    if not text.strip():
        problems.append("empty")
    if len(text) > 1500:
        problems.append("too long")
    if GENERIC_PRAISE.search(text):
        problems.append("generic praise")
    if VERDICT_TALK.search(text):
        problems.append("states a score or verdict")
    quotes = QUOTED.findall(text)
    if any(i.evidence for s in card.steps for i in s.items) and not quotes:
        problems.append("does not quote the candidate")
    if any(normalise(q) not in normalise(answer) for q in quotes):
        problems.append("quotes words the candidate did not write")
    if endorses_wrong_claim(text, card):
        problems.append("calls a wrong claim correct")
    return problems


def ledger_summary(card: Scorecard) -> str:
    lines = []
    for step in card.steps:
        shown = [i for i in step.items if i.verdict != "missing"]
        missing = [i for i in step.items if i.verdict == "missing"]
        lines.append(f"Step {step.step} {step.name}: {len(shown)} of {len(step.items)} items shown")
        for item in shown[:3]:
            lines.append(f'  shown ({item.verdict}): {item.description} -- "{item.evidence[0]}"')
        for item in missing[:2]:
            lines.append(f"  missing: {item.description}")
    if "sidesteps_question" in card.flags and card.gaps:
        lines.append(f"Leaves the question's own terms unused: {card.gaps[0].partition(': ')[2]}")
    for flag in card.red_flags:
        lines.append(f'Wrong claim: "{flag.quote}" -- {flag.why}')
    if card.overclaims:
        quotes = "; ".join(f'"{q}"' for q in card.overclaims[:3])
        lines.append(
            f"Overclaims throughout ({len(card.overclaims)} sentences state as certain what can only be weighed): "
            + quotes
        )
    return "\n".join(lines)


def write_narrative(
    card: Scorecard, answer: str, llm: LLM, kb: KnowledgeBase, prompts: Prompts | None = None
) -> Scorecard:
    """Ask the LLM to word the feedback; keep it only when it passes validation. An answer to another question or
    task gets the ledger's wording, which says so: the model, shown a ledger with nothing in it, would talk about the
    answer's structure instead."""
    if card.answers_instead or card.task_framing:
        return card.model_copy(update={"narrative": ledger_feedback(card, kb), "narrative_source": "ledger"})
    answer = card.graded_text or answer  # a translated answer is discussed, and quoted, in English
    prompt = (prompts or Prompts()).render(
        "grading_feedback", question=card.question, answer=fence_candidate(answer), ledger=ledger_summary(card)
    )
    try:
        # Three to five sentences fit in 220 tokens: an answer cut off there has already said too much.
        reply = llm.structured([{"role": "user", "content": prompt}], Narrative, max_tokens=220, grow=False)
        narrative = reply.feedback.strip()
    except LLMError as exc:
        log.warning("narrative fell back to the ledger: %s", exc)
        return card.model_copy(update={"narrative": ledger_feedback(card, kb), "narrative_source": "ledger"})
    problems = narrative_problems(narrative, answer, card)
    if problems:
        log.warning("narrative fell back to the ledger: %s", ", ".join(problems))
        return card.model_copy(update={"narrative": ledger_feedback(card, kb), "narrative_source": "ledger"})
    if "prompt_injection_suspected" in card.flags:
        narrative = f"{INJECTION_NOTE} {narrative}"
    return card.model_copy(update={"narrative": narrative, "narrative_source": "llm"})


LEVELS = ["missing", "partial", "covered"]


def apply_refinement(card: Scorecard, answer: str, refinement: Refinement, max_shift: float = 0.3) -> Scorecard:
    """Accept a verdict change only by one level and only with a quote that exists in the answer.
    The overall score moves by at most `max_shift` and the band never changes."""
    proposals = {v.id: v for v in refinement.verdicts}
    text = normalise(answer)
    steps = []
    changed = 0
    for step in card.steps:
        items = []
        for item in step.items:
            proposal = proposals.get(item.id)
            if (
                proposal is not None
                and proposal.verdict in LEVELS
                and abs(LEVELS.index(proposal.verdict) - LEVELS.index(item.verdict)) == 1
                and proposal.quote.strip()
                and normalise(proposal.quote) in text
            ):
                evidence = [proposal.quote.strip()] if proposal.verdict != "missing" else []
                item = item.model_copy(update={"verdict": proposal.verdict, "evidence": evidence})
                changed += 1
            items.append(item)
        weights = [1.0] * len(items)
        ratio = sum(VERDICT_VALUE[i.verdict] for i in items) / (sum(weights) or 1)
        steps.append(step.model_copy(update={"items": items, "score": round(min(4.0, 4.0 * ratio / 0.6), 1)}))
    if not changed:
        return card
    before = sum(s.score for s in card.steps)
    after = sum(s.score for s in steps)
    shift = max(-max_shift, min(max_shift, (after - before) / max(len(steps), 1) / 4))
    overall = round(min(5.0, max(1.0, card.overall + shift)), 2)
    return card.model_copy(update={"steps": steps, "overall": overall})


def refine(card: Scorecard, answer: str, llm: LLM, prompts: Prompts | None = None) -> Scorecard:
    """A capable model may refine item verdicts within bounds; anything unusable leaves the card as it was."""
    if not llm.capabilities.strong_grader or "prompt_injection_suspected" in card.flags:
        return card
    answer = card.graded_text or answer
    items = "\n".join(f"{i.id}: {i.description} -- {i.verdict}" for s in card.steps for i in s.items)
    prompt = (prompts or Prompts()).render(
        "grading_refine", question=card.question, answer=fence_candidate(answer), items=items
    )
    try:
        refinement = llm.structured([{"role": "user", "content": prompt}], Refinement, max_tokens=900)
    except LLMError as exc:
        log.warning("verdict refinement skipped: %s", exc)
        return card
    return apply_refinement(card, answer, refinement)

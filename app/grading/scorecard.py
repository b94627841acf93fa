"""The grader: an evidence ledger turned into a scorecard. The score comes from evidence, never from the LLM."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from app.grading.asked import asks_for_design, the_ask
from app.grading.evidence import FlagEvidence, ItemEvidence, Ledger, RubricIndex, build_ledger
from app.grading.expectations import ExpectationIndex, Expectations, share_of
from app.grading.injection import find_injections
from app.grading.language import paragraphs_to_translate, split_paragraphs
from app.grading.overclaim import Overclaims
from app.grading.relevance import BUSINESS_TOPICS, TaskCheck, TaskRelevance, specific_terms
from app.grading.topic import FRAMEWORK_TOPIC, QuestionFit, RivalPool, question_fit
from app.knowledge.aliases import AliasTable
from app.knowledge.base import KnowledgeBase, Scenario
from app.knowledge.embeddings import Embedder

log = logging.getLogger(__name__)

Band = Literal["strong", "partial", "weak", "off_topic"]
BAND_RANK: dict[str, int] = {"strong": 4, "partial": 3, "weak": 2, "off_topic": 1}
VERDICT_VALUE = {"covered": 1.0, "partial": 0.4, "missing": 0.0}

# Policy constants (see `decide_band`): evidence is the weighted count of checklist items shown by the answer. The
# evidence and step constants were chosen by a grid search on the tune half of eval/cases/grading_blind.jsonl.
RELEVANCE_FLOOR = 0.32  # an answer whose sentences point elsewhere than the question is off topic
DESIGN_EVIDENCE_FLOOR = 2.0  # below this, no data, feature, model, evaluation or deployment decision was made
PARTIAL_EVIDENCE = 4.0
STRONG_EVIDENCE = 12.0
STRONG_COVERED_ITEMS = 5
RED_FLAG_COST = 3.0  # a wrong claim cancels a key item's worth (weight 3) of evidence for the partial band: a thin
# answer with one mistake is weak. On the tune half any cost from 2.5 to 6 gives the same bands
THIN_OFF_TOPIC_SCORE = 1.1  # an answer that stays on the asked problem but decides nothing ranks above one that answers
# another question (1.0)
STEP_COVERED_RATIO = 0.1  # share of a step's weighted checklist shown for the step to count as covered
INJECTION_SCORE = 1.0  # an attempt to instruct the grader is an integrity failure: the lowest score
OWN_EXPECTATIONS_FLOOR = 0.23  # a full design (STRONG_EVIDENCE) meeting less than this share of a design question's
# own expectations is a design for another problem. Chosen on the two tune halves (grading_blind.jsonl and
# grading_holdout.jsonl), as the middle of the gap: long designs for a neighbouring problem of the same product that
# nothing else catches meet 0.19 to 0.21, the on-topic strong answers 0.25 or more
CONCEPT_POINTS_FLOOR = 0.08  # the same for a concept question's three or four key points, where one point half met is
# 0.125: its on-topic answers are judged by the share of their sentences on point instead (ON_POINT_FLOOR)
SPECIFIC_TERMS_FLOOR = 20  # a strong whole design adds at least this many specific words to the question. Chosen on
# the tune half: its partial answers add 4 to 19, its concise strong answers (about 150 words) 22 to 48
STRONG_OWN_SHARE = 1 / 3  # ... or meets a third of the design question's own expectations. On the tune halves the
# English strong answers meet 0.36 or more, the partial ones 0.29 or less
DECLARED_WORDS = 2  # a deliverable declared in two or more specific words ("automated blade inspection") names a
# problem; that problem fitting another bank question better than the asked one is another task
RIVAL_MARGIN = 0.1  # another question's expectations met by this much more (one in ten) fit that question better
SAME_CONCEPT = 0.6  # a question this close to a concept question of the bank asks about that concept
CONCEPT_STRONG_SHARE = 0.25  # a concise answer to a concept question that meets this share of the concept's key points
# (one of four met, or two in part), specifically and without a wrong claim, is strong however few steps of a whole
# design it walks through. On the tune halves the concise strong answers to concept questions meet 0.375 or more, every
# specific answer below strong that makes no wrong claim 0.125 or less; 0.25 is the middle of that gap
ON_POINT_FLOOR = 0.25  # a whole design answering a concept question with fewer than a quarter of its sentences on the
# concept (or its key points) is a design of something else. On the tune half at a sentence cosine of 0.35, the
# on-topic designs for concept questions have 0.61 or more of their sentences on point, the same designs asked under
# another question 0.22 or less
ON_POINT_HOLDS = 0.4  # ... and one with this share or more on point speaks to the asked concept: the middle of that gap
THIN_ON_QUESTION_SHARE = 0.1  # a thin answer (below DESIGN_EVIDENCE_FLOOR) that meets this share of a design
# question's own expectations (one met or two in part in ten) is about the asked problem however little it decides:
# weak, not off topic. On the tune halves the thin partial and weak answers meet 0.119 to 0.143; the two thin answers
# to a neighbouring task meet 0.024 and 0.238, and are told apart by the task they name (`elsewhere`) instead
FULL_DESIGN_WORDS = 235  # an answer this long has room for the question's own terms: one that uses almost none of
# them answers another question (`ECHO_FLOOR`). A concise answer (180 words or fewer) has no room for every term; a
# sound 218-word design of product search for "a mid-sized online electronics store", which never says "electronics"
# or "store", has 218 words, the shortest long neighbour design of the first tune halves 249: the middle of that gap
SIDESTEP_WORDS = 280  # ... and an answer this long has room to work with most of them (`STRONG_ECHO`). Sound designs
# of 237 to 252 words (the concept and generic tune halves) use 0.30 to 0.48 of a long question's terms, as
# neighbour designs do; every long neighbour design that the check holds back from strong on the tune halves has 311
# words or more: the middle of that gap
STRONG_ECHO = 0.485  # ... and one that uses less than this weighted share of the question's terms is not strong: it
# designs a related problem in the question's setting, or a generic system. On the tune halves the strong answers and
# expert outlines use 0.51 or more; 16 of the 20 long designs of a neighbouring problem 0.46 or less (the other four
# 0.61 to 0.86): the middle of that gap
ECHO_FLOOR = 0.25  # ... and one that uses less than this share answers another question: on the tune halves three in
# four long answers asked again under another question use 0.23 or less of its terms, every long answer written for
# the question and labelled weak or better 0.29 or more. The same holds for an answer of any length that would be
# strong: on the tune halves every answer labelled strong and graded strong uses 0.269 or more, while the seven graded
# strong below 0.25 are answers to another question (crossings and neighbour designs)


class ItemResult(BaseModel):
    id: str
    description: str
    verdict: Literal["covered", "partial", "missing"]
    strength: float = Field(ge=0, le=1)
    evidence: list[str] = Field(default_factory=list, description="the candidate's sentences, quoted exactly")


class StepResult(BaseModel):
    step: int
    name: str
    score: float = Field(ge=0, le=4)
    items: list[ItemResult]


class RedFlagResult(BaseModel):
    id: str
    step: int
    quote: str
    claim: str
    why: str
    section: str = Field(description="knowledge concept id that explains it")


class Scorecard(BaseModel):
    question: str
    scenario_id: str | None = None
    overall: float = Field(ge=1, le=5)
    band: Band
    covered_steps: list[int]
    steps: list[StepResult]
    red_flags: list[RedFlagResult]
    strengths: list[str]
    gaps: list[str]
    study: list[str] = Field(description="knowledge concept ids to read")
    flags: list[str]
    relevance: float
    evidence_total: float
    task_framing: str = Field("", description="the answer's own words naming a task other than the one asked")
    task_framing_quote: str = Field("", description="the answer's sentence that names that task, quoted exactly")
    asked_task: str = Field(
        "", description="the question's sentence that says what it asks, when the answer works on another task"
    )
    answers_instead: str = Field("", description="what the answer addresses instead, when it answers another question")
    narrative: str = ""
    narrative_source: Literal["llm", "ledger"] = "ledger"
    hints_used: int = 0
    graded_text: str = Field("", description="the English translation graded, when the answer was in another language")
    steps_not_reached: list[int] = Field(default_factory=list, description="a mock interview's steps never reached")
    expectations: Expectations | None = Field(
        None, description="the question's own checklist and what the answer meets"
    )
    overclaims: list[str] = Field(
        default_factory=list, description="sentences stating as certain what a design can only weigh, when habitual"
    )
    waved_away: list[str] = Field(
        default_factory=list, description="on a weak answer, sentences that wave a practice of the design away"
    )


@dataclass
class Features:
    evidence: float  # weighted items over all steps
    design_evidence: float  # weighted items of steps 2-6: the design itself
    covered_items: int
    relevance: float
    red_flags: int
    injection: bool
    different_task: bool = False  # the answer names and works on a task other than the one asked
    different_question: bool = False  # the answer fits another question better than the one asked
    expectation_share: float | None = None  # share of the question's own expectations met (None: it has none)
    specific_terms: int | None = None  # specific words added to the question (None: one step, not judged)
    rival_share: float | None = None  # the best share of another bank question's expectations met
    on_point: float | None = None  # a concept question's: the share of the answer's sentences that speak to it
    own_list: Literal["scenario", "concept"] | None = None  # the kind of bank question the expectations belong to
    overclaims: bool = False  # states as certain, universal or needless, sentence after sentence, what a design weighs
    dismissals: int = 0  # sentences that wave a practice away ("no need for a model"): decisions, if wrong ones
    echo: float | None = None  # weighted share of the question's terms the answer uses (None: not judged)
    named_concepts: int = 0  # the knowledge base's methods, models, metrics and practices the answer names
    words: int = 0  # the answer's length in words

    @property
    def wrong_claims(self) -> int:
        """Red flags, and overclaiming throughout as one more: a habit of certainty is a mistake of judgment."""
        return self.red_flags + int(self.overclaims)

    @property
    def misses_own_expectations(self) -> bool:
        """A full, specific design by the generic checklist that meets few of the points the asked question itself
        expects (the contrast between the two checklists shows it designs something else), or, asked about one
        concept, spends next to none of its sentences on it."""
        if self.expectation_share is None or self.evidence < STRONG_EVIDENCE:
            return False
        if self.on_point is not None and self.on_point < ON_POINT_FLOOR:
            return True
        return self.expectation_share < self.own_floor and (self.specific or self.fits_rival_better)

    @property
    def own_floor(self) -> float:
        return OWN_EXPECTATIONS_FLOOR if self.own_list == "scenario" else CONCEPT_POINTS_FLOOR

    @property
    def fits_rival_better(self) -> bool:
        """Another bank question's expectations are clearly better met than the asked one's. A generic answer, which
        says little any question expects, is not a design of something else."""
        if self.rival_share is None or self.expectation_share is None:
            return False
        return self.rival_share >= self.expectation_share + RIVAL_MARGIN

    @property
    def specific(self) -> bool:
        """Says enough specific things for a strong grade: a walk through every step in generic words is partial. An
        answer that meets as much of its design question's own expectations as strong answers do is specific to it,
        however few words it adds to the question."""
        if self.specific_terms is None or self.specific_terms >= SPECIFIC_TERMS_FLOOR:
            return True
        return self.own_list == "scenario" and (self.expectation_share or 0.0) >= STRONG_OWN_SHARE

    @property
    def explains_concept(self) -> bool:
        """Asked about one concept, states a fair share of its key points with specific detail and no wrong claim:
        a concept question does not ask for the seven steps of a whole design."""
        return (
            self.own_list == "concept"
            and self.expectation_share is not None
            and self.expectation_share >= CONCEPT_STRONG_SHARE
            and self.specific_terms is not None
            and self.specific
            and self.wrong_claims == 0
            and self.design_evidence >= DESIGN_EVIDENCE_FLOOR
            and self.evidence >= PARTIAL_EVIDENCE
        )

    @property
    def sidesteps_question(self) -> bool:
        """A long answer that uses little of the question's own terms: it works in its own setting, or in the
        question's setting on a related problem, rather than on the constraints the question states."""
        return self.echo is not None and self.words >= SIDESTEP_WORDS and self.echo < STRONG_ECHO

    @property
    def strays_from_question(self) -> bool:
        """A long answer, or one of any length that would be strong, that uses almost none of the question's terms: it
        answers another question. A design good enough for a strong grade has room for the question's words; a
        partial or thin one may leave them out and still be about it."""
        if self.echo is None or self.echo >= ECHO_FLOOR:
            return False
        return self.words >= FULL_DESIGN_WORDS or self.strong_on_its_own

    @property
    def strong_on_its_own(self) -> bool:
        """Broad, specific and sound, or a specific account of an asked concept: strong, unless it is about another
        question."""
        broad = (
            self.evidence >= STRONG_EVIDENCE
            and self.covered_items >= STRONG_COVERED_ITEMS
            and self.red_flags <= 1
            and self.specific
            and not self.overclaims
            and not self.sidesteps_question
        )
        return broad or self.explains_concept

    @property
    def touches_own_points(self) -> bool:
        """Meets some of the asked design question's own expectations: the answer is about this problem."""
        return (
            self.own_list == "scenario"
            and self.expectation_share is not None
            and self.expectation_share >= THIN_ON_QUESTION_SHARE
        )

    @property
    def elsewhere(self) -> bool:
        """Works on another problem than the one asked, by what it names or by what it leaves out."""
        return self.different_task or self.misses_own_expectations or self.strays_from_question


# ---------- pure policy ----------


def weighted_evidence(items: list[ItemEvidence], steps: range | list[int] = range(1, 8)) -> float:
    return float(sum(i.weight * VERDICT_VALUE[i.verdict] for i in items if i.step in steps))


def step_ratio(items: list[ItemEvidence]) -> float:
    total = sum(i.weight for i in items)
    return weighted_evidence(items) / total if total else 0.0


def decide_band(f: Features) -> Band:
    """Off topic: no design decisions, sentences about something else, a different task solved, or a full design that
    meets few of the points the question itself expects. Strong: broad, specific and sound, or, asked about one
    concept, a specific and sound account of its key points; never an answer that overclaims throughout, nor a long
    one that leaves most of the question's own terms unused. Partial: real design content, at least one checklist
    item shown in full rather than only loose matches, with at most one wrong claim (overclaiming throughout counts as
    one), which costs evidence. Weak: everything else. A thin answer that waves a practice of the asked design away
    ("no need for a model") decides something about it, wrongly; one that meets some of the question's own
    expectations is about it; and one that names a method, model, metric or practice of the design ("predict P(click)
    with a GBDT") attempts it, however little it decides: weak, not off topic."""
    elsewhere = f.relevance < RELEVANCE_FLOOR or f.elsewhere
    astray = elsewhere or f.design_evidence < DESIGN_EVIDENCE_FLOOR
    if f.different_question:
        band: Band = "off_topic"
    elif f.red_flags == 0 and astray and (elsewhere or not (f.dismissals or f.touches_own_points or f.named_concepts)):
        band = "off_topic"
    elif f.strong_on_its_own:
        band = "strong"
    elif (
        f.design_evidence >= DESIGN_EVIDENCE_FLOOR
        and f.covered_items >= 1
        and f.wrong_claims <= 1
        and f.evidence - RED_FLAG_COST * f.wrong_claims >= PARTIAL_EVIDENCE
    ):
        band = "partial"
    else:
        band = "weak"
    if (f.injection or astray) and BAND_RANK[band] > BAND_RANK["weak"]:
        band = "weak"  # a wrong claim keeps an answer about something else from off topic, not from weak
    return band


def overall_score(band: Band, f: Features) -> float:
    """A 1-5 score inside the band's range, higher with more evidence and lower with each red flag."""

    def frac(x: float) -> float:
        return min(1.0, max(0.0, x))

    if band == "off_topic" and (f.different_question or f.elsewhere):
        score = 1.0  # evidence for another question earns nothing for this one
    elif band == "off_topic":
        score = THIN_OFF_TOPIC_SCORE + (1.4 - THIN_OFF_TOPIC_SCORE) * frac(f.evidence / 12)
    elif band == "weak":
        score = 1.5 + 0.9 * frac(f.evidence / 15) - 0.1 * min(f.wrong_claims, 3)
        score = max(1.5, score)
    elif band == "partial":
        # A long answer that sidesteps the question earns its evidence in proportion to the question's terms it uses.
        evidence = f.evidence * min(1.0, (f.echo or 0.0) / STRONG_ECHO) if f.sidesteps_question else f.evidence
        score = 2.5 + 1.2 * frac((evidence - PARTIAL_EVIDENCE) / 25) - 0.15 * f.wrong_claims
    else:
        score = 3.8 + 1.2 * frac((f.evidence - STRONG_EVIDENCE) / 40) - 0.15 * f.red_flags
    if f.injection:
        return INJECTION_SCORE
    return round(min(5.0, max(1.0, score)), 2)


def whole_design_ceiling(covered_steps: int) -> float:
    """The most a strong whole design can score: the top of the range (5.0) only with all seven steps shown, each
    step missing a seventh of the range above 3.8 ("Wrap-up & tradeoffs 0/4" under a 5.00 would read as a slip)."""
    return round(3.8 + 1.2 * min(covered_steps, 7) / 7, 2)


def covered_steps_of(band: Band, ratios: dict[int, float]) -> list[int]:
    """Steps with real, correct content; a weak or off-topic answer has none worth counting."""
    if band in ("weak", "off_topic"):
        return []
    return [step for step, ratio in sorted(ratios.items()) if ratio >= STEP_COVERED_RATIO]


def step_score(ratio: float) -> float:
    return round(min(4.0, 4.0 * ratio / 0.6), 1)


# ---------- relevance ----------


def match_scenario(question: str, kb: KnowledgeBase, embedder: Embedder, threshold: float = 0.75) -> Scenario | None:
    """The question bank's scenario this question is, when it is one (asked by id or worded closely)."""
    for scenario in kb.questions.scenarios:
        if question.strip() in (scenario.id, scenario.prompt.strip()):
            return scenario
    q = embedder.encode_one(question)
    best, best_sim = None, threshold
    for scenario in kb.questions.scenarios:
        sim = float(embedder.encode_one(scenario.prompt) @ q)
        if sim >= best_sim:
            best, best_sim = scenario, sim
    return best


def relevance(
    question: str, scenario: Scenario | None, sentences: list[str], vectors: np.ndarray, embedder: Embedder
) -> float:
    """Cosine of the answer's mean sentence vector with the question (and the scenario's key vocabulary)."""
    if not sentences:
        return 0.0
    target = question if scenario is None else f"{question} {' '.join(scenario.key_terms)}"
    mean = vectors.mean(axis=0)
    mean /= float(np.linalg.norm(mean)) or 1.0
    return round(float(mean @ embedder.encode_one(target)), 3)


# ---------- the scorecard ----------


def _item_results(items: list[ItemEvidence]) -> list[ItemResult]:
    return [
        ItemResult(id=i.item_id, description=i.description, verdict=i.verdict, strength=i.strength, evidence=i.quotes)
        for i in items
    ]


def _flag_results(flags: list[FlagEvidence]) -> list[RedFlagResult]:
    return [
        RedFlagResult(id=f.flag_id, step=f.step, quote=f.quote, claim=f.claim, why=f.why, section=f.concept)
        for f in flags
    ]


def strengths_and_gaps(
    kb: KnowledgeBase,
    ledger: Ledger,
    steps: list[int],
    fit: Callable[[str], float] | None = None,
    unpraised: frozenset[str] = frozenset(),
) -> tuple[list[str], list[str], list[str]]:
    """Specific strengths (with the candidate's words), the most important gaps, and concepts to study. `fit` says
    how close a concept is to the asked question: each missing item suggests its concept closest to the question,
    and the closest suggestions come first, so a question about moderation is not sent to read about position bias.
    Sentences in `unpraised` (an overclaiming answer's confident ones) are never quoted as strengths."""
    strengths: list[str] = []
    covered = sorted(
        (i for i in ledger.items if i.verdict == "covered" and i.step in steps), key=lambda i: (-i.weight, -i.strength)
    )
    quoted: set[str] = set(unpraised)
    for item in covered:
        if item.quotes[0] in quoted or len(strengths) >= 4:
            continue
        quoted.add(item.quotes[0])
        strengths.append(f'{kb.rubric.step(item.step).name}: "{item.quotes[0]}"')
    missing = sorted(
        (i for i in ledger.items if i.verdict != "covered" and i.step in steps), key=lambda i: (-i.weight, i.strength)
    )
    gaps = [f"{kb.rubric.step(i.step).name}: {i.description}" for i in missing[:5]]
    study: list[str] = []
    for flag in ledger.flags:
        if flag.concept not in study:
            study.append(flag.concept)
    suggested: list[str] = []
    for item in missing:
        choices = [c for c in item.concepts if c in kb.concepts] or item.concepts[:1]
        best = max(choices, key=fit) if fit is not None and choices else (choices[0] if choices else None)
        if best is not None and best not in study and best not in suggested:
            suggested.append(best)
    if fit is not None:
        suggested.sort(key=lambda c: -fit(c))  # stable: equally close concepts keep the items' order of weight
    return strengths, gaps, (study + suggested)[:STUDY_ITEMS]


STUDY_ITEMS = 6


# A mock interview's band can be no higher than this when it ended before the step given: the score has to come
# from all seven steps, and a design is not judged on the first few.
REACH_CAPS: tuple[tuple[int, Band], ...] = ((2, "weak"), (4, "partial"))
BAND_CEILING: dict[str, float] = {"off_topic": 1.4, "weak": 2.49, "partial": 3.79, "strong": 5.0}


def interview_card(card: Scorecard, reached: int) -> Scorecard:
    """A mock interview's scorecard: the steps after the one it reached count as not shown (no evidence, score 0),
    the scorecard names them, and the band and score are capped by how far the interview got."""
    not_reached = [s for s in range(reached + 1, 8)]
    if not not_reached:
        return card
    steps = [s if s.step <= reached else _not_shown(s) for s in card.steps]
    band = card.band
    for last, cap in REACH_CAPS:
        if reached <= last and BAND_RANK[band] > BAND_RANK[cap]:
            band = cap
            break
    flags = [*card.flags, "steps_not_reached"]
    return card.model_copy(
        update={
            "steps": steps,
            "band": band,
            "overall": min(card.overall, BAND_CEILING[band]),
            "covered_steps": [s for s in card.covered_steps if s <= reached],
            "steps_not_reached": not_reached,
            "flags": flags,
            "strengths": card.strengths if band != "off_topic" else [],
        }
    )


def earns_nothing(card: Scorecard) -> Scorecard:
    """An answer to another question: its sentences show nothing for this one, so no item, step or expectation of
    the asked question is marked as met by them."""
    expectations = card.expectations
    if expectations is not None:
        items = [e.model_copy(update={"verdict": "not_met", "evidence": ""}) for e in expectations.items]
        expectations = expectations.model_copy(update={"items": items})
    gaps: list[str] = []
    if expectations is not None:
        # What the asked question wanted, one per step, instead of gaps left over from another question's design.
        seen: set[int] = set()
        for e in expectations.items:
            if e.step not in seen:
                seen.add(e.step)
                gaps.append(e.text)
    return card.model_copy(
        update={
            "steps": [_not_shown(s) for s in card.steps],
            "expectations": expectations,
            "strengths": [],
            "gaps": gaps[:5],
            "evidence_total": 0.0,
        }
    )


def _not_shown(step: StepResult) -> StepResult:
    items = [i.model_copy(update={"verdict": "missing", "strength": 0.0, "evidence": []}) for i in step.items]
    return step.model_copy(update={"score": 0.0, "items": items})


def own_share(expectations: Expectations) -> float | None:
    """The share of the asked question's own expectations the answer meets (half for a partial one); None when the
    question has none of its own. A custom design question borrows a neighbour's, which say little about it; a
    question about one concept, worded in its own way, expects that concept's key points."""
    if not expectations.items:
        return None
    asks_concept = expectations.asked or expectations.closeness >= SAME_CONCEPT
    if expectations.borrowed and not (expectations.kind == "concept" and asks_concept):
        return None
    return share_of(expectations.items)


def question_gap(unused: list[str]) -> str:
    """The gap of a long answer that leaves the question's own terms unused, naming some it never mentions."""
    quoted = [f'"{t}"' for t in unused]
    if not quoted:
        return "Question: the setting and constraints the question states, which a strong design works with"
    named = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"Question: the setting and constraints the question states: the answer never mentions {named}"


def study_the_asked_concept(study: list[str], expectations: Expectations) -> list[str]:
    """Asked about one concept and short of some of its key points: that concept is the first thing to study."""
    if expectations.met == len(expectations.items) or not expectations.source_id:
        return study
    return [expectations.source_id, *(c for c in study if c != expectations.source_id)]


def key_point_gaps(expectations: Expectations) -> list[str]:
    """The key points of the asked concept the answer does not state, then those it states only in part."""
    missing = [e.text for e in expectations.items if e.verdict == "not_met"]
    in_part = [e.text for e in expectations.items if e.verdict == "partial"]
    return [f"Key point: {text}" for text in missing] + [f"Key point, only in part: {text}" for text in in_part]


def task_framing(task: TaskCheck, fit: QuestionFit) -> tuple[str, str]:
    """The answer's own words for the task it works on instead of the asked one, and its sentence that says them."""
    if task.mismatch and task.foreign_framing:
        return task.foreign_framing.phrase, task.foreign_framing.sentence
    sentence = next((f.sentence for f in task.framings if f.phrase == fit.declared_elsewhere), "")
    return fit.declared_elsewhere, sentence


def answers_instead(fit: QuestionFit, rival_list: str = "") -> str:
    """What an answer to another question addresses: the bank question it fits (by wording, or by meeting its
    expectations, `rival_list`), else the subject it keeps coming back to. A bank question that is merely closer than
    the asked one, when the answer fits neither (a design of a problem the bank does not have), would misname it."""
    if fit.rival is not None and fit.different_question:
        return first_sentence(fit.rival.text)
    if rival_list:
        return first_sentence(rival_list)
    if len(fit.named) >= 2:
        return "a problem about " + ", ".join(fit.named[:4])
    return "another problem than the one asked"


def other_task_feedback(card: Scorecard) -> str:
    """Says what the answer works on, in its own sentence, and what the question asks, in its own."""
    if card.task_framing_quote:
        works_on = f'The answer sets out to solve another problem: "{first_sentence(card.task_framing_quote)}"'
    else:
        works_on = f'The answer works on "{card.task_framing}", which is not the task asked.'
    if not card.asked_task:
        return f"{works_on} Its design earns little credit for this question."
    return f'{works_on} The question asks: "{first_sentence(card.asked_task)}" Its design earns little credit here.'


def first_sentence(text: str) -> str:
    first = re.split(r"(?<=[.?!])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= 160 else first[:157].rsplit(" ", 1)[0] + "..."


def own_list_holds(own: float, rival: float | None, own_list: str | None, on_point: float | None = None) -> bool:
    """The answer meets a fair share of the asked question's own list, more than that of the question its wording
    seems closer to: what it says does not bear out the closeness of its words. For a design question, clearly more
    (a margin of one in ten). A concept question's three or four key points are too coarse for a margin (one point
    half met is 0.125), so there the answer must also meet enough of them for a concise strong answer and spend
    most of its sentences on the asked concept."""
    if rival is None or own_list is None:
        return False
    if own_list == "concept":
        return own >= CONCEPT_STRONG_SHARE and on_point is not None and on_point >= ON_POINT_HOLDS and own > rival
    return own >= OWN_EXPECTATIONS_FLOOR and own >= rival + RIVAL_MARGIN


def mistaken(band: Band, f: Features) -> bool:
    """Weak for its mistakes: two or more wrong claims. Its sentences that match the checklist are not held up as
    strengths, which the grade would contradict."""
    return band == "weak" and f.wrong_claims >= 2


def waved_away(ledger: Ledger, band: Band) -> list[str]:
    """A weak answer's sentences that dismiss a practice (not already quoted as a wrong claim): a strong answer may
    rightly say it needs no heroic latency tricks; a weak one that waves the appeal process away should hear it."""
    if band != "weak":
        return []
    flagged = {f.quote for f in ledger.flags}
    return [s.text for s in ledger.sentences if s.index in ledger.asserted and s.text not in flagged]


def overclaim_feedback(quotes: list[str], flagged: set[str]) -> str:
    """Why a habit of certainty costs the grade, with two of the candidate's own sentences (those the red flags have
    not already quoted first)."""
    chosen = sorted(quotes, key=lambda q: q in flagged)[:2]
    shown = "; ".join(f'"{q}"' for q in chosen)
    return (
        f"{len(quotes)} sentences state as certain, universal or needless what a design can only weigh ({shown}). "
        "An interviewer hears missing judgment: say what each choice costs and how you would check that it works."
    )


def gap_text(gap: str) -> str:
    """A gap without the step it belongs to ("Evaluation: ..."); a key point met in part says so."""
    head, _, text = gap.partition(": ")
    text = (text or head).rstrip(".")
    return f"{text} (stated only in part)" if head == "Key point, only in part" else text


def ledger_feedback(card: Scorecard, kb: KnowledgeBase) -> str:
    """Plain feedback built from the ledger alone (used when no LLM narrative is available)."""
    parts: list[str] = []
    if card.steps_not_reached:
        first, last = card.steps_not_reached[0], card.steps_not_reached[-1]
        which = f"step {first}" if first == last else f"steps {first} to {last}"
        parts.append(
            f"The interview ended before {which}, so {'it counts' if first == last else 'they count'} as not shown "
            "and the score is capped accordingly."
        )
    if "translated" in card.flags:
        parts.append("The answer was graded on an English translation made by the model; quotes are from it.")
    elif "not_translated" in card.flags:
        parts.append(
            "The answer is not in English and no translation was available, so only its English words could be "
            "matched against the rubric; the grade may understate it."
        )
    if "prompt_injection_suspected" in card.flags:
        parts.append(
            "The answer contains instructions addressed to the grader. Candidate text is never obeyed; an attempt "
            "to steer the grade is an integrity failure, so this answer receives the lowest score."
        )
    if card.task_framing:
        parts.append(other_task_feedback(card))
    elif card.answers_instead:
        parts.append(
            f"This answer addresses a different question ({card.answers_instead.rstrip('.?')}), not the one asked, "
            "so its content earns no credit here."
        )
    elif card.band == "off_topic":
        parts.append("The answer does not design a system for this question, so it earns little credit.")
    if card.strengths:
        parts.append("Shown: " + "; ".join(card.strengths[:2]) + ".")
    for flag in card.red_flags[:2]:
        parts.append(f'"{flag.quote}" -- {flag.why}')
    if card.overclaims:
        parts.append(overclaim_feedback(card.overclaims, {f.quote for f in card.red_flags}))
    if card.waved_away:
        quoted = " ".join(f'"{q}"' for q in card.waved_away[:2])
        parts.append(
            f"It waves parts of the design away: {quoted} Each is a decision an interviewer would ask you to defend."
        )
    if card.gaps:
        parts.append("Missing: " + "; ".join(gap_text(g) for g in card.gaps[:3]) + ".")
    if card.study:
        titles = [kb.concepts[c].title if c in kb.concepts else c for c in card.study[:3]]
        parts.append("Study: " + ", ".join(titles) + ".")
    return " ".join(parts)


@dataclass
class Grader:
    """Deterministic grading against the rubric: same input, same scorecard."""

    kb: KnowledgeBase
    embedder: Embedder
    translate: Callable[[str], str | None] | None = None  # into English, for answers in other languages
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @cached_property
    def index(self) -> RubricIndex:
        """The rubric's phrasings embedded once, for this grader's knowledge base and embedder."""
        with self._lock:
            return self.__dict__.get("index") or RubricIndex(self.kb, self.embedder)

    @cached_property
    def concept_vectors(self) -> dict[str, np.ndarray]:
        """Each concept's title and explanation embedded once, to tell which concepts a question is about."""
        with self._lock:
            cached: dict[str, np.ndarray] | None = self.__dict__.get("concept_vectors")
            if cached is not None:
                return cached
            ids = list(self.kb.concepts)
            texts = [f"{self.kb.concepts[i].title}. {self.kb.concepts[i].explanation}" for i in ids]
            return dict(zip(ids, self.embedder.encode(texts), strict=True)) if ids else {}

    @cached_property
    def design_vocabulary(self) -> AliasTable:
        """The names of the knowledge base's methods, models, metrics and practices: its concepts but the interview's
        own steps and the business measures a system is for."""
        with self._lock:
            cached: AliasTable | None = self.__dict__.get("design_vocabulary")
            concepts = [c for c in self.kb.concepts.values() if c.topic not in {FRAMEWORK_TOPIC, *BUSINESS_TOPICS}]
            return cached or AliasTable((c.title, c.aliases) for c in concepts)

    @cached_property
    def task_check(self) -> TaskRelevance:
        with self._lock:
            return self._task_check_unlocked()

    def _task_check_unlocked(self) -> TaskRelevance:
        if "task_check" not in self.__dict__:
            self.__dict__["task_check"] = TaskRelevance(self.kb, self.embedder)
        return self.__dict__["task_check"]

    @cached_property
    def rivals(self) -> RivalPool:
        """The bank's questions an answer may answer instead of the asked one, embedded once."""
        with self._lock:
            return self.__dict__.get("rivals") or RivalPool(self.kb, self.embedder, self._task_check_unlocked())

    @cached_property
    def expectations(self) -> ExpectationIndex:
        """Every bank question's own expectations, embedded once."""
        with self._lock:
            return self.__dict__.get("expectations") or ExpectationIndex(
                self.kb, self.embedder, self._task_check_unlocked().weights
            )

    def english_text(self, answer: str, todo: list[int] | None = None) -> tuple[str, bool]:
        """The answer in English: as written, or with its parts in other languages translated (the whole answer, or
        only the paragraphs that are not in English, `todo` when the caller has found them). The flag says whether
        anything was translated."""
        todo = paragraphs_to_translate(answer) if todo is None else todo
        if not todo or self.translate is None:
            return answer, False
        parts = split_paragraphs(answer)
        whole = len(todo) == len([p for p in parts[::2] if p.strip()])
        if whole:
            translated = self.translate(answer)
            return (translated, True) if translated else (answer, False)
        for index in todo:
            translated = self.translate(parts[index])
            if not translated:
                return answer, False
            parts[index] = translated
        return "".join(parts), True

    def wrong_claims(self, text: str) -> list[FlagEvidence]:
        """The rubric's wrong claims the text makes, found as in grading (in English), without grading it."""
        english, _ = self.english_text(text)
        return build_ledger(english, self.index, find_injections(english)).flags

    def grade(
        self,
        question: str,
        answer: str,
        *,
        steps: list[int] | None = None,
        hints_used: int = 0,
        judge_question: bool = True,
    ) -> Scorecard:
        """The scorecard of an answer. `judge_question=False` skips the check that it answers another question (a
        mock interview's answers reply to the interviewer's own step questions)."""
        started = time.perf_counter()
        foreign = paragraphs_to_translate(answer)
        text, translated = self.english_text(answer, foreign)
        injections = find_injections(answer) + (find_injections(text) if translated else [])
        ledger = build_ledger(text, self.index, find_injections(text), steps)
        scenario = match_scenario(question, self.kb, self.embedder)
        usable = [s.text for s in ledger.sentences if s.index not in set(ledger.excluded)]
        task: TaskCheck = self.task_check.check(question, scenario, usable)
        asked = scenario.prompt if scenario is not None and question.strip() == scenario.id else question
        vectors = self.embedder.encode(usable)
        declared = tuple(f.phrase for f in task.framings if f.declared and len(f.specific) >= DECLARED_WORDS)
        fit = question_fit(asked, usable, vectors, self.rivals, self.task_check, declared)
        different_task = task.mismatch or bool(fit.declared_elsewhere)
        graded_steps = sorted({i.step for i in ledger.items})
        overclaims = Overclaims.of(usable)
        expectations = self.expectations.check(
            question, scenario, usable, vectors, frozenset(f.quote for f in ledger.flags), ledger.asserted_texts()
        )
        features = Features(
            evidence=weighted_evidence(ledger.items),
            design_evidence=weighted_evidence(ledger.items, range(2, 7)),
            covered_items=sum(1 for i in ledger.items if i.verdict == "covered"),
            relevance=relevance(question, scenario, usable, vectors, self.embedder),
            red_flags=len(ledger.flags),
            injection=bool(injections),
            different_task=different_task,
            different_question=judge_question and fit.different_question,
            expectation_share=own_share(expectations) if judge_question else None,
            on_point=expectations.on_point if judge_question else None,
            own_list=expectations.kind,
            # One step of an interview is not a whole design: it is not asked for specific content.
            specific_terms=None if steps and len(steps) < 7 else specific_terms(asked, usable, self.task_check.weights),
            overclaims=overclaims.throughout,
            dismissals=len(ledger.asserted),
            # A translation chooses its own words, and an answer left in another language cannot use the question's.
            echo=fit.echo if judge_question and not translated and not foreign else None,
            words=sum(len(sentence.split()) for sentence in usable),
            named_concepts=len(self.design_vocabulary.named(" ".join(usable))),
        )
        share = features.expectation_share
        rival_list = ""
        if share is not None and share < features.own_floor and not features.specific:
            features.rival_share, rival_list = self.expectations.best_rival_share(question, scenario, usable, vectors)
        if features.different_question and share is not None and fit.rival is not None:
            rival = self.expectations.share_for(fit.rival.text, usable, vectors)
            features.different_question = not own_list_holds(share, rival, features.own_list, features.on_point)
        if steps and len(steps) < 7:
            # One step of an interview: judge the step's own coverage rather than a whole design.
            features.design_evidence = max(features.design_evidence, features.evidence)
        band = decide_band(features)
        sidestepped = features.sidesteps_question and band != decide_band(replace(features, echo=None))
        ratios = {s: step_ratio(ledger.step_items(s)) for s in graded_steps}
        flags = []
        if injections:
            flags.append("prompt_injection_suspected")
        if band == "off_topic":
            flags.append("off_topic")
        if different_task:
            flags.append("different_task")
        if features.different_question or (features.misses_own_expectations and band == "off_topic"):
            flags.append("different_question")  # kept at weak by a wrong claim, its red flags say why
        if overclaims.throughout:
            flags.append("overclaims")
        if sidestepped:
            flags.append("sidesteps_question")
        if hints_used:
            flags.append("hints_used")
        if translated:
            flags.append("translated")
        elif foreign:
            flags.append("not_translated")
        question_vector = self.embedder.encode_one(asked)
        vectors_of = self.concept_vectors
        strengths, gaps, study = strengths_and_gaps(
            self.kb,
            ledger,
            graded_steps,
            lambda c: float(vectors_of[c] @ question_vector) if c in vectors_of else -1.0,
            frozenset(overclaims.quotes) if overclaims.throughout else frozenset(),
        )
        if features.own_list == "concept" and features.expectation_share is not None:
            gaps = key_point_gaps(expectations)  # a concept question asks for its key points, not a whole design
            study = study_the_asked_concept(study, expectations)
        if sidestepped:
            gaps.insert(0, question_gap(self.task_check.unused_terms(asked, usable)))
        framing, framing_quote = task_framing(task, fit)
        covered = [] if sidestepped else covered_steps_of(band, ratios)
        overall = overall_score(band, features)
        if band == "strong" and asks_for_design(asked):
            overall = min(overall, whole_design_ceiling(len(covered)))
        card = Scorecard(
            question=question,
            scenario_id=scenario.id if scenario else None,
            overall=overall,
            band=band,
            covered_steps=covered,
            steps=[
                StepResult(
                    step=s,
                    name=self.kb.rubric.step(s).name,
                    score=step_score(ratios[s]),
                    items=_item_results(ledger.step_items(s)),
                )
                for s in graded_steps
            ],
            red_flags=_flag_results(ledger.flags),
            # A design of a related problem shows its steps and skills on that problem, not on the one asked.
            strengths=[] if band == "off_topic" or mistaken(band, features) or sidestepped else strengths,
            gaps=gaps,
            study=study,
            flags=flags,
            relevance=features.relevance,
            evidence_total=round(features.evidence, 2),
            task_framing=framing,
            task_framing_quote=framing_quote,
            asked_task=the_ask(asked) if framing else "",
            hints_used=hints_used,
            graded_text=text if translated else "",
            answers_instead=answers_instead(fit, rival_list if features.fits_rival_better else "")
            if "different_question" in flags
            else "",
            expectations=expectations if expectations.items else None,
            overclaims=list(overclaims.quotes) if overclaims.throughout else [],
            waved_away=waved_away(ledger, band),
        )
        if features.different_question or (
            band == "off_topic" and (features.misses_own_expectations or features.different_task)
        ):
            card = earns_nothing(card)  # a design of another task shows nothing of the asked one either
        elif features.strays_from_question and band == "off_topic":
            card = earns_nothing(card)
            card.gaps = [question_gap(self.task_check.unused_terms(asked, usable)), *card.gaps][:5]
        card.narrative = ledger_feedback(card, self.kb)
        log.debug("graded in %.0f ms", (time.perf_counter() - started) * 1000)
        return card


_QUOTE = re.compile(r'"([^"]{12,})"')

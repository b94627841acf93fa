"""The question's own checklist: what a strong answer to *this* question says, next to the generic rubric.

A bank scenario carries its expectations per step in `knowledge/questions.yaml`. A concept question expects the
concept's key points. A question that is not in the bank borrows the expectations of the closest bank question, and
the scorecard says which one. Each expectation is met, met in part, or not met, by the answer's closest sentence;
the score still comes from the generic rubric, so the two lists can be read against each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from app.grading.asked import ConceptNames, asks_for_design
from app.grading.evidence import negated
from app.grading.relevance import TermWeights, content_words
from app.knowledge.base import Concept, KnowledgeBase, Scenario
from app.knowledge.embeddings import Embedder
from app.knowledge.tokens import STOPWORDS, stem, words

Met = Literal["met", "partial", "not_met"]

MET = 0.55  # cosine of the closest sentence with the expectation: the sentence says it
# A sentence says some of it when its cosine plus half the share of the expectation's own rare words it uses reaches
# 0.5: a loose paraphrase, or a plain statement in the expectation's words that a small embedding scores low. Both
# fitted on the tune half of the blind expectation labels (eval/cases/expectations_blind.jsonl) only.
OWN_WORDS = 0.5
PARTIAL = 0.5
SAME_QUESTION = 0.85  # a custom question this close to a bank question is that question, worded differently
NEAREST = 0.45  # a custom question borrows a bank question's expectations only when it is at least this close
SPEAKS_OF_CONCEPT = 0.45  # cosine of a question with a concept's name or definition at which it asks about the concept
SPEAKS_TO = 0.35  # cosine at which a sentence speaks to a concept question or one of the concept's key points
# A question that asks for no design asks about a concept it names, or whose title, names or definition it is this
# close to. Fitted on the tune questions (the middle of 0.38 to 0.43, where the fewest are taken for the wrong kind).
ASKS_ABOUT = 0.4
NAMED_FIRST = 0.1  # a concept the question names comes before one it is closer to by less than this


class ExpectationResult(BaseModel):
    step: int = Field(description="the framework step (0 for a concept question's key points)")
    text: str
    verdict: Met
    evidence: str = Field("", description="the candidate's closest sentence, quoted exactly")


class Expectations(BaseModel):
    source: str = Field(description="where the expectations come from: the question itself or the closest one")
    source_id: str = Field(default="", description="the id of the scenario or concept they belong to")
    borrowed: bool = False
    kind: Literal["scenario", "concept"] | None = Field(
        default=None, description="the kind of bank question they belong to"
    )
    closeness: float = Field(
        default=1.0, description="cosine of the asked question with the bank question they belong to"
    )
    asked: bool = Field(
        default=False, description="the question asks about this concept: asks for no design, names it or speaks of it"
    )
    items: list[ExpectationResult] = Field(default_factory=list)
    on_point: float | None = Field(
        default=None,
        description="for a concept question, the share of the answer's sentences that speak to it or its key points",
    )

    @property
    def met(self) -> int:
        return sum(1 for i in self.items if i.verdict == "met")

    @property
    def tally(self) -> str:
        """How many are met, and met in part: "2 of 21 met, 5 in part"."""
        partial = sum(1 for i in self.items if i.verdict == "partial")
        return f"{self.met} of {len(self.items)} met" + (f", {partial} in part" if partial else "")


@dataclass(frozen=True)
class _Entry:
    kind: Literal["scenario", "concept"]
    id: str
    title: str
    prompt: str
    points: tuple[tuple[int, str], ...]
    names: tuple[frozenset[str], ...] = ()  # a concept's title and aliases, as word stems
    about: tuple[str, ...] = ()  # a concept's name, its names together, and its definition's first sentence
    called: ConceptNames | None = None  # its names, as they appear in a question


def name_stems(name: str) -> frozenset[str]:
    """The words that name a concept, without numbers or "step" ("Step 3 feature engineering": feature, engineering)."""
    return frozenset(s for s in stems_of(name) if not s.isdigit() and s != "step")


def _concept_entry(concept: Concept, question: str) -> _Entry:
    names = tuple(n for n in map(name_stems, [concept.title, *concept.aliases]) if n)
    about = (concept.title, ", ".join([concept.title, *concept.aliases]), concept.explanation.split(". ")[0])
    points = tuple((0, p) for p in concept.key_points)
    called = ConceptNames([concept.title, *concept.aliases])
    return _Entry("concept", concept.id, concept.title, question, points, names, about, called)


class Nearest(NamedTuple):
    position: int
    closeness: float  # cosine of the question with the bank question at `position`
    asked: bool = False  # the question asks about the concept at `position` (see `ExpectationIndex.asked_concept`)


class ExpectationIndex:
    """Every bank question's expectations, embedded once: scenarios and the concept questions of the drills."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, weights: TermWeights | None = None) -> None:
        self.embedder = embedder
        self.weights = weights or TermWeights(kb)
        self.entries: list[_Entry] = [_scenario_entry(s) for s in kb.questions.scenarios]
        for drill in kb.questions.drills:
            concept = kb.concepts.get(drill.concept)
            if concept is None or not concept.key_points:
                continue
            self.entries.append(_concept_entry(concept, drill.question))
        self.prompts = embedder.encode([e.prompt for e in self.entries])
        self.about = [embedder.encode(list(e.about)) if e.about else None for e in self.entries]
        texts = [text for e in self.entries for _, text in e.points]
        self.vectors = embedder.encode(texts) if texts else np.zeros((0, self.prompts.shape[1]), dtype=np.float32)
        self.offsets: list[int] = []
        offset = 0
        for entry in self.entries:
            self.offsets.append(offset)
            offset += len(entry.points)

    def nearest(self, question: str) -> Nearest:
        """The bank question whose expectations the asked one takes. A question that asks for no design and names a
        concept or speaks of it asks about that concept. Otherwise the closest bank question that it can stand for: a
        concept's drill question sets the concept in an example ("the features for a product search ranking model"),
        and a design question in that setting is close to it by its setting alone, so it stands for a drill only when
        it names the concept, speaks of its name or definition, or is the drill question worded differently."""
        vector = self.embedder.encode_one(question)
        sims = self.prompts @ vector
        asked = self.asked_concept(question, vector, sims)
        if asked is not None:
            return Nearest(asked, float(sims[asked]), asked=True)
        stems = name_stems(question)
        for best in (int(i) for i in np.argsort(-sims, kind="stable")):
            if sims[best] >= SAME_QUESTION or self._asks_about(best, stems, vector):
                return Nearest(best, float(sims[best]))
        return Nearest(0, 0.0)

    def asked_concept(self, question: str, vector: np.ndarray, sims: np.ndarray) -> int | None:
        """The concept drill of the concept a question asks about, when it asks for no design: among the concepts it
        names or is close to (`ASKS_ABOUT`, by the concept's title, names or definition), the closest by those or by
        the drill's wording, one it names a little ahead; of that concept's drills, the one worded most like it."""
        if asks_for_design(question):
            return None
        best: tuple[float, float] | None = None
        chosen = None
        for position, entry in enumerate(self.entries):
            about = self.about[position]
            if entry.kind != "concept" or about is None or entry.called is None:
                continue
            close = float((about @ vector).max())
            named = entry.called.named_in(question)
            if not named and close < ASKS_ABOUT:
                continue
            rank = (max(close, float(sims[position])) + NAMED_FIRST * named, float(sims[position]))
            if best is None or rank > best:
                best, chosen = rank, position
        return chosen

    def _asks_about(self, position: int, stems: frozenset[str], vector: np.ndarray) -> bool:
        entry, about = self.entries[position], self.about[position]
        if entry.kind != "concept" or about is None:
            return True
        if any(name <= stems for name in entry.names):
            return True
        return float((about @ vector).max()) >= SPEAKS_OF_CONCEPT

    def check(
        self,
        question: str,
        scenario: Scenario | None,
        sentences: list[str],
        vectors: np.ndarray,
        wrong: frozenset[str] = frozenset(),
        asserted: list[str] | None = None,
    ) -> Expectations:
        """The expectations of the asked question (or the closest bank question), each with its closest sentence.
        A sentence stating a wrong claim (`wrong`, the red flags' quotes) meets none of them. `asserted` holds each
        sentence without the clauses that dismiss a practice (see `app.grading.stance`): what it is matched on."""
        if asserted is not None and asserted != sentences:
            vectors = vectors.copy()
            changed = [row for row, text in enumerate(asserted) if text != sentences[row]]
            vectors[changed] = self.embedder.encode([asserted[row] or "-" for row in changed])
            wrong = wrong | {sentences[row] for row in changed if not asserted[row]}
        sim, asked = 1.0, False
        if scenario is not None:
            position = next(i for i, e in enumerate(self.entries) if e.kind == "scenario" and e.id == scenario.id)
            source, borrowed = scenario.title, False
        else:
            position, sim, asked = self.nearest(question)
            entry = self.entries[position]
            if sim < NEAREST and not asked:
                return Expectations(source="", borrowed=True)
            borrowed = sim < SAME_QUESTION
            source = entry.title
            if borrowed:
                source = f"{'the concept it asks about' if asked else 'the closest bank question'}: {entry.title}"
        entry = self.entries[position]
        start = self.offsets[position]
        block = self.vectors[start : start + len(entry.points)]
        sims = vectors @ block.T if len(sentences) else np.zeros((0, len(entry.points)), dtype=np.float32)
        sims = np.where(np.array([s in wrong for s in sentences], dtype=bool)[:, None], -1.0, sims) if wrong else sims
        words = Words(
            sentences,
            stems_of(scenario.prompt if scenario is not None else question),
            self.weights,
            [stems_of(text) for text in asserted] if asserted is not None else None,
        )
        items = [
            expectation_result(step, text, sims[:, k], sentences, words) for k, (step, text) in enumerate(entry.points)
        ]
        on_point = None
        if entry.kind == "concept" and len(sentences):
            to_question = vectors @ self.embedder.encode_one(question)
            best = np.maximum(to_question, sims.max(axis=1)) if sims.shape[1] else to_question
            on_point = round(float((best >= SPEAKS_TO).mean()), 3)
        return Expectations(
            source=source,
            source_id=entry.id,
            borrowed=borrowed,
            kind=entry.kind,
            closeness=round(sim, 3),
            asked=asked,
            items=items,
            on_point=on_point,
        )

    def best_rival_share(
        self, question: str, scenario: Scenario | None, sentences: list[str], vectors: np.ndarray
    ) -> tuple[float, str]:
        """The largest share of another bank question's expectations that the sentences meet, and that question: a
        design for another problem meets that problem's list far better than the asked one; a generic answer meets no
        list well. A design question's twenty-odd expectations are weighed against other design questions' only: a
        concept's three or four key points, one of them half met, would make a share of 0.125 out of one sentence."""
        if not len(sentences) or not self.entries:
            return 0.0, ""
        if scenario is not None:
            own = next(i for i, e in enumerate(self.entries) if e.kind == "scenario" and e.id == scenario.id)
        else:
            position, sim, asked = self.nearest(question)
            own = position if sim >= NEAREST or asked else -1  # the list `check` took as the question's own
        sims = vectors @ self.vectors.T
        stems = [stems_of(s) for s in sentences]
        kind = self.entries[own].kind if own >= 0 else None
        best, prompt = 0.0, ""
        for position, entry in enumerate(self.entries):
            if position == own or not entry.points or (kind == "scenario" and entry.kind != "scenario"):
                continue
            share = self._share(position, sentences, sims, stems)
            if share > best:
                best, prompt = share, entry.prompt
        return best, prompt

    def share_for(self, prompt: str, sentences: list[str], vectors: np.ndarray) -> float | None:
        """The share of the expectations of the bank question worded `prompt` that the sentences meet (None: no such
        question, or it has no expectations)."""
        position = next((i for i, e in enumerate(self.entries) if e.prompt == prompt and e.points), None)
        if position is None or not len(sentences):
            return None if position is None else 0.0
        start = self.offsets[position]
        block = vectors @ self.vectors[start : start + len(self.entries[position].points)].T
        return self._share(position, sentences, block, [stems_of(s) for s in sentences], start=0)

    def _share(
        self, position: int, sentences: list[str], sims: np.ndarray, stems: list[set[str]], start: int | None = None
    ) -> float:
        """The share of one entry's expectations met; `sims` holds its columns from `start` (by default, its offset
        among all the expectations)."""
        entry = self.entries[position]
        start = self.offsets[position] if start is None else start
        words = Words(sentences, stems_of(entry.prompt), self.weights, stems)
        return share_of(
            [
                expectation_result(step, text, sims[:, start + k], sentences, words)
                for k, (step, text) in enumerate(entry.points)
            ]
        )


def share_of(results: list[ExpectationResult]) -> float:
    """Met counts one, met in part one half."""
    if not results:
        return 0.0
    return sum(1.0 if r.verdict == "met" else 0.5 if r.verdict == "partial" else 0.0 for r in results) / len(results)


def stems_of(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


class Words:
    """The answer's sentences as word stems, for telling how much of an expectation's own wording each one uses.
    The asked question's words (`echoes`) are not the expectation's own: repeating them shows nothing."""

    def __init__(
        self,
        sentences: list[str],
        echoes: set[str] | None = None,
        weights: TermWeights | None = None,
        stems: list[set[str]] | None = None,
    ) -> None:
        self.stems = stems if stems is not None else [stems_of(s) for s in sentences]
        self.echoes = echoes or set()
        self.weights = weights

    def weight(self, stem_: str) -> float:
        return self.weights.weight(stem_) if self.weights is not None else 1.0

    def own(self, expectation: str) -> set[str]:
        return stems_of(expectation) - self.echoes

    def shares(self, expectation: str) -> np.ndarray:
        """Per sentence: the weighted share of the expectation's own words (rare ones count most) it uses."""
        own = self.own(expectation)
        total = sum(self.weight(s) for s in own)
        if not own or total <= 0:
            return np.zeros(len(self.stems), dtype=np.float32)
        return np.array([sum(self.weight(s) for s in said & own) / total for said in self.stems], dtype=np.float32)


# "Random baseline equals the positive prevalence, not 0.5": what the expectation turns down. A qualified denial
# ("not just clicks") turns down nothing on its own.
_DENIAL = re.compile(
    r"(?:[,;]|\bbut)\s+not\s+(?!just\b|only\b|merely\b|alone\b|purely\b|pure\b|simply\b)([^,;]+?)\.?$", re.IGNORECASE
)


def asserts_denied(sentence: str, expectation: str) -> bool:
    """The sentence states, without a negation, what the expectation turns down ("both have a random baseline of
    0.5" against "... not 0.5"): it says the opposite of the expectation, however close its words are."""
    match = _DENIAL.search(expectation.strip())
    if match is None:
        return False
    denied = {stem(w) for w in words(match.group(1)) if w not in STOPWORDS}
    return bool(denied) and denied <= {stem(w) for w in words(sentence)} and not negated(sentence)


def expectation_result(
    step: int, text: str, sims: np.ndarray, sentences: list[str], words: Words | None = None
) -> ExpectationResult:
    """Met when the closest sentence is a paraphrase of the expectation and shares one of its own words; partial
    when a sentence's closeness plus its share of the expectation's own words is enough (a looser paraphrase, a plain
    statement in the expectation's words, or a close one that only repeats the question's words). A sentence stating
    what the expectation turns down does not count."""
    words = words or Words(sentences)
    if sims.size:
        contrary = np.array([asserts_denied(s, text) for s in sentences], dtype=bool)
        if contrary.any():
            sims = np.where(contrary, -1.0, sims)
    if sims.size == 0:
        return ExpectationResult(step=step, text=text, verdict="not_met", evidence="")
    row = int(np.argmax(sims))
    if float(sims[row]) >= MET and words.own(text) & words.stems[row]:
        return ExpectationResult(step=step, text=text, verdict="met", evidence=sentences[row])
    combined = np.where(sims < 0, -1.0, sims + OWN_WORDS * words.shares(text))
    best = int(np.argmax(combined))
    if float(combined[best]) >= PARTIAL:
        return ExpectationResult(step=step, text=text, verdict="partial", evidence=sentences[best])
    return ExpectationResult(step=step, text=text, verdict="not_met", evidence="")


def _scenario_entry(scenario: Scenario) -> _Entry:
    points = tuple((step, text) for step in sorted(scenario.expectations) for text in scenario.expectations[step])
    return _Entry("scenario", scenario.id, scenario.title, scenario.prompt, points)

"""Whether an answer answers the question asked, or another one: judged by contrast, not by one similarity floor.

Any competent ML design answer is fairly close to any ML design question, so closeness alone says little. Five
contrasts say more, and each works for a question that is not in the bank:

- **asked**: cosine of the answer's mean sentence vector with the asked question.
- **rival margins**: how much better the answer fits the best *other* question of the bank, among the design
  scenarios and among the concept questions (questions about the same problem as the asked one are not rivals).
- **echo**: the weighted share of the asked question's distinctive words the answer uses (or close stand-ins).
- **aboutness**: the weighted share of the answer's own most distinctive words (its subject: "ticket", "queue") that
  belong to the asked question. An answer about something else has a subject of its own.

A logistic model combines them. Its weights were fitted on the `tune` half of the blind grading cases only
(`eval/cases/grading_blind.jsonl`): on-topic answers against the same answers asked under other questions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.grading.relevance import FORMULATION, TaskRelevance, content_words, coverage
from app.knowledge.base import KnowledgeBase
from app.knowledge.embeddings import Embedder
from app.knowledge.tokens import stem

RELATED = 0.5  # a bank question this close to the asked one is about the same problem (a paraphrase, or a concept
# question the asked design covers, such as training on rare fraud for a fraud system), not a rival
FRAMEWORK_TOPIC = "framework"
DISTINCTIVE = 2.0  # rarity (log inverse document frequency) at which a word says what a question is about
SUBJECT_WORDS = 10  # the answer's most distinctive words that make up its subject
SUBJECT_MATCH = 0.6  # cosine at which an answer word is the same idea as a question word
SUBJECT_NEAR = 0.45  # ... and at which it is half the same idea

# Logistic weights over (asked, scenario margin, concept margin, echo, aboutness), fitted on the tune half.
WEIGHTS = (-6.913, 6.056, 5.487, -3.655, -2.938)
BIAS = 3.856
DIFFERENT_QUESTION = 0.5  # probability at which the answer is judged to answer a different question


@dataclass(frozen=True)
class Rival:
    """A bank question the answer may answer instead."""

    kind: Literal["scenario", "concept"]
    id: str
    text: str


@dataclass(frozen=True)
class QuestionFit:
    asked: float
    scenario_margin: float
    concept_margin: float
    echo: float
    aboutness: float
    rival: Rival | None  # the rival the answer fits best, when it fits it better than the asked question
    subject: tuple[str, ...]  # the answer's most distinctive words
    named: tuple[str, ...] = ()  # those of them it uses more than once: what it keeps coming back to
    declared_elsewhere: str = ""  # what the answer says it builds, when that fits another bank question better

    @property
    def probability(self) -> float:
        """How likely the answer answers a different question."""
        features = (self.asked, self.scenario_margin, self.concept_margin, self.echo, self.aboutness)
        z = BIAS + sum(w * x for w, x in zip(WEIGHTS, features, strict=True))
        return 1 / (1 + math.exp(-z))

    @property
    def different_question(self) -> bool:
        return self.probability >= DIFFERENT_QUESTION


class RivalPool:
    """The bank's design scenarios and concept questions, embedded once, with the words each one is about."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, task: TaskRelevance) -> None:
        self.scenarios = [Rival("scenario", s.id, s.prompt) for s in kb.questions.scenarios]
        # Questions about the interview method itself ("how would you evaluate a classifier offline and online?") fit
        # every design answer, so they are nobody's rival.
        self.concepts = [
            Rival("concept", d.id, d.question)
            for d in kb.questions.drills
            if d.concept not in kb.concepts or kb.concepts[d.concept].topic != FRAMEWORK_TOPIC
        ]
        self.scenario_matrix = embedder.encode([r.text for r in self.scenarios])
        self.concept_matrix = embedder.encode([r.text for r in self.concepts])
        self.words = {r.id: distinctive_words(r.text, task) for r in [*self.scenarios, *self.concepts]}
        task.word_vectors([w for words in self.words.values() for w in words])  # embedded now, not on a first turn


def best_rival(
    rivals: list[Rival], matrix: np.ndarray, question: np.ndarray, answer: np.ndarray, shared: list[bool]
) -> tuple[float, int]:
    """The best fit of the answer among rivals about another problem than the asked question, and its index. A rival
    is about the same problem when it is close to the question or `shared` says it names one of its subjects."""
    if not rivals:
        return -1.0, -1
    other = (matrix @ question < RELATED) & ~np.array(shared, dtype=bool)
    fits = np.where(other, matrix @ answer, -1.0)
    index = int(np.argmax(fits))
    return float(fits[index]), index


def distinctive_words(text: str, task: TaskRelevance) -> list[str]:
    """The words of a question that say what it is about: rare in the knowledge base."""
    return [w for w in dict.fromkeys(content_words(text)) if task.weights.weight(stem(w)) >= DISTINCTIVE]


def shares_subject(rival: list[str], question: list[str], task: TaskRelevance) -> bool:
    """The rival names one of the question's subjects ("fraud" in a question about fraudulent payments)."""
    if not rival or not question:
        return False
    if {stem(w) for w in rival} & {stem(w) for w in question}:
        return True
    return float((task.word_vectors(rival) @ task.word_vectors(question).T).max()) >= SUBJECT_MATCH


def subject_words(sentences: list[str], task: TaskRelevance) -> dict[str, tuple[str, float, int]]:
    """The answer's most distinctive words by stem: (a written form, weight = sqrt(count) x rarity, count)."""
    written: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for sentence in sentences:
        for word in content_words(sentence):
            s = stem(word)
            written.setdefault(s, word)
            counts[s] += 1
    weights = {s: math.sqrt(n) * task.weights.weight(s) for s, n in counts.items() if s not in FORMULATION}
    top = sorted(weights, key=lambda s: (-weights[s], s))[:SUBJECT_WORDS]
    return {s: (written[s], weights[s], counts[s]) for s in top}


def aboutness(subject: dict[str, tuple[str, float, int]], question_words: list[str], task: TaskRelevance) -> float:
    """Weighted share of the answer's subject words that are the question's words or close to one."""
    total = sum(w for _, w, _ in subject.values())
    if not total or not question_words:
        return 0.0
    question_stems = {stem(w) for w in question_words}
    shown = sum(w for s, (_, w, _) in subject.items() if s in question_stems)
    others = [(word, w) for s, (word, w, _) in subject.items() if s not in question_stems]
    if others:
        sims = task.word_vectors([word for word, _ in others]) @ task.word_vectors(question_words).T
        for (_, w), row in zip(others, sims, strict=True):
            best = float(row.max())
            shown += w if best >= SUBJECT_MATCH else w / 2 if best >= SUBJECT_NEAR else 0.0
    return round(shown / total, 3)


def question_fit(
    question: str,
    sentences: list[str],
    vectors: np.ndarray,
    pool: RivalPool,
    task: TaskRelevance,
    declared: tuple[str, ...] = (),
) -> QuestionFit:
    """The contrasts between the asked question and the bank's other questions, for an answer's sentences, and for
    the deliverables the answer declares in its opening ("I'd build the host pricing assistant")."""
    embedder = task.embedder
    q = embedder.encode_one(question)
    centroid = vectors.mean(axis=0) if len(vectors) else np.zeros_like(q)
    centroid = centroid / (float(np.linalg.norm(centroid)) or 1.0)
    asked = float(centroid @ q)
    subjects = distinctive_words(question, task)
    shared_s = [shares_subject(pool.words[r.id], subjects, task) for r in pool.scenarios]
    shared_c = [shares_subject(pool.words[r.id], subjects, task) for r in pool.concepts]
    s_fit, s_at = best_rival(pool.scenarios, pool.scenario_matrix, q, centroid, shared_s)
    c_fit, c_at = best_rival(pool.concepts, pool.concept_matrix, q, centroid, shared_c)
    question_words = list(dict.fromkeys(content_words(question)))
    subject = subject_words(sentences, task)
    rival = None
    if max(s_fit, c_fit) > asked:
        rival = pool.scenarios[s_at] if s_fit >= c_fit else pool.concepts[c_at]
    return QuestionFit(
        asked=round(asked, 3),
        scenario_margin=round(s_fit - asked, 3),
        concept_margin=round(c_fit - asked, 3),
        echo=coverage(task.echoes(question_words, sentences), task.weights),
        aboutness=aboutness(subject, question_words, task),
        rival=rival,
        subject=tuple(word for word, _, _ in subject.values()),
        named=tuple(word for word, _, count in subject.values() if count >= 2),
        declared_elsewhere=next(
            (
                phrase
                for phrase in declared
                if fits_a_rival_better(embedder.encode_one(phrase), q, pool, shared_s, shared_c)
            ),
            "",
        ),
    )


def fits_a_rival_better(
    phrase: np.ndarray, question: np.ndarray, pool: RivalPool, shared_s: list[bool], shared_c: list[bool]
) -> bool:
    """A declared deliverable closer to another bank question (about another problem) than to the asked one."""
    s_fit, _ = best_rival(pool.scenarios, pool.scenario_matrix, question, phrase, shared_s)
    c_fit, _ = best_rival(pool.concepts, pool.concept_matrix, question, phrase, shared_c)
    return max(s_fit, c_fit) > float(phrase @ question)

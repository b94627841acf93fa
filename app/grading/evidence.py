"""The evidence ledger: rubric items and red flags matched to the candidate's own sentences.

Every verdict rests on a sentence quoted exactly from the answer, its semantic similarity to the item's description
and example phrasings (MiniLM), and key terms of the knowledge base matched on word stems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from app.grading.injection import InjectionSpan
from app.knowledge.base import ChecklistItem, KnowledgeBase, RedFlag, Step
from app.knowledge.embeddings import Embedder
from app.knowledge.tokens import STOPWORDS, stem, words

Verdict = Literal["covered", "partial", "missing"]

# Thresholds on cosine similarity (MiniLM, unit vectors) and key-term counts; see docs in `item_verdict`.
SIM_STRONG = 0.58  # a close paraphrase of the item on its own
SIM_SUPPORTED = 0.40  # enough when the sentence also uses the item's vocabulary
SIM_LOOSE = 0.30  # enough with two of the item's terms (covered) or one (partial)
SIM_PARTIAL = 0.45  # a looser paraphrase without vocabulary: partial
FLAG_SIM = 0.80  # a red flag stated almost word for word
FLAG_SIM_WITH_TERM = 0.45  # a red flag phrased differently but using its telltale wording

_SENTENCE = re.compile(r"[^\n]+?(?:[.!?]+(?=\s|$)|$)", re.MULTILINE)
_NEGATION = re.compile(
    r"\b(not|no|never|without|instead|rather than|avoid|misleading|useless|wrong|trap|beware|isn't|aren't|don't|"
    r"doesn't|wouldn't|shouldn't|can't|cannot|won't)\b|n't\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str  # exactly as written
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences and bullet lines, each an exact substring of the text."""
    found: list[Sentence] = []
    for match in _SENTENCE.finditer(text):
        raw = match.group(0)
        stripped = raw.strip().lstrip("-*•0123456789.) ").strip()
        if len(re.findall(r"[A-Za-z0-9]+", stripped)) < 3:
            continue
        offset = raw.find(stripped)
        start = match.start() + max(offset, 0)
        found.append(Sentence(len(found), stripped, start, start + len(stripped)))
    return found


def stems_of(text: str) -> list[str]:
    """Stems of every word, stopwords included, in order."""
    return [stem(w) for w in words(text)]


@dataclass(frozen=True)
class Term:
    """A key term as stems: the whole phrase, and its content words."""

    name: str
    phrase: tuple[str, ...]
    content: frozenset[str]

    @classmethod
    def of(cls, name: str) -> Term:
        return cls(name, tuple(stems_of(name)), frozenset(stem(w) for w in words(name) if w not in STOPWORDS))


def term_in(term: Term, sentence_stems: list[str], sentence_set: set[str]) -> bool:
    """The phrase occurs contiguously, or (for phrases of two or more content words) all its content words occur."""
    n = len(term.phrase)
    if n == 0:
        return False
    if len(term.content) >= 2 and term.content <= sentence_set:
        return True
    if n == 1:
        return term.phrase[0] in sentence_set
    return any(tuple(sentence_stems[i : i + n]) == term.phrase for i in range(len(sentence_stems) - n + 1))


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


@dataclass
class ItemEvidence:
    step: int
    item_id: str
    description: str
    weight: int
    verdict: Verdict
    strength: float  # 0..1
    quotes: list[str] = field(default_factory=list)
    similarity: float = 0.0
    terms: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    supported: bool = False  # the quoted sentence also uses the item's vocabulary


@dataclass
class FlagEvidence:
    step: int
    flag_id: str
    claim: str
    why: str
    concept: str
    quote: str
    similarity: float
    challenge: str = ""


@dataclass
class Ledger:
    sentences: list[Sentence]
    items: list[ItemEvidence]
    flags: list[FlagEvidence]
    excluded: list[int]  # sentence indices left out of scoring (injection attempts)

    def step_items(self, step: int) -> list[ItemEvidence]:
        return [i for i in self.items if i.step == step]


@dataclass
class _Target:
    step: int
    ref: ChecklistItem | RedFlag
    row_start: int
    row_end: int
    terms: list[Term]
    example_negated: list[bool] = field(default_factory=list)
    cues: list[re.Pattern[str]] = field(default_factory=list)


class RubricIndex:
    """Rubric phrasings embedded once per process: the fixed half of every comparison."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder) -> None:
        self.kb = kb
        self.embedder = embedder
        texts: list[str] = []
        self.items: list[_Target] = []
        self.flags: list[_Target] = []
        for step in kb.rubric.steps:
            for item in step.checklist:
                self.items.append(self._target(step, item, [item.description, *item.examples], item.key_terms, texts))
            for flag in step.red_flags:
                target = self._target(step, flag, [flag.claim, *flag.examples], flag.key_terms, texts)
                target.example_negated = [negated(t) for t in [flag.claim, *flag.examples]]
                target.cues = [re.compile(c, re.IGNORECASE) for c in flag.cues]
                self.flags.append(target)
        self.matrix = embedder.encode(texts)

    @staticmethod
    def _target(
        step: Step, ref: ChecklistItem | RedFlag, phrasings: list[str], terms: list[str], texts: list[str]
    ) -> _Target:
        start = len(texts)
        texts.extend(phrasings)
        return _Target(step.step, ref, start, len(texts), [t for t in map(Term.of, terms) if t.phrase])


def item_verdict(similarity: float, terms: int) -> tuple[Verdict, float]:
    """Verdict of one sentence for one item. Covered: a close paraphrase, or a looser one that uses the item's
    vocabulary. Partial: a loose paraphrase, or a faint one with a key term. Strength is 0..1."""
    scaled = (similarity - SIM_LOOSE) / (SIM_STRONG - SIM_LOOSE)
    strength = round(min(1.0, max(0.0, scaled) * 0.75 + 0.125 * min(terms, 2)), 3)
    if (
        similarity >= SIM_STRONG
        or (similarity >= SIM_SUPPORTED and terms >= 1)
        or (similarity >= SIM_LOOSE and terms >= 2)
    ):
        return "covered", strength
    if similarity >= SIM_PARTIAL or (similarity >= SIM_LOOSE and terms >= 1):
        return "partial", strength
    return "missing", 0.0


_RANK = {"covered": 2, "partial": 1, "missing": 0}


_NEGATION_BEFORE = re.compile(
    r"\b(not|no|never|avoid|instead of|rather than|without|don't|wouldn't|won't|shouldn't|can't)\b[^.]{0,25}$",
    re.IGNORECASE,
)


def cue_match(cues: list[re.Pattern[str]], text: str) -> bool:
    """A telltale wording of the wrong claim, not preceded by a negation ("rather than accuracy" is fine)."""
    for cue in cues:
        for match in cue.finditer(text):
            if not _NEGATION_BEFORE.search(text[: match.start()]):
                return True
    return False


def excluded_sentences(sentences: list[Sentence], spans: list[InjectionSpan], text: str) -> set[int]:
    """Sentences inside an injection attempt: from the sentence holding a span to the end of its paragraph."""
    excluded: set[int] = set()
    for span in spans:
        paragraph_end = text.find("\n\n", span.end)
        paragraph_end = len(text) if paragraph_end == -1 else paragraph_end
        for sentence in sentences:
            if sentence.end > span.start and sentence.start < paragraph_end:
                excluded.add(sentence.index)
    return excluded


def build_ledger(
    answer: str,
    index: RubricIndex,
    injections: list[InjectionSpan],
    steps: list[int] | None = None,
) -> Ledger:
    """Match every rubric item and red flag against the answer's sentences."""
    sentences = split_sentences(answer)
    excluded = excluded_sentences(sentences, injections, answer)
    usable = [s for s in sentences if s.index not in excluded]
    wanted = set(steps or range(1, 8))
    if usable:
        vectors = index.embedder.encode([s.text for s in usable])
        sims = vectors @ index.matrix.T  # (sentences, phrasings)
    else:
        sims = np.zeros((0, index.matrix.shape[0]), dtype=np.float32)
    sentence_stems = [stems_of(s.text) for s in usable]
    sentence_sets = [set(stems) for stems in sentence_stems]

    flags: list[FlagEvidence] = []
    flagged_rows: set[int] = set()  # a wrong claim is not evidence of coverage
    for target in index.flags:
        flag = target.ref
        assert isinstance(flag, RedFlag)
        for row, stems in enumerate(sentence_stems):
            block = sims[row, target.row_start : target.row_end]
            best = int(block.argmax()) if block.size else 0
            sim = float(block[best]) if block.size else 0.0
            if not cue_match(target.cues, usable[row].text):
                has_term = any(term_in(t, stems, sentence_sets[row]) for t in target.terms)
                if not (sim >= FLAG_SIM or (has_term and sim >= FLAG_SIM_WITH_TERM)):
                    continue
                if sim < 0.7 and negated(usable[row].text) != target.example_negated[best]:
                    continue  # "accuracy would be misleading here" is the opposite of the wrong claim
            flagged_rows.add(row)
            flags.append(
                FlagEvidence(
                    step=target.step,
                    flag_id=flag.id,
                    claim=flag.claim,
                    why=flag.why,
                    concept=flag.concept,
                    quote=usable[row].text,
                    similarity=round(sim, 3),
                    challenge=flag.challenge,
                )
            )
            break
    items: list[ItemEvidence] = []
    for target in index.items:
        if target.step not in wanted:
            continue
        item = target.ref
        assert isinstance(item, ChecklistItem)
        verdict: Verdict = "missing"
        strength, best_sim, best_row, best_terms = 0.0, 0.0, -1, 0
        all_terms: set[str] = set()
        for row, stems in enumerate(sentence_stems):
            if row in flagged_rows:
                continue
            sim = float(sims[row, target.row_start : target.row_end].max())
            terms = [t.name for t in target.terms if term_in(t, stems, sentence_sets[row])]
            all_terms.update(terms)
            v, st = item_verdict(sim, len(terms))
            if (_RANK[v], st, sim) > (_RANK[verdict], strength, best_sim):
                verdict, strength, best_sim, best_row, best_terms = v, st, sim, row, len(terms)
        quotes = [usable[best_row].text] if verdict != "missing" and best_row >= 0 else []
        items.append(
            ItemEvidence(
                step=target.step,
                item_id=item.id,
                description=item.description,
                weight=item.weight,
                verdict=verdict,
                strength=strength,
                quotes=quotes,
                similarity=round(best_sim, 3),
                terms=sorted(all_terms),
                concepts=list(item.concepts),
                supported=best_terms > 0,
            )
        )

    limit_items_per_sentence(items)
    return Ledger(sentences=sentences, items=items, flags=flags, excluded=sorted(excluded))


MAX_COVERED_PER_SENTENCE = 2


def limit_items_per_sentence(items: list[ItemEvidence]) -> None:
    """One sentence is full evidence for at most two items (its strongest); elsewhere it counts as partial.
    A single broad sentence cannot stand in for a whole step."""
    by_quote: dict[str, list[ItemEvidence]] = {}
    for item in items:
        if item.verdict == "covered" and item.quotes:
            by_quote.setdefault(item.quotes[0], []).append(item)
    for group in by_quote.values():
        group.sort(key=lambda i: (-i.strength, -i.similarity, i.item_id))
        for item in group[MAX_COVERED_PER_SENTENCE:]:
            item.verdict = "partial"

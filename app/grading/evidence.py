"""The evidence ledger: rubric items and red flags matched to the candidate's own sentences.

Every verdict rests on a sentence quoted exactly from the answer. Whether a sentence shows an item is judged from
contrasts rather than one similarity floor: its semantic similarity to the item's description and examples (MiniLM),
its lexical overlap with the item's own vocabulary (tf-idf over the rubric, so words that tell items apart weigh
most), key terms matched on word stems, and two margins for each signal: how the item compares with the sentence's
best item (one broad sentence does not show four items), and how the sentence compares with the answer's best
sentence for the item. A logistic model combines them; `mockinterview eval fit-evidence` fits it on the `tune` half
of the labelled evidence cases and reports both halves.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from app.grading.injection import InjectionSpan
from app.grading.signposts import signposted_items
from app.grading.stance import without_dismissals
from app.knowledge.aliases import AliasTable
from app.knowledge.base import ChecklistItem, KnowledgeBase, RedFlag, Step
from app.knowledge.embeddings import Embedder
from app.knowledge.tokens import STOPWORDS, stem, words

Verdict = Literal["covered", "partial", "missing"]

# The pair model: features of (sentence, item), see `pair_features`; fitted on the tune half of the evidence cases.
PAIR_FEATURES = (
    "similarity",
    "one_term",
    "two_terms",
    "item_margin",
    "sentence_margin",
    "lexical",
    "lexical_margin",
    "lexical_sentence_margin",
    "signpost",
)
PAIR_WEIGHTS = (1.7, 0.47, 1.37, 6.01, 2.49, 12.63, 11.48, 15.54, 6.07)
PAIR_BIAS = -2.31
P_COVERED = 0.5  # probability at which the sentence shows the item
P_PARTIAL = 0.3  # ... shows some of it
FLAG_SIM_WITH_TERM = 0.45  # a red flag phrased differently but using its telltale wording

# A sentence ends at . ! or ? before a space, except after an abbreviation that does not end one ("4 a.m. run",
# "e.g. dwell time", "GBDT vs. a two-tower model").
_SENTENCE = re.compile(
    r"[^\n]+?(?:(?<!\ba\.m)(?<!\bp\.m)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bcf)(?<!\bapprox)[.!?]+(?=\s|$)|$)",
    re.MULTILINE | re.IGNORECASE,
)
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
    every: frozenset[str] = frozenset()  # all the phrase's stems: a sentence without one of them cannot hold it

    @classmethod
    def of(cls, name: str) -> Term:
        phrase = tuple(stems_of(name))
        return cls(name, phrase, frozenset(stem(w) for w in words(name) if w not in STOPWORDS), frozenset(phrase))


# Function words that carry a claim: a restriction, a quantity or a negation.
_TELLING = frozenset(stem(w) for w in ("only", "all", "no", "not", "nor", "just", "more", "most", "few", "too", "very"))


def term_in(term: Term, sentence_stems: list[str], sentence_set: set[str], *, exact: bool = False) -> bool:
    """The phrase occurs contiguously, or (for phrases of two or more content words) all its content words occur.
    With `exact`, the phrase's restricting words must occur too: a red flag's telltale wording is often in them
    ("only on ROC AUC", "no need for an experiment"), and its content words alone name the topic."""
    n = len(term.phrase)
    if n == 0:
        return False
    if len(term.content) >= 2 and term.content <= sentence_set and (not exact or term.every & _TELLING <= sentence_set):
        return True
    if n == 1:
        return term.phrase[0] in sentence_set
    if not term.every <= sentence_set:
        return False
    return any(tuple(sentence_stems[i : i + n]) == term.phrase for i in range(len(sentence_stems) - n + 1))


_REJECTION = re.compile(
    r"\b(never|instead of|rather than|tells? (you |us )?(very )?little|misleading|useless|avoid|is a trap|"
    r"would be wrong|is wrong|hides?|overstates?|inflat\w*|meaningless|fantasy|fantasies|"
    # a practice named as a known mistake, or with what it costs
    r"pitfalls?|anti-?patterns?|gotchas?|why not|(?:it|that|this)(?:'s| is) a (?:real |big |classic |common )?problem|"
    r"over-?optimistic|too optimistic|optimistic (?:numbers|metrics|scores|results|estimates?)|"
    r"(?:isn't|is not|not) automatically|only goes so far|"
    # the claim's promise denied: "more data won't fix it", "dropping gender doesn't make it fair"
    r"(?:won't|will not|doesn't|does not|didn't|did not) (?:by itself |on its own |automatically )?"
    r"(?:fix|make|solve|guarantee|cure)|"
    # a practice named as the hazard: "the main risk is that a random split ..."
    r"risks? (?:here )?(?:is|are) that)\b",
    re.IGNORECASE,
)


def rejects(text: str) -> bool:
    """Whether a sentence turns something down in so many words: stronger than a plain negation, which a wrong
    claim can carry itself ("no need for a time split")."""
    return bool(_REJECTION.search(text))


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
    asserted: dict[int, str] = field(default_factory=dict)  # sentences without their dismissing clauses

    def asserted_texts(self) -> list[str]:
        """The usable sentences as the checklist matches them."""
        skip = set(self.excluded)
        return [self.asserted.get(s.index, s.text) for s in self.sentences if s.index not in skip]

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
    """Rubric phrasings embedded once per process, and the items' vocabulary: the fixed half of every comparison."""

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
        self.flags.sort(key=lambda t: isinstance(t.ref, RedFlag) and t.ref.general)  # stable: rubric order kept
        self.matrix = embedder.encode(texts)
        self.columns = {t.ref.id: c for c, t in enumerate(self.items)}  # checklist item id -> its column
        self.lexicon = Lexicon([item_vocabulary(t.ref) for t in self.items if isinstance(t.ref, ChecklistItem)])
        self.choices = {
            column: choice_names(kb, t.ref.named_by)
            for column, t in enumerate(self.items)
            if isinstance(t.ref, ChecklistItem) and t.ref.named_by
        }

    def named_choices(self, sentences: list[str]) -> np.ndarray:
        """(sentences, items): 1 where the sentence names a choice the item asks for ("with a GBDT" for the model)."""
        out = np.zeros((len(sentences), len(self.items)), dtype=np.float32)
        for column, table in self.choices.items():
            for row, sentence in enumerate(sentences):
                out[row, column] = float(bool(sentence and table.named(sentence)))
        return out

    @staticmethod
    def _target(
        step: Step, ref: ChecklistItem | RedFlag, phrasings: list[str], terms: list[str], texts: list[str]
    ) -> _Target:
        start = len(texts)
        texts.extend(phrasings)
        return _Target(step.step, ref, start, len(texts), [t for t in map(Term.of, terms) if t.phrase])

    def signposts(self, sentences: list[str]) -> np.ndarray:
        """(sentences, items): 1 where the sentence names and fills the item's slot (see `app.grading.signposts`)."""
        out = np.zeros((len(sentences), len(self.items)), dtype=np.float32)
        for row, sentence in enumerate(sentences):
            for item in signposted_items(sentence):
                if item in self.columns:
                    out[row, self.columns[item]] = 1.0
        return out

    def item_similarities(self, sims: np.ndarray) -> np.ndarray:
        """(sentences, items): each sentence's best cosine with any phrasing of each item."""
        out = np.zeros((sims.shape[0], len(self.items)), dtype=np.float32)
        for column, target in enumerate(self.items):
            if sims.shape[0]:
                out[:, column] = sims[:, target.row_start : target.row_end].max(axis=1)
        return out


def choice_names(kb: KnowledgeBase, concept_ids: list[str]) -> AliasTable:
    """The titles and aliases of the concepts that name a choice."""
    return AliasTable((kb.concepts[c].title, kb.concepts[c].aliases) for c in concept_ids if c in kb.concepts)


def item_vocabulary(item: ChecklistItem) -> str:
    """Everything the rubric says about an item, as one text for lexical matching."""
    return " ".join([item.description, *item.examples, *item.key_terms, item.probe, item.hint_area])


def content_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS]


class Lexicon:
    """Tf-idf vectors of the items' vocabularies. The idf is over the items, so a word weighs by how well it tells
    one item from the others ("objective" for the business goal), not by how rare it is in English."""

    def __init__(self, documents: list[str]) -> None:
        counts = [Counter(content_stems(d)) for d in documents]
        df = Counter(w for c in counts for w in c)
        n = max(len(documents), 1)
        self.idf = {w: math.log(n / df[w]) for w in df}
        self.vocab = {w: i for i, w in enumerate(sorted(df))}
        matrix = np.zeros((len(documents), len(self.vocab)), dtype=np.float32)
        for row, c in enumerate(counts):
            for w, k in c.items():
                matrix[row, self.vocab[w]] = (1 + math.log(k)) * self.idf[w]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms == 0, 1, norms)

    def similarities(self, sentences: list[str]) -> np.ndarray:
        """(sentences, items): cosine of each sentence's idf-weighted words with each item's vocabulary."""
        out = np.zeros((len(sentences), self.matrix.shape[0]), dtype=np.float32)
        for row, text in enumerate(sentences):
            vector = np.zeros(len(self.vocab), dtype=np.float32)
            for w in set(content_stems(text)):
                if w in self.vocab:
                    vector[self.vocab[w]] = self.idf[w]
            norm = float(np.linalg.norm(vector))
            if norm:
                out[row] = self.matrix @ (vector / norm)
        return out


def pair_features(
    similarity: np.ndarray, terms: np.ndarray, lexical: np.ndarray, signposts: np.ndarray | None = None
) -> np.ndarray:
    """(sentences, items, features) in the order of PAIR_FEATURES. Margins are against the sentence's best item and
    against the answer's best sentence for the item, so they are zero for the best and negative below it."""
    if signposts is None:
        signposts = np.zeros_like(similarity)
    if similarity.shape[0] == 0:
        return np.zeros((0, similarity.shape[1], len(PAIR_FEATURES)), dtype=np.float32)
    return np.stack(
        [
            similarity,
            (terms >= 1).astype(np.float32),
            (terms >= 2).astype(np.float32),
            similarity - similarity.max(axis=1, keepdims=True),
            similarity - similarity.max(axis=0, keepdims=True),
            lexical,
            lexical - lexical.max(axis=1, keepdims=True),
            lexical - lexical.max(axis=0, keepdims=True),
            signposts,
        ],
        axis=-1,
    )


def pair_probability(features: np.ndarray) -> np.ndarray:
    """The pair model: the probability that a sentence shows an item."""
    z = features @ np.asarray(PAIR_WEIGHTS, dtype=np.float32) + PAIR_BIAS
    return 1.0 / (1.0 + np.exp(-z))


def item_verdict(probability: float) -> Verdict:
    if probability >= P_COVERED:
        return "covered"
    return "partial" if probability >= P_PARTIAL else "missing"


_NEGATION_BEFORE = re.compile(
    r"\b(not|no|never|nothing|avoid|instead of|rather than|without|don't|doesn't|isn't|aren't|wouldn't|won't|shouldn't|"
    r"can't|cannot)\b[^.]{0,25}$",
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
    restated: set[int] = set()  # the same wrong claim stated again
    for target in index.flags:
        flag = target.ref
        assert isinstance(flag, RedFlag)
        raised = False
        for row, stems in enumerate(sentence_stems):
            if row in flagged_rows:
                continue  # one wrong sentence is one red flag, the first (most specific) that names it
            block = sims[row, target.row_start : target.row_end]
            best = int(block.argmax()) if block.size else 0
            sim = float(block[best]) if block.size else 0.0
            if not cue_match(target.cues, usable[row].text):
                has_term = any(term_in(t, stems, sentence_sets[row], exact=True) for t in target.terms)
                if not (has_term and sim >= FLAG_SIM_WITH_TERM):
                    continue
                if sim < 0.7 and negated(usable[row].text) != target.example_negated[best]:
                    continue  # "accuracy would be misleading here" is the opposite of the wrong claim
            if rejects(usable[row].text) and not any(rejects(e) for e in flag.examples):
                continue  # the claim's own words, named to be turned down: "never random", "tells you little"
            if raised:
                restated.add(row)  # one flag per wrong claim, but no sentence stating it counts as coverage
                continue
            raised = True
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
    # The checklist is matched on what each sentence asserts: a clause that dismisses a practice is cut first.
    asserted = [without_dismissals(s.text) for s in usable]
    changed = [row for row, text in enumerate(asserted) if text != usable[row].text]
    item_sims = sims
    if changed:
        item_sims = sims.copy()
        item_sims[changed] = index.embedder.encode([asserted[row] or "-" for row in changed]) @ index.matrix.T
        for row in changed:
            sentence_stems[row] = stems_of(asserted[row])
            sentence_sets[row] = set(sentence_stems[row])
    similarity = index.item_similarities(item_sims)
    terms = np.zeros_like(similarity)
    matched_terms: list[list[str]] = []
    for column, target in enumerate(index.items):
        found: set[str] = set()
        for row, stems in enumerate(sentence_stems):
            hits = [t.name for t in target.terms if term_in(t, stems, sentence_sets[row])]
            terms[row, column] = len(hits)
            found.update(hits)
        matched_terms.append([t.name for t in target.terms if t.name in found])
    signposts = index.signposts([text or "-" for text in asserted])
    probability = pair_probability(pair_features(similarity, terms, index.lexicon.similarities(asserted), signposts))
    # A choice named is a choice made: shown in part whatever the sentence's wording, its reasons still to come.
    probability = np.maximum(probability, index.named_choices(asserted) * P_PARTIAL)
    for row in changed:
        if not asserted[row]:
            probability[row, :] = 0.0  # nothing left but the dismissal
    for row in flagged_rows | restated:
        probability[row, :] = 0.0
    items: list[ItemEvidence] = []
    for column, target in enumerate(index.items):
        if target.step not in wanted:
            continue
        item = target.ref
        assert isinstance(item, ChecklistItem)
        best_row = int(probability[:, column].argmax()) if usable else -1
        p = float(probability[best_row, column]) if best_row >= 0 else 0.0
        verdict = item_verdict(p)
        matched = matched_terms[column]
        items.append(
            ItemEvidence(
                step=target.step,
                item_id=item.id,
                description=item.description,
                weight=item.weight,
                verdict=verdict,
                strength=round(p, 3) if verdict != "missing" else 0.0,
                quotes=[usable[best_row].text] if verdict != "missing" else [],
                similarity=round(float(similarity[best_row, column]), 3) if best_row >= 0 else 0.0,
                terms=sorted(matched),
                concepts=list(item.concepts),
                supported=best_row >= 0 and terms[best_row, column] > 0,
            )
        )

    limit_items_per_sentence(items)
    return Ledger(
        sentences=sentences,
        items=items,
        flags=flags,
        excluded=sorted(excluded),
        asserted={usable[row].index: asserted[row] for row in changed},
    )


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

"""Whether an answer works on the task its question asks: the task the answer names, and the question's own terms.

An eloquent answer to a neighbouring task ("treat this as sentiment analysis" when the question asks for fake-review
detection) shares the domain's vocabulary, so sentence similarity alone rates it relevant. Two checks catch it:

- **The named task.** When the answer states its framing ("I'd frame it as ...", "the task is ..."), the words of that
  framing that are not generic formulation words ("binary classification", "ranking", "per user") must come from the
  question (or its scenario): "sentiment" or "power output" are foreign to a question about fake reviews or gearbox
  failures.
- **The question's terms.** The share of the question's content terms, weighted by how rare they are in the knowledge
  base, that the answer uses. An answer to the asked task echoes its distinctive words ("fake", "gearbox").

The answer is judged to solve a different task only when both point the same way.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.grading.asked import question_sentences, the_ask
from app.knowledge.base import KnowledgeBase, Scenario
from app.knowledge.embeddings import Embedder
from app.knowledge.tokens import STOPWORDS, stem, words

# Policy constants (see `task_mismatch`).
FOREIGN_SHARE = 0.5  # at least this share of a named task's specific words is foreign to the question
WORD_MATCH = 0.45  # cosine at which a word counts as the same idea as a question word ("fraud" ~ "fake")
PHRASE_MATCH = 0.5  # a named task this close to the question as a whole is the asked task, worded differently
SENTENCE_MATCH = 0.6  # ... and so is one this close to one sentence of the question (its ask, without the setting:
# "gearbox failure early-warning model" against "Design a system that predicts gearbox failures ..."). Every task
# named foreign in the case files is at 0.42 or less; a neighbouring problem of the same ask sits near 0.55
COVERAGE_FLOOR = 0.35  # an answer that uses more of the question's weighted terms is on task whatever it names
DECLARED_COVERAGE_FLOOR = 0.5  # ... and more than this when it opens with "I'd build <a foreign deliverable>"
DECLARED_UNRELATED = 0.25  # a declared deliverable foreign to the question and this far from it is another task,
# however many of the question's words the answer repeats (a neighbouring problem in the same product shares most of
# them). One specific word is enough ("an early-churn model" for a question about cheating): a lone word has already
# passed `TaskRelevance.names_alone`, so it is one the knowledge base rarely uses
MAX_FRAMING_WORDS = 8
ECHO_SIMILARITY = 0.6  # an answer word this close to a question term echoes it at half weight ("defect" ~ "flaw")
ECHO_PARTIAL = 0.5
SPECIFIC_WEIGHT = 3.0  # a word in at most about one in twenty of the knowledge base's documents is specific
MAX_ECHO_WORDS = 150  # answer words compared in meaning with the question's terms, the rarest first

_PHRASE = r"(?P<phrase>[^:;,.()\n]{3,120})"
_FRAMINGS = [
    re.compile(
        r"\b(?:treat|treating|frame|framing|approach|see|view|cast|pose|formulate|tackle)\s+"
        r"(?:this|it|the\s+(?:problem|task|question))\s+as\s*:?\s+(?:an?\s+)?" + _PHRASE,
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:the|my|our|this|core)\s+(?:ml\s+|core\s+|main\s+|actual\s+|underlying\s+)?(?:task|problem)\s+"
        r"(?:here\s+)?(?:is|becomes|would\s+be)\s+(?:really\s+|basically\s+|essentially\s+)?(?:an?\s+)?" + _PHRASE,
        re.IGNORECASE,
    ),
    re.compile(
        r"\bas\s+an?\s+(?:ml|machine\s+learning)\s+(?:task|problem),?\s+(?:that's|that\s+is|this\s+is|it's|it\s+is)\s+"
        r"(?:an?\s+)?" + _PHRASE,
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:this|it)\s+is\s+(?:basically|essentially|really|just|simply|fundamentally|primarily)\s+(?:an?\s+)?"
        + _PHRASE,
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:this|it)\s+is\s+an?\s+(?P<phrase>[^:;,.()\n]{3,60}?)\s+(?:problem|task)\b", re.IGNORECASE),
]

# What the answer says it will build, in its opening sentences: "I'd build the host pricing assistant"; or, with a
# topic announced rather than a thing built, what it will work on ("I'll tackle premium subscription churn").
_BUILDS_VERBS = r"build|design|create|develop"
_ANNOUNCES_VERBS = r"work\s+on|tackle|take\s+on|focus\s+on|discuss|talk\s+about|look\s+at"


def _declaring(verbs: str) -> re.Pattern[str]:
    return re.compile(
        r"\b(?:i'd|i\s+would|i'll|i\s+will|we'd|we\s+would|let's|let\s+me|i\s+want\s+to)\s+(?:like\s+to\s+)?"
        rf"(?:{verbs})\s+"
        # "The piece I'd build is X": the verb ends a subject, and X is read as a target (below).
        r"(?!(?:is|are|was|would|will|here\s+is|first\s+is|predicts|estimates|forecasts|detects)\b)"
        r"(?:(?:the|a|an|our|my)\s+)?" + _PHRASE,
        re.IGNORECASE,
    )


_DELIVERABLE = _declaring(f"{_BUILDS_VERBS}|{_ANNOUNCES_VERBS}")
_BUILDS = _declaring(_BUILDS_VERBS)
# What the answer says, in its opening sentences, it will predict: "I'd predict a priority level for each report",
# "The way I'd approach it is to predict the ultimate cost of each claim", "I'd frame it as detecting invalid clicks",
# "The system I'd build predicts the cycle time of each haul", "What I'd put in place is a no-show model", "I would
# start with forecasting the demand", "we predict whether the translator will miss the deadline". The target of a
# prediction is a deliverable as much as a named system is. What is ranked, scored or classified ("I'd rank customer
# accounts by risk") is the entity, which says nothing of the task; so does a pronoun, and so does a quantity asked
# ("I'd estimate how many orders arrive").
_WHO = r"(?:i'd|i\s+would|i'll|i\s+will|we'd|we\s+would|we'll|we\s+will|i|we)"
_SETS_UP = r"(?:build|design|set\s+up|put\s+in\s+place|tackle|propose|do|want|model|start\s+with|focus\s+on)"
_PREDICTS = r"(?:predicts?|predicting|forecasts?|forecasting|estimates?|estimating|detects?|detecting)"
_BUILT = r"(?:system|model|piece|part|thing|tool|solution|service)"
_TARGET_OPENINGS = [
    rf"\b(?:{_WHO}|let's|i\s+want\s+to)\s+(?:\w+ly\s+)?{_PREDICTS}\s+",
    rf"\b(?:my|the|our)\s+(?:plan|goal|idea|aim|approach|focus|priority)\s+(?:here\s+)?(?:is|would\s+be)\s+(?:on|to)\s+"
    rf"{_PREDICTS}\s+",
    rf"\bthe\s+way\s+i'd\s+approach\s+(?:it|this)\s+is\s+to\s+{_PREDICTS}\s+",
    rf"\b(?:start|begin)\s+(?:with|by)\s+{_PREDICTS}\s+",
    rf"\bframe\s+(?:this|it)\s+(?:around|as)\s+{_PREDICTS}\s+",
    rf"\b(?:the|my|our|this)\s+{_BUILT}\s+(?:that\s+)?(?:{_WHO}\s+{_SETS_UP}\s+|here\s+)?{_PREDICTS}\s+",
    rf"\bwhat\s+(?:this|the|my)\s+(?:system|model)\s+does\s+is\s+(?:to\s+)?{_PREDICTS}\s+",
    rf"\bwhat\s+{_WHO}\s+{_SETS_UP}\s+(?:here\s+|first\s+)?is\s+",
    rf"\b(?:the|my|our)\s+{_BUILT}\s+(?:that\s+)?{_WHO}\s+{_SETS_UP}\s+(?:here\s+|first\s+)?is\s+",
    r"\bthe\s+(?:core|heart)\s+of\s+(?:this|it)\s+is\s+",
    rf"\bthe\s+first\s+thing\s+(?:to\s+model|{_WHO}\s+{_SETS_UP}(?:\s+at\s+\w+)?)\s+is\s+",
    rf"\b{_WHO}\s+(?:rather|instead)\s+build\s+",
    r"\b(?:start|begin)\s+with\s+(?=[\w-]+\s+(?:prediction|forecast|model|detector|estimator|score)\b)",
]
_TARGET = re.compile(
    "(?:"
    + "|".join(_TARGET_OPENINGS)
    + r")(?:(?:the|a|an|our|my|each|every)\s+)?(?:(?:which|whether|if)\s+(?:(?:the|a|an)\s+)?)?"
    r"(?!(?:it|this|that|them|these|those|when|where|how|what|for|to|in|on|at|by|from|over|with)\b)" + _PHRASE,
    re.IGNORECASE,
)
OPENING_SENTENCES = 2

# Words that say how a task is formulated, not what it predicts: they never make a named task foreign.
_FORMULATION_WORDS = (
    "classification classifier classify binary multiclass multi class label labels multilabel regression ranking "
    "rank ranker learning prediction predict predicting predictive forecasting forecast forecaster detection "
    "detect detector problem task supervised unsupervised semi self two stage stages pointwise pairwise listwise "
    "yes probability probabilities score scores scoring retrieval recommendation recommendations recommender "
    "model models modelling modeling sequence time series text texts image images video videos audio tabular "
    "per each every day daily hour hourly week weekly user users item items analysis estimation estimate "
    "standard simple classic plain basically horizon output outputs anomaly anomalies outlier clustering "
    "segmentation localization object objects matching similarity embedding embeddings nearest neighbour "
    "neighbor search candidate candidates generation generative survival hazard event quantile calibrated "
    "risk level based ml machine deep neural network instance instances example examples sample row rows "
    "record records entity entities pair pairs query queries document documents tagging tag tags type types "
    "category categories categorical outcome outcomes target targets signal signals step log logarithm logarithmic"
)
FORMULATION = frozenset(stem(w) for w in _FORMULATION_WORDS.split())


@dataclass(frozen=True)
class Framing:
    """The answer's own words naming its task, and those of them the question does not use."""

    sentence: str
    phrase: str
    specific: tuple[str, ...]
    foreign: tuple[str, ...]
    similarity: float  # cosine of the phrase with the question
    declared: bool = False  # what the answer says, in its opening, it will build ("I'd build X")
    ask_similarity: float = 0.0  # the highest cosine of the phrase with one sentence of the question
    foreign_to_ask: tuple[str, ...] = ()  # its specific words the question's ask does not use (its setting may)


@dataclass(frozen=True)
class TaskCheck:
    framings: tuple[Framing, ...]
    coverage: float | None  # weighted share of the question's terms the answer uses (measured only when needed)
    mismatch: bool

    @property
    def foreign_framing(self) -> Framing | None:
        """The first framing that names a task foreign to the question."""
        return next((f for f in self.framings if framing_is_foreign(f) or framing_leaves_ask(f)), None)


# A named task ends where a qualifier starts: "binary classification | per review at submission".
_QUALIFIER = re.compile(
    r"\s(?:at|per|for|with|where|when|while|using|from|on|in|within|over|across|by|of|that|which|so|because|"
    r"and then|then|to|into|between|given|based)\s.*$",
    re.IGNORECASE,
)


def framing_phrases(sentence: str, patterns: list[re.Pattern[str]] | None = None) -> list[str]:
    """Task names the sentence states ("treat this as X", "the task is X"), without their qualifiers.
    A goal restated as an infinitive ("the task is to predict ...") names no task."""
    found: list[str] = []
    for pattern in _FRAMINGS if patterns is None else patterns:
        for match in pattern.finditer(sentence):
            raw = match.group("phrase").strip()
            if re.match(r"(?:to|about|how|what|whether|that)\b", raw, re.IGNORECASE):
                continue
            phrase = " ".join(_QUALIFIER.sub("", f" {raw}").split()[:MAX_FRAMING_WORDS])
            if phrase and phrase not in found:
                found.append(phrase)
    return found


def content_words(text: str) -> list[str]:
    """Lowercase words that carry meaning: no stopwords, numbers or very short tokens."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 2 and not w.isdigit()]


# Words that join two named tasks ("retrieval plus a pairwise classifier") and say nothing of what either is about.
_JOINING_WORDS = frozenset(
    [
        "plus",
        "followed",
        "combined",
        "combination",
        "together",
        "along",
        "alongside",
        "using",
        "via",
        "then",
        "also",
        "another",
        "second",
        "first",
        "final",
        "simple",
        "standard",
        "basic",
        "like",
        "such",
        "including",
    ]
)


# Words that stand in for a noun or rate one ("the old ones", "a better way") and name no domain: a task named with
# them ("matching a new question against the old ones") is not about something the question leaves out.
_PLACEHOLDERS = (
    "one ones thing things something anything way ways kind kinds sort part parts lot lots bit new old existing "
    "previous past current recent future earlier later similar different good bad better best right wrong big small "
    "large many few more most less least whole full own main general overall certain various common usual"
)
_PLACEHOLDER_WORDS = frozenset(_PLACEHOLDERS.split())


def specific_words(phrase: str) -> list[str]:
    """The words of a named task that say what it is about, formulation, joining and placeholder words left out."""
    out: list[str] = []
    for word in content_words(phrase.replace("-", " ").replace("/", " ")):
        if stem(word) in FORMULATION or word in _JOINING_WORDS or word in _PLACEHOLDER_WORDS:
            continue
        if word not in out:
            out.append(word)
    return out


# Concepts that name what a business measures ("Retention and churn", "Conversion rate"): what a system is for, so a
# deliverable named in their words ("an early-churn model") can be another task.
BUSINESS_TOPICS = frozenset({"online_metrics"})


def method_vocabulary(kb: KnowledgeBase) -> frozenset[str]:
    """Stems of the words that name how a system is built, not what it is for: the knowledge base's concept titles
    ("Gradient boosted trees", "Two-tower models", "Delayed labels"). A deliverable named in them ("I'd build a
    gradient boosted model") is a choice of method, never another task."""
    texts = [c.title for c in kb.concepts.values() if c.topic not in BUSINESS_TOPICS]
    return frozenset(stem(w) for text in texts for w in content_words(text.replace("-", " ")))


def framing_is_foreign(framing: Framing) -> bool:
    """A named task is foreign when most of its specific words are, and it is not a paraphrase of the question."""
    if not framing.specific:
        return False
    share = len(framing.foreign) / len(framing.specific)
    return share >= FOREIGN_SHARE and framing.similarity < PHRASE_MATCH and framing.ask_similarity < SENTENCE_MATCH


def framing_leaves_ask(framing: Framing) -> bool:
    """A named task foreign to what the question asks, though its words may come from the question's setting: "lift
    queue wait-time forecasting" for a ski resort asked to detect shared season passes."""
    if not framing.specific:
        return False
    share = len(framing.foreign_to_ask) / len(framing.specific)
    return share >= FOREIGN_SHARE and framing.similarity < PHRASE_MATCH and framing.ask_similarity < SENTENCE_MATCH


def task_mismatch(framings: list[Framing] | tuple[Framing, ...], coverage: float) -> bool:
    """Solves a different task: it names a task foreign to the question, or to what the question asks, and barely
    uses the question's terms. An answer that opens by declaring such a deliverable needs more of the question's terms
    to stay on task; one foreign to the whole question is another task however much of it the answer repeats."""
    return any(
        (
            (framing_is_foreign(f) or framing_leaves_ask(f))
            and coverage < (DECLARED_COVERAGE_FLOOR if f.declared else COVERAGE_FLOOR)
        )
        or (framing_is_foreign(f) and f.declared and names_a_thing(f.specific) and f.similarity < DECLARED_UNRELATED)
        for f in framings
    )


def names_a_thing(specific: tuple[str, ...]) -> bool:
    """Specific words that can name a deliverable: two or more, or one that is not a word of manner ("fully")."""
    return len(specific) >= 2 or (len(specific) == 1 and not specific[0].endswith("ly"))


class TermWeights:
    """Inverse document frequency of word stems over the knowledge base: rare words say what a question is about."""

    def __init__(self, kb: KnowledgeBase) -> None:
        docs: list[str] = []
        for c in kb.concepts.values():
            docs.append(" ".join([c.title, c.explanation, c.when_to_use, c.tradeoffs, *c.key_points, *c.probes]))
        for _step, item in kb.rubric.items():
            docs.append(" ".join([item.description, *item.examples]))
        for scenario in kb.questions.scenarios:
            docs.append(f"{scenario.prompt} {scenario.ml_task}")
        counts: Counter[str] = Counter()
        for doc in docs:
            counts.update({stem(w) for w in words(doc)})
        self._counts = counts
        self._n = len(docs)

    def weight(self, stem_: str) -> float:
        return math.log((self._n + 1) / (self._counts[stem_] + 1))

    def unknown(self, stem_: str) -> bool:
        """Used at most once in the whole knowledge base: a word of some domain, not of how systems are built."""
        return self._counts[stem_] <= 1


def specific_terms(question: str, sentences: list[str], weights: TermWeights) -> int:
    """How many distinct specific words the answer adds to the question: words the knowledge base uses rarely or never
    (a named method, signal, metric or domain entity), not the common words of every design. A generic walk through
    the steps adds few; a design worked out for this problem adds many, however concise."""
    asked = {stem(w) for w in content_words(question)}
    added = {stem(w) for text in sentences for w in content_words(text)} - asked
    return sum(1 for s in added if weights.weight(s) >= SPECIFIC_WEIGHT)


def telling(word: str, names: set[str]) -> bool:
    """A question term worth naming in feedback: not a name, a figure or a word that stands in for another."""
    bare = word.removesuffix("'s")
    return (
        bare not in names and not any(ch.isdigit() for ch in word) and bare not in _PLACEHOLDER_WORDS | _JOINING_WORDS
    )


def proper_names(text: str, weights: TermWeights) -> set[str]:
    """Lowercased names in the text: words it capitalises inside a sentence ("Meridian Bank's"), and capitalised words
    opening one that the text never writes in lowercase and the knowledge base never uses ("Northbrook runs ...")."""
    inside = {m.group(1).lower() for m in re.finditer(r"(?<=[\w,;:)]\s)([A-Z][a-z]+)(?:'s)?\b", text)}
    opening = {
        word.lower()
        for word in re.findall(r"(?:^|[.!?]\s+)([A-Z][a-z]+)(?:'s)?\b", text)
        if weights.unknown(stem(word.lower())) and not re.search(rf"\b{word.lower()}", text)
    }
    return inside | opening


def as_written(word: str, text: str, whole: bool = False) -> str:
    """A lowercased word in the case the text writes it ("siu" -> "SIU"); with `whole`, where the text never writes
    it alone, the hyphenated compound it is part of ("mid" -> "mid-sized")."""
    if whole and not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE):
        compound = re.search(rf"[\w-]*(?<![\w]){re.escape(word)}(?![\w])[\w-]*", text, re.IGNORECASE)
        if compound is not None:
            return compound.group(0)
    match = re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, re.IGNORECASE)
    return match.group(0) if match else word


ASKING_SHARE = 0.2  # a word in this share of the bank's design questions is part of how they are asked
# What a question asks the candidate to do, rather than where.
_REQUEST_VERBS = "design build create develop propose describe explain outline sketch walk cover discuss implement"


def asking_vocabulary(kb: KnowledgeBase) -> frozenset[str]:
    """Stems of the words design questions are asked with ("design", "system", "million"), common to a fifth or more
    of the bank's design questions, and the verbs of a request ("build", "walk me through"): an answer that never
    says "build" has not left the question's setting."""
    prompts = [s.prompt for s in kb.questions.scenarios]
    counts: Counter[str] = Counter()
    for prompt in prompts:
        counts.update({stem(w) for w in content_words(prompt)})
    common = {w for w, k in counts.items() if k >= ASKING_SHARE * max(len(prompts), 1)}
    return frozenset(common | {stem(w) for w in _REQUEST_VERBS.split()})


def coverage(echoes: dict[str, float], weights: TermWeights) -> float:
    """Weighted share of the question's content terms (stem: echo 0..1) that the answer uses."""
    total = sum(weights.weight(s) for s in echoes)
    if not total:
        return 1.0
    return round(sum(weights.weight(s) * echo for s, echo in echoes.items()) / total, 3)


def framework_vocabulary(kb: KnowledgeBase) -> frozenset[str]:
    """Names of the interview's own parts: the steps and the checklist's key terms of two words or more ("use case",
    "business goal"). "Let's discuss the use case" announces a step of the answer, not a thing it will build."""
    names = [step.name for step in kb.rubric.steps] + [t for _, item in kb.rubric.items() for t in item.key_terms]
    topics = [bare_phrase(c.title) for c in kb.concepts.values()]  # a concept can be a question of its own
    # Single key terms are often a domain's entities ("merchant", "driver"), which do name a problem.
    return frozenset(n for n in map(bare_phrase, names) if " " in n and not any(n in t for t in topics))


def bare_phrase(phrase: str) -> str:
    """Lower case, without a leading article or possessive, single-spaced."""
    text = " ".join(phrase.lower().replace("-", " ").split())
    return re.sub(r"^(?:the|a|an|our|my|its|their)\s+", "", text)


class TaskRelevance:
    """Checks answers against their question's task; word vectors are memoised per process."""

    def __init__(self, kb: KnowledgeBase, embedder: Embedder) -> None:
        self.embedder = embedder
        self.weights = TermWeights(kb)
        self.method_stems = method_vocabulary(kb)
        self.framework = framework_vocabulary(kb)
        self.asking = asking_vocabulary(kb)
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def framework_words(self, phrase: str) -> set[str]:
        """Stems of the words of the phrase that name a part of the interview ("use case", "business objective")."""
        text = f" {bare_phrase(phrase)} "
        return {stem(w) for term in self.framework if f" {term} " in text for w in term.split()}

    def word_vectors(self, items: list[str]) -> np.ndarray:
        with self._lock:
            new = [w for w in dict.fromkeys(items) if w not in self._vectors]
            if new:
                if len(self._vectors) > 20000:
                    self._vectors.clear()
                self._vectors.update(zip(new, self.embedder.encode(new), strict=True))
            if not items:
                return np.zeros((0, self.embedder.dimension), dtype=np.float32)
            return np.stack([self._vectors[w] for w in items])

    def names_alone(self, word: str, built: bool) -> bool:
        """Whether one word is enough to name a task. A topic announced ("let me focus on the lead time first") needs
        a word the knowledge base never uses; what is built or predicted ("I'd build a demand forecast", "an effort
        estimator") needs only one it rarely uses."""
        return self.weights.unknown(stem(word)) or (built and self.weights.weight(stem(word)) >= SPECIFIC_WEIGHT)

    def foreign_words(self, specific: list[str], allowed: list[str]) -> list[str]:
        """Specific words neither used by the question (as stems) nor close in meaning to one of its words."""
        allowed_stems = {stem(w) for w in allowed}
        unknown = [w for w in specific if stem(w) not in allowed_stems]
        if not unknown or not allowed:
            return unknown
        sims = self.word_vectors(unknown) @ self.word_vectors(allowed).T
        return [w for w, row in zip(unknown, sims, strict=True) if float(row.max()) < WORD_MATCH]

    def echoes(self, question_terms: list[str], sentences: list[str]) -> dict[str, float]:
        """Per question stem: 1 when the answer uses it, ECHO_PARTIAL when it uses a word close in meaning, else 0."""
        answer_words = list(dict.fromkeys(w for s in sentences for w in content_words(s)))
        answer_stems = {stem(w) for w in answer_words}
        first = {stem(w): w for w in reversed(question_terms)}
        out = {s: 1.0 for s in first if s in answer_stems}
        rest = [w for s, w in first.items() if s not in out]
        # A bound on the work for very long answers: the rarer words are the likelier stand-ins.
        rare = sorted(answer_words, key=lambda w: (-self.weights.weight(stem(w)), w))[:MAX_ECHO_WORDS]
        if rest and rare:
            sims = self.word_vectors(rest) @ self.word_vectors(rare).T
            for word, row in zip(rest, sims, strict=True):
                out[stem(word)] = ECHO_PARTIAL if float(row.max()) >= ECHO_SIMILARITY else 0.0
        for s in first:
            out.setdefault(s, 0.0)
        return out

    def unused_terms(self, question: str, sentences: list[str], limit: int = 4) -> list[str]:
        """The question's terms that the answer neither uses nor stands in for, as the question writes them: those it
        repeats first (what it keeps coming back to), then the rarest. Names and figures are left out: an answer
        need not repeat the company's name to address its problem."""
        used = Counter(stem(w) for w in content_words(question))
        terms = list(dict.fromkeys(content_words(question)))
        written = {stem(w): w for w in reversed(terms)}
        names = proper_names(question, self.weights)
        missed = [
            s
            for s, echo in self.echoes(terms, sentences).items()
            if echo == 0.0 and telling(written[s], names) and s not in self.asking
        ]
        missed.sort(key=lambda s: (-used[s], -self.weights.weight(s), s))
        shown = [as_written(written[s], question, whole=True) for s in missed]
        return list(dict.fromkeys(shown))[:limit]  # "mid-sized" once, not "mid" and "sized"

    def check(self, question: str, scenario: Scenario | None, sentences: list[str]) -> TaskCheck:
        """The answer's named tasks, its use of the question's terms, and whether it solves a different task."""
        asked = scenario.prompt if scenario is not None and question.strip() == scenario.id else question
        question_terms = content_words(asked)
        allowed = list(question_terms)
        if scenario is not None:
            allowed += content_words(f"{scenario.ml_task} {' '.join(scenario.key_terms)}")
        allowed = list(dict.fromkeys(allowed))
        ask_words = set(content_words(the_ask(asked)))
        ask_allowed = [w for w in allowed if w in ask_words] or allowed
        target = self.embedder.encode_one(asked)
        clauses = self.embedder.encode(question_sentences(asked))
        framings: list[Framing] = []
        for position, sentence in enumerate(sentences):
            declared = framing_phrases(sentence, [_DELIVERABLE, _TARGET]) if position < OPENING_SENTENCES else []
            built = framing_phrases(sentence, [_BUILDS, _TARGET]) if declared else []
            for phrase in [*framing_phrases(sentence), *declared]:
                specific = [w for w in specific_words(phrase) if stem(w) not in self.method_stems]
                if phrase in declared:
                    # A part of the interview ("let's discuss the use case") is not a deliverable.
                    parts = self.framework_words(phrase)
                    specific = [w for w in specific if stem(w) not in parts]
                if phrase in declared and len(specific) == 1 and not self.names_alone(specific[0], phrase in built):
                    specific = []
                vector = self.embedder.encode_one(phrase)
                framings.append(
                    Framing(
                        sentence=sentence,
                        phrase=phrase,
                        specific=tuple(specific),
                        foreign=tuple(self.foreign_words(specific, allowed)),
                        similarity=round(float(vector @ target), 3),
                        declared=phrase in declared,
                        ask_similarity=round(float((clauses @ vector).max()), 3) if len(clauses) else 0.0,
                        foreign_to_ask=tuple(self.foreign_words(specific, ask_allowed)),
                    )
                )
        if not any(framing_is_foreign(f) or framing_leaves_ask(f) for f in framings):
            return TaskCheck(tuple(framings), None, False)
        share = coverage(self.echoes(question_terms, sentences), self.weights)
        return TaskCheck(tuple(framings), share, task_mismatch(framings, share))

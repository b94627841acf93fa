"""Depth probes: the concepts a candidate's message touches, found by hybrid retrieval over the knowledge base with
their own sentences, and a hand-written question from one of those concepts to ask about their claim."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.grading.evidence import split_sentences
from app.knowledge.base import Concept, KnowledgeBase, Scenario, concept_for
from app.knowledge.retrieval import Searcher, SearchResult
from app.knowledge.tokens import tokenize

log = logging.getLogger(__name__)

MIN_WORDS = 12  # a message shorter than this has no claim worth probing in depth
QUOTE_WORDS = 14
SEARCH_K = 4
PROBE_FIT = 0.15  # share of a probe's content words the conversation must have used
SITUATION_FIT = 1 / 3  # share of the words of a situation a probe supposes that the conversation must have used


@dataclass(frozen=True)
class Seed:
    """A depth probe before wording: the concept, its question, and the candidate's words it is about."""

    concept_id: str
    title: str
    question: str
    quote: str


_SETTING = re.compile(r"^(?:for|in)\s+(?:a|an|the|your)\s+([^,?]{3,60}),", re.IGNORECASE)  # the probe's product
COMMON_SHARE = 0.06  # a naming word used by more than this share of all concepts names none of them
PRODUCT_SCENARIOS = 2  # a product's word is used by at most this many of the bank's scenarios...
PRODUCT_CONCEPTS = 5  # ...and by at most this many concepts, so it is not the vocabulary of ML itself


def concept_stems(concept: Concept) -> set[str]:
    """The words that name a concept: its title and aliases."""
    return {t for t in tokenize(" ".join([concept.title, *concept.aliases])) if len(t) > 2}


def common_naming_words(kb: KnowledgeBase) -> frozenset[str]:
    """Words in the names of so many concepts ("model", "data", "predict") that using them names none."""
    counts = Counter(s for c in kb.concepts.values() for s in concept_stems(c))
    return frozenset(s for s, n in counts.items() if n > COMMON_SHARE * max(len(kb.concepts), 1))


def _long_words(text: str) -> set[str]:
    return {t for t in tokenize(text) if len(t) > 3 and not t.isdigit()}


def scenario_words(scenario: Scenario) -> set[str]:
    """The words a scenario is written in: its title, domain, prompt, key terms and expectations."""
    expected = [e for items in scenario.expectations.values() for e in items]
    return _long_words(" ".join([scenario.title, scenario.domain, scenario.prompt, *scenario.key_terms, *expected]))


def product_words(kb: KnowledgeBase) -> frozenset[str]:
    """Words that belong to a product rather than to ML ("chargeback", "advertiser", "pedestrian"): used to pose one
    or two of the bank's scenarios (title, domain, prompt, key terms) and by few concepts."""
    framing = [_long_words(" ".join([s.title, s.domain, s.prompt, *s.key_terms])) for s in kb.questions.scenarios]
    in_scenarios = Counter(w for words in framing for w in words)
    in_concepts = Counter(
        w
        for c in kb.concepts.values()
        for w in _long_words(" ".join([c.title, c.explanation, c.when_to_use, c.tradeoffs, *c.key_points, *c.aliases]))
    )
    return frozenset(
        w for w, n in in_scenarios.items() if n <= PRODUCT_SCENARIOS and in_concepts[w] <= PRODUCT_CONCEPTS
    )


PROMPT_SHARE = 0.1  # a word used by more than this share of the bank's questions ("design", "users") names none


def common_prompt_words(kb: KnowledgeBase) -> frozenset[str]:
    """Words that so many of the bank's questions use that sharing them says nothing about which one is meant."""
    prompts = kb.questions.scenarios
    counts = Counter(w for s in prompts for w in _long_words(s.prompt))
    return frozenset(w for w, n in counts.items() if n > PROMPT_SHARE * len(prompts))


def best_sentence(text: str, concept: Concept, common: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The candidate's sentence that names the concept most, with how many of its naming words it uses."""
    names = concept_stems(concept) - common
    scored = [(len(names & set(tokenize(s.text))), s.text) for s in split_sentences(text)]
    if not scored:
        return "", 0
    shared, sentence = max(scored, key=lambda pair: pair[0])
    return sentence, shared


def short_quote(sentence: str, words: int = QUOTE_WORDS) -> str:
    """A sentence as the interviewer quotes it back: whole when short, else its first words."""
    plain = re.sub(r"<[^>]*>", " ", sentence).replace("<", " ").replace(">", " ").replace('"', "'")
    parts = plain.strip().rstrip(".!?;:").split()
    return " ".join(parts) if len(parts) <= words else " ".join(parts[:words]) + "..."


def pick_seed(
    text: str,
    touched: list[Concept],
    step: int,
    used_concepts: list[str],
    said: list[str],
    common: frozenset[str] = frozenset(),
    context: str = "",
    foreign: frozenset[str] = frozenset(),
) -> Seed | None:
    """The first touched concept that belongs to the step, has not been probed yet, and that one of the candidate's
    sentences names in words of its own; its first question the interviewer has not already asked."""
    said_lower = {s.strip().lower() for s in said}
    ranked = sorted(touched, key=lambda c: step not in c.steps)  # stable: retrieval order within each group
    for concept in ranked:
        if concept.id in used_concepts or not concept.probes:
            continue
        sentence, shared = best_sentence(text, concept, common)
        if shared < min(2, len(concept_stems(concept) - common)) or shared == 0:
            continue  # retrieved from the message, but the candidate did not name it: probing would lead them
        fresh = [p for p in concept.probes if p.strip().lower() not in said_lower]
        question = best_probe(fresh, f"{text} {context}", foreign)
        if question is None:
            continue
        return Seed(concept.id, concept.title, as_supposition(question), short_quote(sentence))
    return None


def situation(probe: str) -> str:
    """The situation a probe sets up before it asks ("Chargebacks arrive up to 90 days later."), or ""."""
    parts = [s.text for s in split_sentences(probe)]
    if len(parts) != 2 or parts[0].endswith("?") or not parts[1].endswith("?"):
        return ""
    return parts[0]


def supposes_the_conversation(
    probe: str, said: set[str], foreign: frozenset[str] = frozenset(), least: float = SITUATION_FIT
) -> bool:
    """A probe's situation is supposed of this conversation's system only when at least a third of its words are the
    conversation's and it names no other product the conversation has not named (`foreign`: other products' words):
    a situation from another product ("your credit model", "chargebacks") is not theirs to suppose."""
    words = {t for t in tokenize(situation(probe)) if len(t) > 3}
    if words & foreign - said:
        return False
    return not words or len(words & said) / len(words) >= least


def as_supposition(probe: str) -> str:
    """A probe that sets up a situation ("Validation loss starts rising after 400 rounds. What do you do?") asked
    as a supposition, so that nobody reads it as a claim about the candidate's own system: "Suppose validation loss
    starts rising after 400 rounds: what do you do?"."""
    setup = situation(probe)
    if not setup:
        return probe
    question = probe[probe.index(setup) + len(setup) :].strip()
    return f"Suppose {lower_first(setup.rstrip('.'))}: {lower_first(question)}"


def lower_first(text: str) -> str:
    """The text with its first letter in lower case, unless the first word is an acronym ("INT8", "KS", "A/B") or
    "I": "A false negative costs $500" becomes "a false negative costs $500"."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    if not first or not first[0].isupper() or sum(ch.isupper() for ch in first) > 1:
        return text
    if first == "I" or first.startswith("I'"):
        return text
    return text[0].lower() + text[1:]


SUPPOSING = re.compile(r"\b(?:suppose|supposing|imagine|if|say|hypothetically)\b", re.IGNORECASE)


def keeps_supposition(reply: str, seed: str) -> bool:
    """A reworded probe keeps the seed's supposition a supposition: it does not state it as a fact."""
    return not seed.startswith("Suppose ") or bool(SUPPOSING.search(reply))


def best_probe(
    probes: list[str], context: str, foreign: frozenset[str] = frozenset(), least: float = PROBE_FIT
) -> str | None:
    """The probe that fits the conversation best: the largest share of its content words that the candidate or the
    question used; None when none reaches `least`. A probe set in a product of its own ("For a search product,
    ...") is asked only where the conversation is about that product."""
    said = set(tokenize(context))
    scored = []
    for position, probe in enumerate(probes):
        setting = _SETTING.match(probe)
        if setting and not {t for t in tokenize(setting.group(1)) if len(t) > 3 and not t.isdigit()} <= said:
            continue  # "For a search product, ..." asked in a news feed interview

        if not supposes_the_conversation(probe, said, foreign):
            continue  # "Your credit model only knows outcomes for people you approved." asked of a job recommender
        words = {t for t in tokenize(probe) if len(t) > 3}
        if words:
            scored.append((len(words & said) / len(words), -position, probe))
    if not scored:
        return None
    share, _, probe = max(scored)
    return probe if share >= least else None


def touched_concepts(
    searcher: Searcher | None, kb: KnowledgeBase, text: str, k: int = SEARCH_K, vector: np.ndarray | None = None
) -> list[Concept]:
    """The knowledge base's concepts behind the passages a message retrieves, best first (`vector`: the message's
    embedding when the caller has it)."""
    if searcher is None or len(text.split()) < MIN_WORDS:
        return []
    try:
        results: list[SearchResult] = searcher.search(text[-1200:], k=k, vector=vector)
    except Exception as exc:  # retrieval must never break a turn
        log.warning("retrieval for a depth probe failed: %s", exc)
        return []
    concepts: list[Concept] = []
    for result in results:
        concept = concept_for(kb, result.heading, result.source)
        if concept is not None and concept not in concepts:
            concepts.append(concept)
    return concepts

"""What a custom question asks for: a whole design, or an account of one concept.

Every scenario of the bank asks to *design* something; the concept drills almost never do. A question that asks for a
design, or for a system to be built or walked through, asks for the seven steps, whatever concept its setting evokes.
One that does not, and names a concept or speaks of it, asks about that concept: "Our churn model has an AUC of 0.82.
What does that tell a product manager?" is a question about ROC AUC, though it is set in churn.
"""

from __future__ import annotations

import re

from app.knowledge.aliases import contains
from app.knowledge.tokens import tokenize, words

_OBJECT = r"(?:system|stack|pipeline|platform|service|engine|solution|product)s?"
DESIGN_REQUEST = re.compile(
    r"\b(?:design|architect)\w*\b"
    r"|\bwhat would you (?:build|propose)\b"
    r"|\b(?:build|create|develop|put together)\w*\s+(?:me\s+|us\s+)?(?:a|an|the|our|your)\s+(?:[\w'-]+\s+){0,5}?"
    + _OBJECT
    + r"\b"
    r"|\bwalk\w*\s+(?:me\s+|us\s+)?through\s+(?:the|an?|your)\s+(?:[\w-]+\s+){0,3}?(?:system|architecture)\b"
    r"|\bend[- ]to[- ]end\b"
    r"|\bwould you approach\b"
    r"|\bsolution\b",
    re.IGNORECASE,
)
# "Concept question, no full system design needed": a design named only to say it is not wanted.
_NOT_WANTED = re.compile(r"\b(?:no|not|without|isn't|don't|doesn't)\b[^.?!]{0,30}?\bdesign\w*", re.IGNORECASE)


def asks_for_design(question: str) -> bool:
    """The question asks for a whole design: to design or architect something, to build a system, to walk through
    one, to take it end to end, or how one would approach a problem or what solution one would propose."""
    return bool(DESIGN_REQUEST.search(_NOT_WANTED.sub(" ", question)))


_WANTED = re.compile(r"\b(?:wants?|needs?|would like|asks? for|is looking for)\b", re.IGNORECASE)
BARE_ASK_WORDS = 6  # "Design the system." or "How would you design it?" says what is asked no more than "it" does


def question_sentences(question: str) -> list[str]:
    """The question's sentences: its setting and its ask apart."""
    return [part.strip() for part in re.split(r"(?<=[.?!])\s+", question) if part.strip()]


def the_ask(question: str) -> str:
    """The question's own sentence that says what is asked ("Design a system that decides which claims should be
    referred to the SIU."): the first that asks for a design in words of its own, else its last question, else the
    sentence that says what someone wants ("The operations team wants a no-show risk score ..."), else its first."""
    sentences = question_sentences(question)
    if not sentences:
        return ""
    full = [s for s in sentences if len(s.split()) >= BARE_ASK_WORDS]
    asking = [s for s in full if DESIGN_REQUEST.search(_NOT_WANTED.sub(" ", s))]
    questions = [s for s in full if s.endswith("?")]
    wanted = [s for s in full if _WANTED.search(s)]
    return (asking or questions[-1:] or wanted or sentences)[0]


class ConceptNames:
    """A concept's names (its title and aliases) as they can appear in a question: a name of several words as a run
    of word stems, a one-word name as that very word. Stemming a one-word name would make "transformed" name
    Transformers, and "production" name productionization."""

    def __init__(self, names: list[str]) -> None:
        runs = [tuple(tokenize(name)) for name in names]
        self.runs = tuple(run for run in runs if len(run) >= 2)
        self.single = frozenset(
            ws[0].lower() for name in names if len(ws := words(name)) == 1 and len(tokenize(name)) == 1
        )

    def named_in(self, question: str) -> bool:
        if self.single & {w.lower() for w in words(question)}:
            return True
        tokens = tokenize(question)
        return any(contains(tokens, run) for run in self.runs)

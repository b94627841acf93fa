"""Overclaiming: an answer that states as certain, universal or needless what a design can only weigh.

One confident word is style; sentence after sentence of them ("always", "guaranteed", "no need", "naturally",
"by definition") is a candidate who does not see what could go wrong, the judgment an interviewer listens for. The
signal is a density, so a long answer is not caught for its length nor a short one let off for its brevity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words and phrases that state an outcome as certain, universal or not worth checking. A marker right after "not",
# "n't", "if", "at", "almost" or "nearly" is a hedge instead ("not always", "if any", "almost certainly").
_MARKERS = (
    r"always|no need|perfect\w*|automatically|fully|guarantee\w*|exactly|simply|solved|essentially|the best|"
    r"naturally|(?:is|are)n't (?:really )?(?:necessary|needed)|entirely|easily|whatever|straightforward|"
    r"state[- ]of[- ]the[- ]art|gold standard|by definition|clearly|definitely|completely|obviously|certainly|"
    r"no harm|impossible"
)
_OVERCLAIM = re.compile(
    r"(?<!not )(?<!n't )(?<!if )(?<!at )(?<!almost )(?<!nearly )\b(?:" + _MARKERS + r")\b", re.IGNORECASE
)

# Fitted on the tune halves of the grading case files (grading_blind, grading_holdout, grading_fresh, grading_length):
# every long fluent answer with real errors but one has three or more such sentences at 0.82 or more per 100 words;
# the strong, concise strong, expert outline and partial answers with three or more reach 0.68 at most. The rate lies
# in that gap (its middle when the words are counted over the whole answer).
OVERCLAIM_SENTENCES = 3
OVERCLAIM_RATE = 0.74  # sentences per 100 words


def overclaiming(sentence: str) -> bool:
    return bool(_OVERCLAIM.search(sentence))


@dataclass(frozen=True)
class Overclaims:
    """The answer's sentences that state something as certain, and how densely they come."""

    quotes: tuple[str, ...]
    words: int

    @classmethod
    def of(cls, sentences: list[str]) -> Overclaims:
        words = sum(len(s.split()) for s in sentences)
        return cls(tuple(s for s in sentences if overclaiming(s)), words)

    @property
    def rate(self) -> float:
        return 100.0 * len(self.quotes) / self.words if self.words else 0.0

    @property
    def throughout(self) -> bool:
        """Certainty is the answer's habit, not a slip: enough such sentences, densely enough."""
        return len(self.quotes) >= OVERCLAIM_SENTENCES and self.rate >= OVERCLAIM_RATE

"""Stance: a clause that waves a practice away is not evidence that the answer does it.

"We can skip A/B testing" names the A/B test, so by its words and its embedding it looks like evidence for the online
test item; it says the opposite. The clause that dismisses something ("no need to hold out a test set", "caching is
unnecessary", "makes the correction redundant") is cut out of the sentence before it is matched against the
checklist; what the rest of the sentence says still counts ("this is near-real-time, but we don't need heroic
latency tricks" still states the latency). Red flags are matched on the whole sentence: a dismissal can be the wrong
claim itself.
"""

from __future__ import annotations

import itertools
import re

# Wordings that dismiss a practice. "Skip" only as the speaker's plan ("we can skip", "skipping the"), not as what a
# user does ("the videos they skipped").
_DISMISSAL = re.compile(
    r"\b(?:no need|there's no need|(?:don't|doesn't|do not|does not|won't|will not) (?:really |even )?need|"
    r"(?:is|are|isn't|aren't|not|be) (?:really |strictly |even )?(?:unnecessary|redundant|superfluous|overkill)|"
    r"(?:isn't|aren't|is not|are not|not) (?:really |strictly |even )?(?:necessary|needed|required|worth (?:it|the))|"
    r"\bno (?:[\w/'-]+ ){1,3}(?:is |are |will be |would be )?(?:really |even )?(?:necessary|needed|required)\b|"
    r"makes? (?:[\w/'-]+ ){1,4}(?:unnecessary|redundant|obsolete|pointless)|"
    r"(?:can|could|should|will|'ll|would|let's|just|simply) (?:safely |probably |also |even |just )?skip\b|"
    r"skip(?:ping)? (?:the|any|a|all)\b|can be skipped|(?:is|are) overkill|no point in|don't bother|waste of time)",
    re.IGNORECASE,
)
# Where a clause ends: punctuation inside the sentence, a conjunction that starts a new statement, or "makes": in
# "a time-based split makes the k-fold estimate obsolete" the split is endorsed and only the estimate waved away.
_BREAK = re.compile(
    r"[;:,\u2014\u2013(]\s*|\s-\s|\s+(?:but|so|because|since|while|whereas|as)\s+|\s+(?=makes?\s)", re.IGNORECASE
)
MIN_REMAINDER_WORDS = 3  # less than this left of a sentence says nothing on its own


# A dismissal turned down is an endorsement: "I wouldn't skip the A/B test", "never say caching is unnecessary".
_TURNED_DOWN = re.compile(
    r"\b(?:not|never|wouldn't|won't|don't|shouldn't|can't|cannot|mustn't)\s+(?:\w+\s+){0,2}$", re.IGNORECASE
)


def dismisses(sentence: str) -> bool:
    return any(not _TURNED_DOWN.search(sentence[: m.start()]) for m in _DISMISSAL.finditer(sentence))


def clauses(sentence: str) -> list[str]:
    """The sentence cut at its clause breaks, each piece with the break that opens it."""
    breaks = [0, *(m.start() for m in _BREAK.finditer(sentence)), len(sentence)]
    return [sentence[start:end] for start, end in itertools.pairwise(breaks) if sentence[start:end].strip()]


def without_dismissals(sentence: str) -> str:
    """The sentence without the clauses that dismiss something; "" when nothing worth matching is left."""
    if not dismisses(sentence):
        return sentence
    kept = [c for c in clauses(sentence) if not dismisses(c) and len(c.split()) > 1]  # not a bare "This"
    rest = "".join(kept).strip(" ,;:-\u2014\u2013")
    return rest if len(rest.split()) >= MIN_REMAINDER_WORDS else ""

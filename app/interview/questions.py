"""The questions the LLM words for a mock interview: a challenge of a wrong claim, a depth probe on the candidate's
own claim, and a coverage probe on the most important gap; each falls back to the knowledge base's own wording."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.grading.evidence import split_sentences
from app.interview.probes import short_quote
from app.interview.results import MockTurn
from app.interview.wording import Wording, plain
from app.knowledge.tokens import tokenize
from app.llm.prompts import fence_candidate


@dataclass
class Questions:
    wording: Wording

    def challenge(self, turn: MockTurn) -> str:
        flag, state = turn.new_flags[0], turn.state
        state.followups += 1
        state.last_question = flag.challenge
        values = {
            "step_name": turn.step.name,
            "claim_quote": flag.quote,
            "context": self.wording.context(turn, flag.quote, flag.claim),
            "challenge": flag.challenge,
        }
        return self.wording.word(turn, "interviewer_challenge", values, fallback=flag.challenge, forbidden=[])

    def depth_probe(self, turn: MockTurn) -> str:
        """A question from a concept the candidate's message touched, about their own words."""
        seed, state = turn.seed, turn.state
        assert seed is not None
        state.followups += 1
        state.depth_used += 1
        state.probed = [*state.probed, seed.concept_id]
        state.last_question = seed.question
        turn.item = f"concept:{seed.concept_id}"
        values = {
            "step_name": turn.step.name,
            "quote": fence_candidate(seed.quote),
            "concept": seed.title,
            "seed": seed.question,
        }
        quote = own_quote(seed.quote, turn)
        fallback = f'You said "{quote}". {seed.question}' if quote else seed.question
        return self.wording.word(
            turn, "interviewer_probe", values, fallback=fallback, forbidden=[], anchor=seed.question
        )

    def followup(self, turn: MockTurn) -> str:
        state, step = turn.state, turn.step
        item = next(i for i in step.checklist if i.id == turn.decision.item_id)
        state.followups += 1
        state.asked = [*state.asked, item.id]
        state.last_question = item.probe
        forbidden = self.wording.forbidden_terms(item, state.all_answers())
        values = {
            "step_name": step.name,
            "context": self.wording.context(turn, turn.text, item.description),
            "target": item.description,
            "forbidden": ", ".join(forbidden[:8]) or "none",
        }
        quote = own_quote(bridge_quote(turn.text, " ".join([item.description, *item.examples, *item.key_terms])), turn)
        noted = [short_quote(s) for s in turn.shown if not is_question(s)]  # their questions aren't notes
        noted = [q for q in (own_quote(n, turn) for n in noted) if q]
        if quote:
            fallback = f'You said "{quote}". {item.probe}'
        elif noted:  # nothing they said leads to the gap: take note of what they showed, then ask
            opener = NOTED[state.bump("noted") % len(NOTED)]
            fallback = f'{opener} "{noted[0]}". {item.probe}'
        else:
            fallback = item.probe
        return self.wording.word(
            turn,
            "interviewer_followup",
            values,
            fallback=fallback,
            forbidden=forbidden,
            builds_on=turn.text,
            asked_about=f"{item.description} {item.probe}",
        )


NOTED = ("Noted:", "Got it:", "Okay:")  # openers of a note on what the candidate showed, in turn
BRIDGE_WORDS = 2  # words a quoted sentence must share with what the probe is about


def their_words(quote: str, written: str) -> bool:
    """Whether a quote is the candidate's own words, as `written`: a sentence of a translated message is the
    model's wording, and quoting it back ("You said ...") would put words in their mouth."""
    return plain(quote.removesuffix("...")) in plain(written)


_ASKING_WORD = re.compile(
    r"^(?:(?:and|so|but|or|also|then|ok|okay|well|um|hmm)\b[,\s]*)*"
    r"(?:what|how|why|when|where|which|who|whose|should|shall|do|does|did|is|are|was|were|can|could|would|will|"
    r"have|has|had|may|might|must|am)\b",
    re.IGNORECASE,
)


def is_question(sentence: str) -> bool:
    """Whether a sentence asks something ("Should we worry about fairness?"), as opposed to a point made with a
    hesitant question mark ("I guess we'd need invoices someone already typed in?")."""
    text = sentence.strip()
    return text.endswith("?") and bool(_ASKING_WORD.match(text))


def own_quote(quote: str, turn: MockTurn) -> str:
    """A quote from the English of the candidate's message, in their own words."""
    return in_their_words(quote, turn.text, turn.written or turn.text)


def in_their_words(quote: str, english: str, written: str) -> str:
    """A quote from `english` (the candidate's message, translated where needed) as they `written` it: itself when
    they wrote it; when the message was translated sentence for sentence, their sentence in the same place; else ""
    (nothing to quote)."""
    if not quote or their_words(quote, written):
        return quote
    mine = [s.text for s in split_sentences(english)]
    theirs = [s.text for s in split_sentences(written)]
    core = plain(quote.removesuffix("..."))
    if len(mine) != len(theirs) or not core:
        return ""
    return next((short_quote(t) for e, t in zip(mine, theirs, strict=True) if plain(e).startswith(core)), "")


def bridge_quote(message: str, about: str) -> str:
    """The candidate's sentence a coverage probe can start from: the one that shares most words with what the probe
    is about, quoted short; empty when none shares two words with it. Their own questions are never quoted."""
    wanted = set(tokenize(about))
    claims = [s.text for s in split_sentences(message) if not is_question(s.text)]  # their questions aren't
    scored = [(len(wanted & set(tokenize(text))), text) for text in claims]
    best = max(scored, default=(0, ""), key=lambda pair: pair[0])
    return short_quote(best[1]) if best[0] >= BRIDGE_WORDS else ""

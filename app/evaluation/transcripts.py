"""Reading a transcript as a person would, turn by turn, from the outside: the judge builds its own evidence ledger
from what the candidate said, and knows nothing of the interviewer's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.grading.evidence import build_ledger
from app.grading.scorecard import Grader
from app.interview.policy import same_question
from app.interview.results import TurnResult
from app.knowledge.base import KnowledgeBase
from app.knowledge.tokens import tokenize

ASKING = ("followup", "depth_probe", "challenge", "advance", "scaffold")
GENERIC = frozenset(tokenize("would could think model data system really maybe something about first"))


def content(text: str) -> set[str]:
    return {t for t in tokenize(text) if len(t) > 3 and t not in GENERIC}


@dataclass
class TurnRecord:
    candidate: str
    reply: str
    action: str
    step: int | None
    item: str | None
    concepts: list[str] = field(default_factory=list)
    reasked: str | None = None  # the covered checklist item the reply asks about again
    follows_off_topic: bool = False
    identical: bool = False
    grounded: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "reply": self.reply,
            "action": self.action,
            "step": self.step,
            "item": self.item,
            "concepts": self.concepts,
            "reasked": self.reasked,
            "follows_off_topic": self.follows_off_topic,
            "identical": self.identical,
            "grounded": self.grounded,
        }


class Judge:
    """Checks one interviewer reply against everything the candidate had said up to it."""

    def __init__(self, kb: KnowledgeBase, grader: Grader) -> None:
        self.kb, self.grader = kb, grader
        texts = [
            f"{c.title} {' '.join(c.aliases)} {c.explanation} {c.tradeoffs} {' '.join(c.key_points)}"
            for c in kb.concepts.values()
        ]
        texts += [f"{s.name} {s.goal} {i.description} {i.probe} {' '.join(i.examples)}" for s, i in kb.rubric.items()]
        self.vocabulary = {t for text in texts for t in tokenize(text)}
        self.probes = {i.id: i.probe for _, i in kb.rubric.items()}

    def covered(self, said: list[str]) -> set[str]:
        english = "\n".join(self.grader.english_text(s)[0] for s in said)
        return {i.item_id for i in build_ledger(english, self.grader.index, []).items if i.verdict == "covered"}

    def record(self, question: str, said: list[str], turn: TurnResult, earlier: list[str]) -> TurnRecord:
        reply = turn.text
        message = said[-1]
        record = TurnRecord(message, reply, turn.action, turn.step, turn.item, list(turn.concepts))
        normal = " ".join(reply.lower().split())
        record.identical = any(normal == " ".join(e.lower().split()) for e in earlier)
        if turn.action in ASKING:
            covered = self.covered(said)
            if turn.item in covered:
                record.reasked = turn.item
            else:
                record.reasked = next((i for i in covered if same_question(reply, self.probes[i], 0.7)), None)
        english = self.grader.english_text(message)[0]
        shared = content(reply) & content(english) - content(question)
        own = build_ledger(english, self.grader.index, []).items
        shows_nothing = not any(i.verdict == "covered" for i in own)  # the message is about something else
        record.follows_off_topic = shows_nothing and len(shared - self.vocabulary) >= 2
        record.grounded = bool(shared) or (turn.action == "depth_probe" and bool(turn.concepts))
        return record

"""What one candidate message produced: the reply and everything a caller needs to know about the turn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.interview.policy import Decision
from app.interview.state import MockState
from app.knowledge.base import Scenario, Step
from app.llm.backend import CallStats
from app.sessions.repository import SessionRecord

PIECE_CHARS = 24


@dataclass
class TurnResult:
    """The interviewer's reply to one message, with the decision behind it. Iterating yields the reply in pieces,
    as a front end streams it."""

    session_id: str
    text: str
    action: str
    step: int | None = None
    item: str | None = None
    flag: str | None = None
    reason: str | None = None
    concepts: list[str] = field(default_factory=list)  # headings of the reference notes retrieved for this turn
    notices: list[str] = field(default_factory=list)  # for this turn only: a fallback, a restarted model
    calls: list[CallStats] = field(default_factory=list)  # the LLM calls made for this turn
    truncated: bool = False

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self.text), PIECE_CHARS):
            yield self.text[start : start + PIECE_CHARS]

    @property
    def llm_seconds(self) -> float:
        return sum(c.total_s for c in self.calls)


@dataclass
class SessionView:
    """What a front end shows about a session between turns."""

    id: str
    mode: str
    title: str
    step: int
    step_name: str
    seconds_left: float
    covered: int
    partial: int
    total: int
    ended: bool


@dataclass
class MockTurn:
    """One mock-interview message on its way to a reply: what was decided, and what the handlers add."""

    record: SessionRecord
    state: MockState
    scenario: Scenario
    step: Step
    decision: Decision
    text: str
    new_flags: list[Any]
    intent: Any = None  # the message's Intent
    seed: Any = None  # the depth probe's Seed, when the policy chose one
    item: str | None = None  # what the reply asks about, when the handler chose it (a revisited gap, a concept)
    prompt: str | None = None  # the request the LLM worded the reply from
    concepts: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # the message's sentences that covered a checklist item
    written: str = ""  # the message as the candidate wrote it (`text` is its English, translated where needed)
    notices: list[str] = field(default_factory=list)
    calls: list[CallStats] = field(default_factory=list)

"""Reading ahead of the candidate: the request the next turn would send the model, worked out from the message as
typed so far without storing anything, so that the model server can read all of it before Send. When the message
sent is the one read ahead, the turn's whole prompt is in the server's cache and only the reply is left to generate;
when it is not, the server reuses what the two share, as it would for any earlier prompt."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from app.llm.backend import CallStats, Capabilities, LLMError, Message
from app.sessions.repository import HintRecord, SessionRecord, SessionRepository, TurnRecord

T = TypeVar("T", bound=BaseModel)


class ReadAhead(LLMError):
    """Raised by `RequestRecorder` in place of a reply: the turn was only worked out, not answered."""


class DraftRepository(SessionRepository):
    """A session's records as they would be if its draft were sent now: reads see the draft as the last message,
    and every write is dropped. It has no database of its own; reads go to the real repository."""

    def __init__(self, inner: SessionRepository, session_id: str, draft: str) -> None:  # no connection of its own
        self.inner, self.session_id, self.draft = inner, session_id, draft

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self.inner.get_session(session_id)

    def turns(self, session_id: str) -> list[TurnRecord]:
        turns = self.inner.turns(session_id)
        if session_id != self.session_id:
            return turns
        seq = turns[-1].seq + 1 if turns else 1
        return [*turns, TurnRecord(seq, "candidate", self.draft, {}, time.time())]

    def hints(self, session_id: str) -> list[HintRecord]:
        return self.inner.hints(session_id)

    def scorecards(self, session_id: str) -> dict[int | None, str]:
        return self.inner.scorecards(session_id)

    def list_sessions(self, user: str, limit: int = 50) -> list[SessionRecord]:
        return self.inner.list_sessions(user, limit)

    def mastery(self, user: str, kind: str) -> dict[str, list[tuple[float, float]]]:
        return self.inner.mastery(user, kind)

    def weakest(self, user: str, kind: str, keys: list[str], n: int) -> list[str]:
        return self.inner.weakest(user, kind, keys, n)

    # ---------- writes: dropped ----------

    def create_session(self, *, user: str, mode: str, scenario_id: str | None, state: dict[str, Any]) -> str:
        raise RuntimeError("a read-ahead never opens a session")

    def save_state(self, session_id: str, state: dict[str, Any], status: str | None = None) -> None:
        return None

    def add_turn(self, session_id: str, role: str, content: str, meta: dict[str, Any] | None = None) -> int:
        return 0

    def add_hint(self, session_id: str, step: int, item_id: str | None, level: int, text: str) -> None:
        return None

    def save_scorecard(self, session_id: str, step: int | None, card_json: str) -> None:
        return None

    def record_mastery(self, user: str, kind: str, key: str, score: float, session_id: str) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class NothingEnded:
    """What ending a session gives during a read-ahead: nothing is ended, and nothing is reported."""

    notices: tuple[str, ...] = ()


NOTHING_ENDED = NothingEnded()


class RequestRecorder:
    """Stands in for the model while a turn is worked out ahead: keeps the request the turn would make and answers
    none (a `ReadAhead` error, which the turn treats as a failed call)."""

    def __init__(self, capabilities: Capabilities) -> None:
        self.capabilities = capabilities
        self.messages: list[Message] | None = None

    def _keep(self, messages: list[Message]) -> ReadAhead:
        if self.messages is None:
            self.messages = [dict(m) for m in messages]
        return ReadAhead("worked out ahead, not sent")

    def generate(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        temperature: float | None = None,
    ) -> str:
        raise self._keep(messages)

    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, stats: CallStats | None = None
    ) -> Iterator[str]:
        raise self._keep(messages)

    def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        grow: bool = True,
    ) -> T:
        raise self._keep(messages)

    def close(self) -> None:
        return None

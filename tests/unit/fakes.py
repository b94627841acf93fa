"""Test doubles for unit tests only: a scripted chat model under the real backend, and fakes at the project's own
seams (`FakeLLM` for the LLM protocol, `FakeEmbedder` for the embedder)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from app.knowledge.embeddings import Embedder
from app.knowledge.tokens import tokenize as stems
from app.llm.backend import CallStats, Capabilities, StructuredOutputError, parse_structured

T = TypeVar("T", bound=BaseModel)


@dataclass
class Reply:
    content: str
    usage_metadata: dict[str, int] | None = None


@dataclass
class FakeChatModel:
    """Queue replies (strings, or exceptions to raise); every call records its messages and options."""

    replies: list[Any] = field(default_factory=list)
    calls: list[tuple[list[dict[str, str]], dict[str, Any]]] = field(default_factory=list)

    def _next(self, messages: list[dict[str, str]], kwargs: dict[str, Any]) -> Any:
        self.calls.append((list(messages), dict(kwargs)))
        if not self.replies:
            raise AssertionError("FakeChatModel has no reply queued")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def invoke(self, messages: list[dict[str, str]], **kwargs: Any) -> Reply:
        return Reply(self._next(messages, kwargs), {"input_tokens": 11, "output_tokens": 7})

    def stream(self, messages: list[dict[str, str]], **kwargs: Any) -> Iterator[Reply]:
        text = self._next(messages, kwargs)
        for word in text.split(" "):
            yield Reply(word + " ")


class APIConnectionError(Exception):
    """Named like the client library's connection error."""


class APITimeoutError(Exception):
    pass


class InternalServerError(Exception):
    status_code = 500


# ---------- fakes at the project's own seams ----------


@dataclass
class FakeCall:
    kind: str
    messages: list[dict[str, str]]
    max_tokens: int | None
    temperature: float | None = None
    grow: bool = True  # structured: whether a cut-off answer may be asked again with a larger budget


@dataclass
class FakeLLM:
    """The project's LLM protocol with a queue of replies (strings, or exceptions to raise) and a record of calls.
    `stream` yields a reply word by word; `structured` parses it into the schema as a real backend would. With the
    queue empty the model answers nothing, as a model that returns an empty reply."""

    replies: list[Any] = field(default_factory=list)
    capabilities: Capabilities = field(default_factory=lambda: Capabilities("fake", "fake", "prompt_only"))
    calls: list[FakeCall] = field(default_factory=list)
    closed: bool = False

    def _next(self, kind: str, messages: list[dict[str, str]], max_tokens: int | None, grow: bool = True) -> str:
        self.calls.append(FakeCall(kind, list(messages), max_tokens, grow=grow))
        if not self.replies:
            return ""
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return str(reply)

    def generate(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        temperature: float | None = None,
    ) -> str:
        text = self._next("generate", messages, max_tokens)
        self.calls[-1].temperature = temperature
        if stats is not None:
            stats.kind, stats.chunks = "generate", 1
        return text

    def stream(
        self, messages: list[dict[str, str]], *, max_tokens: int | None = None, stats: CallStats | None = None
    ) -> Iterator[str]:
        text = self._next("stream", messages, max_tokens)
        for word in text.split(" "):
            if stats is not None:
                stats.kind, stats.chunks = "stream", stats.chunks + 1
            yield word + " "

    def structured(
        self,
        messages: list[dict[str, str]],
        schema: type[T],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        grow: bool = True,
    ) -> T:
        try:
            return parse_structured(self._next("structured", messages, max_tokens, grow), schema)
        except ValueError as exc:
            raise StructuredOutputError("The model's answer could not be read as the expected structure.") from exc

    def close(self) -> None:
        self.closed = True


class FakeEmbedder(Embedder):
    """Deterministic vectors without a model: each word stem hashes to a signed coordinate, so texts that share
    words are similar and texts that share none are not."""

    def __init__(self, dimension: int = 384) -> None:
        super().__init__(None)
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def _run(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        self.calls += len(texts)
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for stem in stems(text) or ["<empty>"]:
                code = zlib.crc32(stem.encode())
                vectors[row, code % self._dimension] += 1.0 if code & 1 << 31 else -1.0
            norm = float(np.linalg.norm(vectors[row]))
            vectors[row] = vectors[row] / norm if norm else 1.0 / np.sqrt(self._dimension)
        return vectors

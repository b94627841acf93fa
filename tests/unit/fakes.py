"""Test doubles for unit tests only: a scripted chat model that records what it receives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


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

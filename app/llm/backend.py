"""The one way the app talks to a language model: generate, stream, structured output, capabilities."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
T = TypeVar("T", bound=BaseModel)


class LLMError(RuntimeError):
    """A model call failed; `str(error)` is one sentence fit to show a user."""


class LLMUnavailable(LLMError):
    """The model endpoint cannot be reached or refused the request."""


class LLMTimeout(LLMError):
    """The model did not answer in time."""


class OutputTruncated(LLMError):
    """The model hit the token limit before finishing a structured answer."""


class StructuredOutputError(LLMError):
    """The model's output did not validate against the schema, even after one retry."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, so callers never need to know which server is behind it."""

    backend: str  # "llama_cpp" or "openai"
    model: str  # human label, e.g. "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
    structured: Literal["json_schema", "json_object_schema", "prompt_only"]
    streaming: bool = True
    strong_grader: bool = False  # may refine rubric verdicts within bounds
    prefix_cache: bool = False  # the server keeps the last prompt's state: computing a prompt's start early pays off

    @property
    def label(self) -> str:
        return f"{'local' if self.backend == 'llama_cpp' else self.backend}: {self.model}"


RESTARTED = "The local model stopped unexpectedly and was restarted."


@dataclass
class CallStats:
    """The record of one call, filled by the backend for the caller that passed it: timing for benchmarks and
    the doctor, and notices the candidate should see for this call only (such as a restarted model)."""

    ttft_s: float | None = None
    total_s: float = 0.0
    chunks: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    kind: str = "generate"  # "generate", "stream" or "structured"
    notices: list[str] = field(default_factory=list)


class LLM(Protocol):
    """The backend contract. Each call may be given a `CallStats` to fill; a backend keeps no call history."""

    capabilities: Capabilities

    def generate(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        temperature: float | None = None,
    ) -> str: ...

    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, stats: CallStats | None = None
    ) -> Iterator[str]: ...

    def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        grow: bool = True,
    ) -> T:
        """JSON that validates into `schema`. With `grow`, an answer cut off by the length limit is asked again with
        twice the limit; without it, a cut-off answer is an error (it has already said too much)."""
        ...

    def close(self) -> None: ...


# ---------- pure helpers ----------


def response_format(schema: type[BaseModel], mode: str) -> dict[str, Any] | None:
    """The `response_format` a server understands for a pydantic schema."""
    json_schema = schema.model_json_schema()
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
        }
    if mode == "json_object_schema":
        # llama.cpp's server answers 500 to json_schema; json_object with a schema is grammar-constrained.
        return {"type": "json_object", "schema": json_schema}
    return None


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def extract_json(text: str) -> str:
    """The JSON object inside a reply that may wrap it in a code fence or prose."""
    text = _FENCE.sub("", text.strip())
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def parse_structured(text: str, schema: type[T]) -> T:
    """Validate model output into the schema; raises ValueError with a short reason. A line break written raw inside
    a string (which strict JSON forbids, and small models write) is read as the line break it means."""
    body = extract_json(text)
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        if "control character" in str(exc):
            try:
                return schema.model_validate(json.loads(body, strict=False))
            except (ValueError, ValidationError):
                pass
        first = exc.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in first['loc']) or 'output'}: {first['msg']}") from exc


def describe_error(exc: BaseException) -> LLMError:
    """Turn any client exception into one readable sentence, without the library's details or secrets."""
    if isinstance(exc, LLMError):
        return exc
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if "LengthFinishReason" in name:
        return OutputTruncated("The model's answer was cut off by the length limit.")
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return LLMTimeout("The model took too long to answer.")
    if status in (401, 403) or "Authentication" in name or "PermissionDenied" in name:
        return LLMUnavailable("The model endpoint rejected the API key: check OPENAI_API_KEY.")
    if status == 404 or "NotFound" in name:
        return LLMUnavailable("The model endpoint does not know this model name: check MOCKINTERVIEW_LLM_MODEL.")
    if status == 429 or "RateLimit" in name:
        return LLMUnavailable("The model endpoint is rate limiting requests; try again in a moment.")
    if "Connection" in name or isinstance(exc, ConnectionError):
        return LLMUnavailable("The model server cannot be reached.")
    if isinstance(status, int) and status >= 500:
        return LLMUnavailable(f"The model server failed with an internal error (HTTP {status}).")
    if isinstance(status, int):
        return LLMUnavailable(f"The model endpoint refused the request (HTTP {status}).")
    return LLMError("The model call failed unexpectedly.")


def _is_connection_failure(exc: BaseException) -> bool:
    return "Connection" in type(exc).__name__ or isinstance(exc, ConnectionError)


def _is_dropped(exc: BaseException) -> bool:
    """A connection that broke after the answer had started (closed, reset or cut mid-body)."""
    name = type(exc).__name__
    return _is_connection_failure(exc) or "Protocol" in name or "ReadError" in name


_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """Text that encodes as UTF-8: surrogate pairs joined, lone surrogates replaced with U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def encodable_messages(messages: list[Message]) -> list[Message]:
    """Messages every HTTP client can send (a lone surrogate would fail JSON encoding)."""
    return [{**m, "content": encodable(m["content"])} for m in messages]


# ---------- the backend over a LangChain chat model ----------


@dataclass
class ChatBackend:
    """An LLM over any LangChain chat model. `recover` restarts a dead local server (returns True if it did)."""

    chat_model: Any
    capabilities: Capabilities
    recover: Callable[[], bool] | None = None
    on_close: Callable[[], None] | None = None
    temperature: float = 0.2
    max_tokens: int = 160
    legacy_max_tokens: bool = False  # servers that read `max_tokens`, not `max_completion_tokens`

    def _kwargs(self, max_tokens: int | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        limit = max_tokens or self.max_tokens
        kwargs: dict[str, Any] = {"max_tokens": limit, "temperature": self.temperature}
        if self.legacy_max_tokens:
            kwargs["extra_body"] = {"max_tokens": limit}
        kwargs.update(extra or {})
        return kwargs

    def _recovered(self, exc: BaseException, stats: CallStats) -> bool:
        if self.recover is None or not _is_connection_failure(exc):
            return False
        try:
            restarted = self.recover()
        except Exception as restart_error:
            log.error("model server restart failed: %s", restart_error)
            reason = f"The local model stopped and could not be restarted. {restart_error}"
            raise LLMUnavailable(reason) from restart_error
        if restarted:
            stats.notices.append(RESTARTED)
        return restarted

    def _invoke(self, messages: list[Message], kwargs: dict[str, Any], stats: CallStats) -> str:
        started = time.perf_counter()
        messages = encodable_messages(messages)
        for attempt in (1, 2):
            try:
                reply = self.chat_model.invoke(messages, **kwargs)
                break
            except Exception as exc:
                if attempt == 1 and self._recovered(exc, stats):
                    continue
                raise describe_error(exc) from exc
        stats.total_s += time.perf_counter() - started
        stats.chunks += 1
        usage = getattr(reply, "usage_metadata", None) or {}
        stats.prompt_tokens = usage.get("input_tokens")
        stats.completion_tokens = usage.get("output_tokens")
        content = reply.content
        return content if isinstance(content, str) else json.dumps(content)

    def generate(
        self,
        messages: list[Message],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        temperature: float | None = None,
    ) -> str:
        """A whole reply; `temperature` overrides the backend's own (0 for reproducible output)."""
        stats = stats if stats is not None else CallStats()
        extra = None if temperature is None else {"temperature": temperature}
        return self._invoke(messages, self._kwargs(max_tokens, extra), stats)

    def stream(
        self, messages: list[Message], *, max_tokens: int | None = None, stats: CallStats | None = None
    ) -> Iterator[str]:
        """Yield text pieces as they arrive; closing the iterator closes the request."""
        started = time.perf_counter()
        stats = stats if stats is not None else CallStats()
        stats.kind = "stream"
        kwargs = self._kwargs(max_tokens)
        messages = encodable_messages(messages)
        for attempt in (1, 2):
            produced = False
            try:
                for chunk in self.chat_model.stream(messages, **kwargs):
                    usage = getattr(chunk, "usage_metadata", None)
                    if usage:
                        stats.prompt_tokens = usage.get("input_tokens")
                        stats.completion_tokens = usage.get("output_tokens")
                    text = chunk.content if isinstance(chunk.content, str) else ""
                    if not text:
                        continue
                    if not produced:
                        stats.ttft_s = time.perf_counter() - started
                        produced = True
                    stats.chunks += 1
                    yield text
                break
            except GeneratorExit:
                raise
            except Exception as exc:
                if attempt == 1 and not produced and self._recovered(exc, stats):
                    continue
                if produced and _is_dropped(exc):
                    raise LLMUnavailable("The model server stopped in the middle of its answer.") from exc
                raise describe_error(exc) from exc
            finally:
                stats.total_s = time.perf_counter() - started

    def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        max_tokens: int | None = None,
        stats: CallStats | None = None,
        grow: bool = True,
    ) -> T:
        """Generate JSON that validates into `schema`: one retry on invalid output, then StructuredOutputError."""
        stats = stats if stats is not None else CallStats()
        stats.kind = "structured"
        fmt = response_format(schema, self.capabilities.structured)
        limit = max_tokens or self.max_tokens
        attempt_messages = list(messages)
        for attempt in (1, 2):
            kwargs = self._kwargs(limit, {"response_format": fmt} if fmt else None)
            try:
                text = self._invoke(attempt_messages, kwargs, stats)
            except OutputTruncated:
                log.warning("structured output cut off at %d tokens (attempt %d)", limit, attempt)
                if not grow:
                    raise
                limit *= 2
                continue
            try:
                return parse_structured(text, schema)
            except ValueError as reason:
                log.warning("structured output invalid (attempt %d): %s", attempt, reason)
                attempt_messages = [
                    *messages,
                    {"role": "assistant", "content": text[:2000]},
                    {
                        "role": "user",
                        "content": f"That reply was not valid ({reason}). Answer again with only the JSON object.",
                    },
                ]
        raise StructuredOutputError("The model's answer could not be read as the expected structure.")

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close()

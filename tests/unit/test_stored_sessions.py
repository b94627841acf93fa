"""Sessions stored before the session state was typed (tests/fixtures/sessions_v1.sql, written by that version of
the engine) load and resume in SQLite and in PostgreSQL: a mock interview in step 2, a custom question and a drill."""

import random
import sqlite3

import pytest

from app.grading.scorecard import Grader
from app.interview.engine import Interviewer
from app.interview.state import DrillState, MockState
from app.knowledge.base import load_knowledge
from app.sessions.database import connect
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR
from tests.unit.fakes import FakeEmbedder

KB = load_knowledge(PROJECT_DIR / "knowledge")
DUMP = (PROJECT_DIR / "tests" / "fixtures" / "sessions_v1.sql").read_text()
MOCK = "2aca9483293a4f8a81763af676f71a00"
CUSTOM = "5788e468badb4ea58b445a5928221087"
DRILL = "cdd74aa9e1e94e2b8add147a7f88f84e"
TABLES = ["sessions", "turns", "hints", "scorecards", "mastery"]


def v1_rows() -> dict[str, list[tuple]]:
    memory = sqlite3.connect(":memory:")
    memory.executescript(DUMP)
    return {table: memory.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "v1.sqlite3"
        with sqlite3.connect(path) as db:
            db.executescript(DUMP)  # the database file exactly as that version wrote it
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    SessionRepository(url)  # the schema, then the same rows
    db = connect(url)
    for table, rows in v1_rows().items():
        for row in rows:
            db.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    db.commit()
    return url


def test_sessions_stored_before_typed_state_load_and_resume(url):
    repo = SessionRepository(url)
    engine = Interviewer(KB, Grader(KB, FakeEmbedder()), None, None, repo, rng=random.Random(1))
    mock = repo.get_session(MOCK)
    state = MockState.model_validate(mock.state)
    assert (state.step, state.history_from, state.asked) == (2, 4, ["business_goal", "data_sources"])
    view = engine.view(MOCK)
    assert (view.mode, view.step, view.total) == ("mock", 2, len(KB.rubric.step(2).checklist))

    turn = engine.respond(MOCK, "Labels come from watch completions and explicit likes, with a delay of a day.")
    assert turn.text.strip() and turn.step == 2
    assert len(repo.turns(MOCK)) == 9
    assert engine.next_step(MOCK).startswith("Let's move on to step 3")
    assert MockState.model_validate(repo.get_session(MOCK).state).step == 3

    assert engine.view(CUSTOM).title.startswith("Design a system that routes support tickets")
    assert engine.respond(CUSTOM, "Input is the ticket text; output is a team.").text.strip()

    drill = DrillState.model_validate(repo.get_session(DRILL).state)
    assert drill.phase == "followup" and len(drill.drills) == 2
    assert engine.respond(DRILL, "It ignores true negatives, so it is not inflated by them.").action in ("next", "end")

    report = engine.end(MOCK)
    assert report.scorecard is not None and report.scorecard.steps

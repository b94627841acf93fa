"""The interview engine keeps and resumes a session in each supported database (SQLite and PostgreSQL)."""

import random

import pytest

from app.embeddings import get_embedder
from app.grading import Grader
from app.interviewer import Interviewer
from app.knowledge import load_knowledge
from app.llm import Capabilities, ChatBackend
from app.repository import SessionRepository
from app.settings import PROJECT_DIR
from tests.unit.fakes import FakeChatModel

KB = load_knowledge(PROJECT_DIR / "knowledge")
SCENARIO = KB.questions.scenarios[0]


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(KB, get_embedder())


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

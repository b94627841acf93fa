"""A short real interview with the bundled model; the process is killed between turns and the session resumes."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from app.container import Container
from app.llm.factory import build_llm
from app.settings import PROJECT_DIR, load_settings
from tests.support import real_embedder

pytestmark = pytest.mark.integration

CHILD = textwrap.dedent(
    """
    import sys, time
    from app.llm.factory import build_llm
    from app.container import Container
    from app.settings import load_settings
    settings = load_settings(data_dir=sys.argv[1], max_tokens=48, temperature=0.0)
    container = Container(settings, llm=build_llm(settings))
    container.ensure_knowledge()
    engine = container.interviewer()
    session_id, _ = engine.start("mock", scenario_id=sys.argv[2])
    for text in ["The goal is to keep viewers watching longer, measured by weekly watch time.",
                 "Inputs are the user's history and candidate videos; output is a ranked list within 200 ms."]:
        print("".join(engine.respond(session_id, text)), flush=True)
    print(session_id, flush=True)
    time.sleep(600)
    """
)


def test_killed_between_turns_and_resumed_without_losing_a_turn(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", max_tokens=48, temperature=0.0)
    scenario = "video-recommendation-feed"
    # The knowledge base is embedded here, by the run's shared embedder; the child finds it unchanged.
    ingesting = Container(settings, embedder=real_embedder())
    ingesting.ensure_knowledge()
    ingesting.close()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.data_dir), scenario],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert child.stdout is not None
    replies = [child.stdout.readline().strip() for _ in range(2)]
    session_id = child.stdout.readline().strip()
    assert all(replies) and session_id
    os.killpg(child.pid, signal.SIGKILL)  # the app and its model server die at once
    child.wait(timeout=30)

    container = Container(settings, llm=build_llm(settings), embedder=real_embedder())
    try:
        container.ensure_knowledge()
        engine = container.interviewer()
        turns = engine.repo.turns(session_id)
        assert [t.role for t in turns] == ["interviewer", "candidate", "interviewer", "candidate", "interviewer"]
        assert turns[2].content == replies[0] and turns[4].content == replies[1]
        reply = "".join(engine.respond(session_id, "Scale is about 50 million daily users."))
        assert reply.strip()
        assert len(engine.repo.turns(session_id)) == 7
    finally:
        container.close()

"""The served app with the bundled model is killed (SIGKILL) after two turns; started again, it resumes them all."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client

from tests.served_app import Served

pytestmark = pytest.mark.integration

SCENARIO = "video-recommendation-feed"
ANSWERS = [
    "The goal is to keep viewers watching longer, measured by weekly watch time per user.",
    "Inputs are the user's watch history and fresh candidate videos; the output is a ranked feed within 200 ms.",
]
AFTER_RESTART = "Offline I would track recall at 50 for retrieval and NDCG at 10 for the ranker."


def client_for(app: Served) -> Client:
    return Client(app.url, verbose=False, download_files=False, analytics_enabled=False)


def test_a_killed_app_resumes_every_turn_and_the_interview_goes_on(served_data_dir: Path) -> None:
    first = Served(served_data_dir)
    try:
        client = client_for(first)
        session_id = client.predict("mock", SCENARIO, "", api_name="/start")
        opening = client.predict(session_id, api_name="/turns")
        replies = [client.predict(session_id, text, api_name="/say") for text in ANSWERS]
    finally:
        first.kill()  # SIGKILL to the process group: the app and its model server die mid-flight
    assert [t["role"] for t in opening] == ["interviewer"]
    expected = [*opening]
    for text, reply in zip(ANSWERS, replies, strict=True):
        assert reply.strip()
        expected += [{"role": "candidate", "content": text}, {"role": "interviewer", "content": reply}]

    second = Served(served_data_dir)
    try:
        client = client_for(second)
        assert client.predict(session_id, api_name="/turns") == expected  # opening + 2 x 2 turns, word for word
        reply = client.predict(session_id, AFTER_RESTART, api_name="/say")
        stored = client.predict(session_id, api_name="/turns")
    finally:
        second.stop()
    assert reply.strip()
    assert stored == [
        *expected,
        {"role": "candidate", "content": AFTER_RESTART},
        {"role": "interviewer", "content": reply},
    ]

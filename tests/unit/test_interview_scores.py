"""A mock interview's score comes from all seven steps: steps never reached count as not shown, the scorecard names
them, and an interview that ends after two steps is graded weak or lower however good those steps were."""

import json
import random

import pytest

from app.grading.scorecard import BAND_CEILING, Grader, interview_card
from app.interview.engine import Interviewer
from app.knowledge.base import load_knowledge
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR
from tests.support import real_embedder

KB = load_knowledge(PROJECT_DIR / "knowledge")
CASES = PROJECT_DIR / "eval" / "cases" / "grading_blind.jsonl"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(KB, real_embedder())  # grading needs the real embedding model


def strong_dev_answer() -> tuple[str, str]:
    """A strong answer written blind (the short-video feed's), which an answer review grades strong."""
    row = next(json.loads(line) for line in CASES.read_text().splitlines() if json.loads(line)["id"] == "b-01-a")
    return row["question"], row["answer"]


def test_steps_after_the_last_reached_are_not_shown_and_cap_the_band(grader):
    question, answer = strong_dev_answer()
    card = grader.grade(question, answer)
    assert card.band == "strong" and len(card.covered_steps) >= 4  # as an answer review
    two = interview_card(card, 2)
    assert two.band == "weak" and two.overall <= BAND_CEILING["weak"] < card.overall
    assert two.steps_not_reached == [3, 4, 5, 6, 7] and "steps_not_reached" in two.flags
    assert all(s.score == 0 and all(i.verdict == "missing" and not i.evidence for i in s.items)
               for s in two.steps if s.step > 2)  # fmt: skip
    assert set(two.covered_steps) <= {1, 2}
    assert interview_card(card, 4).band == "partial"
    assert interview_card(card, 7) == card  # a finished interview is graded as the same text reviewed


def test_an_interview_ended_after_two_steps_is_weak_or_lower_and_says_why(grader, tmp_path):
    question, answer = strong_dev_answer()
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    engine = Interviewer(KB, grader, None, None, repo, rng=random.Random(1))
    session_id, _ = engine.start("mock", question=question)
    paragraphs = answer.split("\n\n")
    engine.respond(session_id, paragraphs[0])  # what "good" means: the problem
    engine.next_step(session_id)
    engine.respond(session_id, paragraphs[1])  # scale, and the funnel it forces
    engine.respond(session_id, "end")
    card = engine.end(session_id).scorecard
    assert card is not None and card.band in ("weak", "off_topic")
    assert card.steps_not_reached == [3, 4, 5, 6, 7]
    assert "ended before steps 3 to 7" in card.narrative

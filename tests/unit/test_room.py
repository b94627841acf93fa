"""The interview room service and its renderings, with the fake LLM and embedder, the real rubric and SQLite."""

import json
import random
import threading

import pytest

from app.grading.scorecard import Grader
from app.interview.engine import Interviewer
from app.knowledge.base import load_knowledge
from app.sessions.repository import SessionRepository
from app.settings import PROJECT_DIR, SettingsError
from app.web.access import is_loopback, login_for, parse_auth
from app.web.report import clock_state, escape_text, tracker_html
from app.web.room import BUSY_MESSAGE, RANDOM, WEAK, Room, RoomError, friendly
from tests.unit.fakes import FakeEmbedder, FakeLLM

KB = load_knowledge(PROJECT_DIR / "knowledge")
SCENARIO = KB.questions.scenarios[0]
GRADER = Grader(KB, FakeEmbedder())  # session flow needs no language model of any kind


@pytest.fixture
def room(tmp_path):
    repo = SessionRepository(f"sqlite:///{tmp_path / 's.sqlite3'}")
    engine = Interviewer(KB, GRADER, None, FakeLLM(), repo, rng=random.Random(3))
    return Room(engine, "local: fake", reports_dir=tmp_path / "reports")


# ---------- access ----------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org", ""])
def test_other_addresses_are_not_loopback(host):
    assert not is_loopback(host)


def test_binding_off_loopback_without_a_login_is_refused():
    with pytest.raises(SettingsError, match="without a login"):
        login_for("0.0.0.0", None)


def test_binding_off_loopback_with_a_login_is_allowed():
    assert login_for("0.0.0.0", "ana:s3cret, bo:pw:with:colons") == [("ana", "s3cret"), ("bo", "pw:with:colons")]


def test_loopback_needs_no_login():
    assert login_for("127.0.0.1", "") == []


@pytest.mark.parametrize("value", ["ana", ":pw", "ana:", "ana:pw,bo"])
def test_malformed_logins_are_refused(value):
    with pytest.raises(SettingsError, match="user:password"):
        parse_auth(value)


# ---------- renderings ----------


def test_markup_in_candidate_text_is_escaped():
    shown = escape_text('<img src=x onerror="alert(1)"> **bold** <script>alert(2)</script>')
    assert "<img" not in shown and "<script" not in shown
    assert "&lt;img" in shown and "\\*\\*bold\\*\\*" in shown


def test_clock_turns_amber_then_red():
    assert clock_state(600, 600) == "green"
    assert clock_state(100, 600) == "amber"
    assert clock_state(0, 600) == "red"


def test_tracker_marks_done_current_pending_and_gives_counts_only():
    names = [s.name for s in KB.rubric.steps]
    html = tracker_html(names, 3, ended=False, covered=1, partial=2, total=5, seconds_left=30, budget_s=600)
    assert html.count("mi-done") == 2 and html.count("mi-current") == 1 and html.count("mi-pending") == 4
    assert "1 of 5 points covered, 2 in part" in html and "mi-amber" in html and "0:30" in html
    assert not any(item.description in html for item in KB.rubric.step(3).checklist)


def test_tracker_prompts_a_move_when_time_is_up():
    names = [s.name for s in KB.rubric.steps]
    late = tracker_html(names, 2, ended=False, covered=0, partial=0, total=4, seconds_left=0, budget_s=300)
    early = tracker_html(names, 2, ended=False, covered=0, partial=0, total=4, seconds_left=200, budget_s=300)
    assert '<p class="mi-move">' in late and '<p class="mi-move" hidden>' in early


# ---------- the room ----------


def test_choices_offer_random_weak_domains_and_scenarios(room):
    values = [v for _, v in room.scenario_choices()]
    assert values[:2] == [RANDOM, WEAK]
    assert any(v.startswith("domain:") for v in values) and SCENARIO.id in values
    assert [v for _, v in room.topic_choices()][:2] == ["all", WEAK]


def test_start_say_and_snapshot(room):
    session_id = room.start("ana", "mock", SCENARIO.id)
    reply = "".join(room.say(session_id, "The goal is <b>more</b> watch time, measured weekly."))
    assert reply
    snap = room.snapshot(session_id)
    assert snap.mode == "mock" and not snap.ended and snap.title == SCENARIO.title
    assert [m["role"] for m in snap.messages] == ["assistant", "user", "assistant"]
    assert "&lt;b&gt;more&lt;/b&gt;" in snap.messages[1]["content"]
    assert "mi-current" in snap.tracker


def test_sessions_belong_to_their_user(room):
    session_id = room.start("ana", "mock", SCENARIO.id)
    assert room.owned(session_id, "ana") is not None
    assert room.owned(session_id, "bo") is None
    assert room.owned("../../etc/passwd", "ana") is None
    assert room.owned(None, "ana") is None


def test_a_second_message_while_one_is_answered_is_refused_calmly(room):
    session_id = room.start("ana", "mock", SCENARIO.id)
    lock = room._lock(session_id)
    lock.acquire()
    try:
        with pytest.raises(RoomError, match="still answering"):
            "".join(room.say(session_id, "hello"))
    finally:
        lock.release()
    assert friendly(RoomError(BUSY_MESSAGE)) == BUSY_MESSAGE


def test_end_shows_scorecard_outline_and_study_plan_and_reports_parse(room):
    session_id = room.start("ana", "mock", SCENARIO.id)
    "".join(room.say(session_id, "We optimise weekly watch time per user; offline we track NDCG@10 on held-out days."))
    room.end(session_id)
    snap = room.snapshot(session_id)
    assert snap.ended and "Overall" in snap.final and "Model answer outline" in snap.final
    assert "Study plan" in snap.final and len(snap.step_scores) == 7
    assert snap.study and all(concept_id in KB.concepts for _, concept_id in snap.study)  # to open in Knowledge
    md, js = room.report_files(session_id)
    data = json.loads(js.read_text())
    assert data["session_id"] == session_id and data["report"]["scorecard"]["band"]
    assert [t["role"] for t in data["transcript"]][:2] == ["interviewer", "candidate"]
    assert "## Transcript" in md.read_text() and "Overall" in md.read_text()
    with pytest.raises(RoomError, match="ended"):
        room.hint(session_id)


def test_drill_and_review_show_up_in_history(room):
    drill = room.start("ana", "drill", topic="all")
    assert room.snapshot(drill).mode == "drill"
    out = room.review("ana", "Design a spam filter for email.", "Precision matters because false positives hide mail.")
    assert "Overall" in out.markdown and all(concept_id in KB.concepts for _, concept_id in out.study)
    rows = room.history("ana")
    assert {r.mode for r in rows} == {"drill", "review"} and room.history("bo") == []


def test_review_refuses_empty_input(room):
    with pytest.raises(RoomError, match="question"):
        room.review("ana", " ", "answer")
    with pytest.raises(RoomError, match="answer"):
        room.review("ana", "question", "")


def test_mastery_points_after_an_interview(room):
    session_id = room.start("ana", "mock", SCENARIO.id)
    "".join(room.say(session_id, "The business goal is retention, measured as weekly watch time."))
    room.end(session_id)
    points = room.mastery_points("ana")
    assert len(points) == 7 and {p["score"] for p in points} <= {x / 100 for x in range(0, 401)}


def test_unknown_scenario_and_mode_are_calm_errors(room):
    with pytest.raises(RoomError, match="Unknown scenario"):
        room.start("ana", "mock", "no-such-scenario")
    with pytest.raises(RoomError, match="Unknown mode"):
        room.start("ana", "quiz")


def test_concurrent_sessions_do_not_mix(room):
    ids = [room.start(f"user{i}", "mock", SCENARIO.id) for i in range(4)]
    errors: list[BaseException] = []

    def play(session_id: str, n: int) -> None:
        try:
            "".join(room.say(session_id, f"My goal number {n} is to raise weekly watch time."))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=play, args=(s, n)) for n, s in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for n, session_id in enumerate(ids):
        said = [t.content for t in room.transcript(session_id) if t.role == "candidate"]
        assert said == [f"My goal number {n} is to raise weekly watch time."]


def test_end_scores_at_once_and_narrate_keeps_the_scorecard(room):
    session_id = room.start("ana", "mock", SCENARIO.id)
    "".join(room.say(session_id, "We optimise weekly watch time per user; offline we track NDCG@10 on held-out days."))
    ended = room.end(session_id)
    assert ended.scorecard is not None and ended.scorecard.narrative_source == "ledger"
    narrated = room.narrate(session_id)
    assert narrated.scorecard is not None
    assert narrated.scorecard.overall == ended.scorecard.overall and narrated.scorecard.steps == ended.scorecard.steps
    assert narrated.scorecard.narrative  # the LLM's wording when valid, the ledger's otherwise

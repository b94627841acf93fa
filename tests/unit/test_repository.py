"""The session repository on a real SQLite file in a temporary folder, and on a real PostgreSQL database."""

import json
import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.sessions.database import DatabaseError
from app.sessions.repository import SessionRecord, SessionRepository, clean_text


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'sessions.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, sqlite_url: str) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def repo(url: str):
    repository = SessionRepository(url)
    yield repository
    repository.close()


def new_session(repo: SessionRepository, user: str = "ana", **state) -> str:
    return repo.create_session(user=user, mode="interview", scenario_id="fraud", state=state or {"step": 1})


# -- sessions ---------------------------------------------------------------------------------------------------------


def test_create_and_get_session(repo):
    before = time.time()
    sid = repo.create_session(user="ana", mode="interview", scenario_id="fraud", state={"step": 1, "items": ["a"]})
    record = repo.get_session(sid)
    assert isinstance(record, SessionRecord)
    assert len(sid) == 32 and int(sid, 16) >= 0
    assert record.id == sid
    assert (record.user, record.mode, record.scenario_id, record.status) == ("ana", "interview", "fraud", "active")
    assert record.state == {"step": 1, "items": ["a"]}
    assert before <= record.created_at == record.updated_at <= time.time()


def test_get_unknown_session_is_none(repo):
    assert repo.get_session("nope") is None


def test_scenario_id_may_be_none(repo):
    sid = repo.create_session(user="ana", mode="drill", scenario_id=None, state={})
    record = repo.get_session(sid)
    assert record is not None
    assert record.scenario_id is None
    assert record.state == {}


def test_save_state_replaces_state_and_keeps_status_unless_given(repo):
    sid = new_session(repo)
    repo.save_state(sid, {"step": 2})
    record = repo.get_session(sid)
    assert record is not None
    assert record.state == {"step": 2}
    assert record.status == "active"
    assert record.updated_at >= record.created_at
    repo.save_state(sid, {"step": 7, "done": True}, status="finished")
    record = repo.get_session(sid)
    assert record is not None
    assert record.state == {"step": 7, "done": True}
    assert record.status == "finished"


def test_writes_to_unknown_session_raise_key_error(repo):
    with pytest.raises(KeyError, match="No interview session with id 'missing'"):
        repo.save_state("missing", {})
    with pytest.raises(KeyError, match="missing"):
        repo.add_turn("missing", "user", "hello")
    with pytest.raises(KeyError, match="missing"):
        repo.add_hint("missing", 1, None, 1, "hint")
    with pytest.raises(KeyError, match="missing"):
        repo.save_scorecard("missing", None, "{}")


def test_state_that_is_not_json_is_refused(repo):
    with pytest.raises(TypeError, match="JSON-serialisable"):
        repo.create_session(user="ana", mode="interview", scenario_id=None, state={"when": object()})


def test_list_sessions_newest_first_and_per_user(repo):
    first = new_session(repo, "ana")
    other = new_session(repo, "ben")
    second = new_session(repo, "ana")
    third = new_session(repo, "ana")
    assert [s.id for s in repo.list_sessions("ana")] == [third, second, first]
    assert [s.id for s in repo.list_sessions("ben")] == [other]
    assert repo.list_sessions("nobody") == []
    assert [s.id for s in repo.list_sessions("ana", limit=2)] == [third, second]


# -- turns, hints, scorecards -----------------------------------------------------------------------------------------


def test_turns_are_numbered_and_returned_in_order(repo):
    sid = new_session(repo)
    assert repo.add_turn(sid, "interviewer", "Tell me the goal.") == 1
    assert repo.add_turn(sid, "candidate", "Reduce fraud losses.", {"step": 1, "tokens": 4}) == 2
    assert repo.add_turn(sid, "interviewer", "What latency?") == 3
    turns = repo.turns(sid)
    assert [t.seq for t in turns] == [1, 2, 3]
    assert [t.role for t in turns] == ["interviewer", "candidate", "interviewer"]
    assert turns[1].content == "Reduce fraud losses."
    assert turns[1].meta == {"step": 1, "tokens": 4}
    assert turns[0].meta == {}
    assert turns[0].created_at <= turns[2].created_at


def test_turn_numbers_are_per_session(repo):
    one, two = new_session(repo), new_session(repo)
    repo.add_turn(one, "user", "a")
    repo.add_turn(one, "user", "b")
    assert repo.add_turn(two, "user", "c") == 1
    assert [t.content for t in repo.turns(two)] == ["c"]
    assert repo.turns("unknown") == []


def test_hints_round_trip_in_order(repo):
    sid = new_session(repo)
    repo.add_hint(sid, 2, "labels", 1, "Where do labels come from?")
    repo.add_hint(sid, 2, None, 2, "Think about chargebacks.")
    hints = repo.hints(sid)
    assert [(h.step, h.item_id, h.level, h.text) for h in hints] == [
        (2, "labels", 1, "Where do labels come from?"),
        (2, None, 2, "Think about chargebacks."),
    ]
    assert all(h.created_at > 0 for h in hints)
    assert repo.hints(new_session(repo)) == []


def test_scorecards_replace_per_step_and_final(repo):
    sid = new_session(repo)
    repo.save_scorecard(sid, 1, '{"score": 2}')
    repo.save_scorecard(sid, 2, '{"score": 3}')
    repo.save_scorecard(sid, None, '{"overall": 3}')
    repo.save_scorecard(sid, 1, '{"score": 4}')
    repo.save_scorecard(sid, None, '{"overall": 4}')
    assert repo.scorecards(sid) == {1: '{"score": 4}', 2: '{"score": 3}', None: '{"overall": 4}'}
    other = new_session(repo)
    repo.save_scorecard(other, 1, "{}")
    assert repo.scorecards(other) == {1: "{}"}
    assert repo.scorecards(sid)[1] == '{"score": 4}'


# -- mastery ----------------------------------------------------------------------------------------------------------


def test_mastery_history_oldest_first_per_user_and_kind(repo):
    sid = new_session(repo)
    repo.record_mastery("ana", "step", "2", 0.2, sid)
    repo.record_mastery("ana", "step", "2", 0.6, sid)
    repo.record_mastery("ana", "step", "3", 1.0, sid)
    repo.record_mastery("ana", "concept", "pr-auc", 0.5, sid)
    repo.record_mastery("ben", "step", "2", 0.9, sid)
    history = repo.mastery("ana", "step")
    assert set(history) == {"2", "3"}
    assert [score for _, score in history["2"]] == [0.2, 0.6]
    assert history["2"][0][0] <= history["2"][1][0]
    assert [s for _, s in repo.mastery("ana", "concept")["pr-auc"]] == [0.5]
    assert [s for _, s in repo.mastery("ben", "step")["2"]] == [0.9]
    assert repo.mastery("nobody", "step") == {}


def test_record_mastery_checks_kind_and_score(repo):
    sid = new_session(repo)
    with pytest.raises(ValueError, match="kind"):
        repo.record_mastery("ana", "topic", "x", 0.5, sid)
    with pytest.raises(ValueError, match="between 0 and 1"):
        repo.record_mastery("ana", "step", "x", 1.5, sid)
    with pytest.raises(ValueError, match="between 0 and 1"):
        repo.record_mastery("ana", "step", "x", float("nan"), sid)


def test_weakest_uses_average_of_last_three_scores(repo):
    sid = new_session(repo)
    for score in (0.0, 0.0, 0.9, 0.9, 0.9):  # old low scores no longer count
        repo.record_mastery("ana", "step", "a", score, sid)
    for score in (0.5, 0.4):
        repo.record_mastery("ana", "step", "b", score, sid)
    repo.record_mastery("ana", "step", "c", 0.7, sid)
    assert repo.weakest("ana", "step", ["a", "b", "c"], 3) == ["b", "c", "a"]
    assert repo.weakest("ana", "step", ["a", "b", "c"], 1) == ["b"]
    assert repo.weakest("ana", "step", ["a", "b", "c"], 0) == []


def test_weakest_puts_never_scored_keys_first_in_given_order(repo):
    sid = new_session(repo)
    repo.record_mastery("ana", "concept", "scored", 0.0, sid)
    assert repo.weakest("ana", "concept", ["scored", "new1", "new2"], 2) == ["new1", "new2"]
    assert repo.weakest("ana", "concept", ["new2", "scored", "new1"], 3) == ["new2", "new1", "scored"]


def test_weakest_breaks_ties_by_key_order(repo):
    sid = new_session(repo)
    for key in ("x", "y", "z"):
        repo.record_mastery("ana", "step", key, 0.5, sid)
    assert repo.weakest("ana", "step", ["z", "x", "y"], 2) == ["z", "x"]
    assert repo.weakest("ana", "step", ["y", "z", "x"], 3) == ["y", "z", "x"]


def test_weakest_ignores_other_users(repo):
    sid = new_session(repo)
    repo.record_mastery("ben", "step", "a", 0.0, sid)
    repo.record_mastery("ana", "step", "a", 0.9, sid)
    repo.record_mastery("ana", "step", "b", 0.1, sid)
    assert repo.weakest("ana", "step", ["a", "b"], 1) == ["b"]


# -- restart ----------------------------------------------------------------------------------------------------------


def test_a_new_instance_sees_everything(url):
    first = SessionRepository(url)
    sid = first.create_session(user="ana", mode="interview", scenario_id="feed", state={"step": 3})
    first.add_turn(sid, "candidate", "hello", {"k": "v"})
    first.add_hint(sid, 3, "item", 1, "hint")
    first.save_scorecard(sid, None, '{"overall": 5}')
    first.record_mastery("ana", "concept", "calibration", 0.25, sid)
    first.save_state(sid, {"step": 4}, status="paused")
    # no close(): as if the process died right after the last call

    second = SessionRepository(url)
    record = second.get_session(sid)
    assert record is not None
    assert (record.state, record.status) == ({"step": 4}, "paused")
    assert [(t.seq, t.content, t.meta) for t in second.turns(sid)] == [(1, "hello", {"k": "v"})]
    assert [h.text for h in second.hints(sid)] == ["hint"]
    assert second.scorecards(sid) == {None: '{"overall": 5}'}
    assert [s for _, s in second.mastery("ana", "concept")["calibration"]] == [0.25]
    assert second.add_turn(sid, "interviewer", "next") == 2
    second.close()
    first.close()


def test_schema_version_is_recorded(repo):
    assert repo.database.execute("SELECT value FROM meta WHERE key = 'schema_version'").rows == [("1",)]


def test_sqlite_runs_in_wal_mode(sqlite_url):
    SessionRepository(sqlite_url).close()
    conn = sqlite3.connect(sqlite_url[len("sqlite:///") :])
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_a_newer_schema_is_refused(url):
    with SessionRepository(url) as first:
        first.database.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(DatabaseError, match="newer than this program"):
        SessionRepository(url)


def test_closed_repository_raises_database_error(url):
    repository = SessionRepository(url)
    repository.close()
    repository.close()
    with pytest.raises(DatabaseError, match="closed"):
        repository.get_session("x")


# -- odd text ---------------------------------------------------------------------------------------------------------

ODD_TEXTS = [
    "before\x00after",
    "\x00",
    "emoji 🚀🧠 and a family 👩‍👩‍👧",
    "عربى right to left עברית",
    "x" * 100_000 + "end",
    "",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_text_round_trips_exactly(repo, text):
    sid = repo.create_session(user=text, mode="interview", scenario_id=text, state={"text": text, text: 1})
    repo.add_turn(sid, "candidate", text, {"note": text})
    repo.add_hint(sid, 1, text, 1, text)
    repo.save_scorecard(sid, None, json.dumps({"text": text}, ensure_ascii=False))
    record = repo.get_session(sid)
    assert record is not None
    assert record.user == text and record.scenario_id == text
    assert record.state == {"text": text, text: 1}
    (turn,) = repo.turns(sid)
    assert turn.content == text and turn.meta == {"note": text}
    (hint,) = repo.hints(sid)
    assert hint.text == text and hint.item_id == text
    assert json.loads(repo.scorecards(sid)[None]) == {"text": text}
    assert [s.id for s in repo.list_sessions(text)] == [sid]


def test_nul_characters_are_stored_in_full_in_sqlite(sqlite_url):
    repo = SessionRepository(sqlite_url)
    sid = new_session(repo)
    repo.add_turn(sid, "candidate", "a\x00b\x00c")
    repo.close()
    conn = sqlite3.connect(sqlite_url[len("sqlite:///") :])
    try:
        assert conn.execute("SELECT length(CAST(content AS BLOB)) FROM turns").fetchone() == (5,)
    finally:
        conn.close()


def test_lone_surrogates_are_stored_as_replacement_characters(repo):
    sid = repo.create_session(user="ana", mode="interview", scenario_id=None, state={"k\ud800": "v\udfff"})
    repo.add_turn(sid, "candidate", "broken \ud800 text", {"m": "\udc00"})
    repo.add_hint(sid, 1, "\ud800", 1, "\ud800")
    repo.record_mastery("ana", "concept", "key\ud800", 0.5, sid)
    record = repo.get_session(sid)
    assert record is not None
    assert record.state == {"k\ufffd": "v\ufffd"}
    (turn,) = repo.turns(sid)
    assert turn.content == "broken \ufffd text"
    assert turn.meta == {"m": "\ufffd"}
    assert repo.hints(sid)[0].text == "\ufffd"
    assert list(repo.mastery("ana", "concept")) == ["key\ufffd"]
    assert repo.weakest("ana", "concept", ["key\ud800", "other"], 1) == ["other"]


def test_clean_text_joins_surrogate_pairs():
    assert clean_text("\ud83d\ude80") == "🚀"
    assert clean_text("a\ud83db") == "a\ufffdb"
    assert clean_text("plain 🚀") == "plain 🚀"


# -- failures ---------------------------------------------------------------------------------------------------------


def set_read_only(repo: SessionRepository, read_only: bool) -> None:
    """Make the database refuse writes (or accept them again), in a way that holds even for root."""
    if repo.database.kind == "sqlite":
        repo.database.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
    else:
        repo.database.execute(f"SET default_transaction_read_only = {'on' if read_only else 'off'}")


def test_read_only_database_raises_a_readable_database_error(repo):
    sid = new_session(repo)
    repo.add_turn(sid, "candidate", "kept")
    set_read_only(repo, True)
    where = re.escape(repo.database.where)
    for write in (
        lambda: repo.add_turn(sid, "candidate", "lost"),
        lambda: repo.save_state(sid, {}),
        lambda: new_session(repo),
        lambda: repo.record_mastery("ana", "step", "1", 0.5, sid),
        lambda: repo.add_hint(sid, 1, None, 1, "lost"),
        lambda: repo.save_scorecard(sid, None, "{}"),
    ):
        message = rf"^The session database is read-only: {where} cannot be written"
        with pytest.raises(DatabaseError, match=message) as info:
            write()
        assert isinstance(info.value.__cause__, repo.database.driver_errors)
        assert "\n" not in str(info.value)
        assert not repo.database.in_transaction
    assert [t.content for t in repo.turns(sid)] == ["kept"]  # reads still work, nothing half-written
    set_read_only(repo, False)
    assert repo.add_turn(sid, "interviewer", "next") == 2  # the session goes on once writable
    assert [t.content for t in repo.turns(sid)] == ["kept", "next"]
    assert repo.get_session(sid) is not None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_raises_a_readable_database_error(sqlite_url, tmp_path):
    repository = SessionRepository(sqlite_url)
    sid = new_session(repository)
    repository.close()
    folder = tmp_path / "data"
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        with pytest.raises(DatabaseError, match=r"read-only|cannot be opened"):
            reopened = SessionRepository(sqlite_url)
            reopened.add_turn(sid, "candidate", "lost")
    finally:
        folder.chmod(0o755)
        for path in folder.iterdir():
            path.chmod(0o644)


def test_full_disk_raises_a_readable_database_error(sqlite_url):
    repo = SessionRepository(sqlite_url)
    sid = new_session(repo)
    repo.add_turn(sid, "candidate", "kept")
    (pages,) = repo.database.execute("PRAGMA page_count").rows[0]
    repo.database.execute(f"PRAGMA max_page_count={pages}")  # the file may not grow: SQLite answers SQLITE_FULL
    with pytest.raises(DatabaseError, match=r"^The disk is full: ") as info:
        repo.add_turn(sid, "candidate", "y" * 100_000)
    assert isinstance(info.value.__cause__, sqlite3.Error)
    assert "\n" not in str(info.value)
    assert not repo.database.in_transaction
    assert [t.content for t in repo.turns(sid)] == ["kept"]
    repo.database.execute("PRAGMA max_page_count=1073741823")  # room again: the same session goes on
    assert repo.add_turn(sid, "candidate", "y" * 100_000) == 2
    assert [t.seq for t in repo.turns(sid)] == [1, 2]
    repo.close()


def test_unsupported_url_raises_database_error(tmp_path):
    with pytest.raises(DatabaseError, match="Unsupported database URL"):
        SessionRepository(f"mysql://{tmp_path}")


# -- threads ----------------------------------------------------------------------------------------------------------


def test_concurrent_add_turn_stores_every_turn_with_unique_seq(repo):
    sid = new_session(repo)
    threads_count, per_thread = 8, 25
    returned: list[int] = []
    errors: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(threads_count)

    def writer(worker: int) -> None:
        start.wait()
        for i in range(per_thread):
            try:
                seq = repo.add_turn(sid, "candidate", f"{worker}-{i}")
            except BaseException as exc:  # collected and asserted below
                with guard:
                    errors.append(exc)
                return
            with guard:
                returned.append(seq)

    workers = [threading.Thread(target=writer, args=(w,)) for w in range(threads_count)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    total = threads_count * per_thread
    assert errors == []
    assert sorted(returned) == list(range(1, total + 1))
    turns = repo.turns(sid)
    assert [t.seq for t in turns] == list(range(1, total + 1))
    assert sorted(t.content for t in turns) == sorted(
        f"{w}-{i}" for w in range(threads_count) for i in range(per_thread)
    )
    for worker in range(threads_count):  # each thread's own turns keep their order
        mine = [int(t.content.split("-")[1]) for t in turns if t.content.startswith(f"{worker}-")]
        assert mine == list(range(per_thread))


def test_two_instances_on_one_database_share_the_sequence(url):
    one, two = SessionRepository(url), SessionRepository(url)
    sid = new_session(one)
    seqs = [one.add_turn(sid, "a", "1"), two.add_turn(sid, "b", "2"), one.add_turn(sid, "a", "3")]
    assert seqs == [1, 2, 3]
    one.close()
    two.close()


def test_concurrent_instances_store_every_turn_with_unique_seq(url):
    """Several processes (here: one repository each) writing to one session never lose or duplicate a turn."""
    repos = [SessionRepository(url) for _ in range(4)]
    sid = new_session(repos[0])
    per_repo = 15
    errors: list[BaseException] = []
    start = threading.Barrier(len(repos))

    def writer(index: int) -> None:
        start.wait()
        try:
            for i in range(per_repo):
                repos[index].add_turn(sid, "candidate", f"{index}-{i}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(len(repos))]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert errors == []
    turns = repos[1].turns(sid)
    assert [t.seq for t in turns] == list(range(1, len(repos) * per_repo + 1))
    assert sorted(t.content for t in turns) == sorted(f"{r}-{i}" for r in range(len(repos)) for i in range(per_repo))
    for repository in repos:
        repository.close()

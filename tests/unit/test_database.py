"""Database URLs, the NUL escape for PostgreSQL text, and connections that fail or drop."""

import pytest

from app.sessions.database import (
    DatabaseError,
    check_writable,
    connect,
    database_kind,
    escape_nul,
    redact,
    unescape_nul,
)
from app.sessions.repository import SessionRepository
from tests.postgres_server import free_port


def test_database_kind_by_scheme():
    assert database_kind("sqlite:////tmp/x.sqlite3") == "sqlite"
    assert database_kind("postgresql://u@h:5432/db") == "postgresql"
    assert database_kind("postgres://u@h/db") == "postgresql"
    for bad in ("mysql://u@h/db", "sqlite://relative", "/tmp/file.sqlite3", ""):
        with pytest.raises(DatabaseError, match="Unsupported database URL"):
            database_kind(bad)


def test_redact_hides_only_the_password():
    assert (
        redact("postgresql://app:s3cret@db.internal:5433/sessions") == "postgresql://app:***@db.internal:5433/sessions"
    )
    assert redact("postgresql://app@db/sessions") == "postgresql://app@db/sessions"
    assert redact("sqlite:////data/sessions.sqlite3") == "sqlite:////data/sessions.sqlite3"


@pytest.mark.parametrize(
    "text", ["", "plain", "\x00", "a\x00b", "\x01", "\x010", "\x01\x00\x01\x01", "x\x01\x01\x000y", "🚀\x00"]
)
def test_nul_escape_round_trips_and_removes_nul(text):
    stored = escape_nul(text)
    assert "\x00" not in stored
    assert unescape_nul(stored) == text


def test_unreachable_postgres_is_a_one_line_error_without_the_password():
    url = f"postgresql://app:pw-sentinel-123@127.0.0.1:{free_port()}/sessions"
    with pytest.raises(DatabaseError, match=r"^The session database server at postgresql://app:\*\*\*@") as info:
        SessionRepository(url)
    assert "pw-sentinel-123" not in str(info.value)
    assert "cannot be reached" in str(info.value)
    assert "\n" not in str(info.value)


def test_check_writable_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'db' / 's.sqlite3'}"
    check_writable(url, "1")
    check_writable(url, "2")
    conn = connect(url)
    assert conn.execute("SELECT value FROM meta WHERE key = 'doctor'").rows == [("2",)]
    conn.close()


def test_check_writable_on_postgres(postgres_url):
    check_writable(postgres_url, "1")
    check_writable(postgres_url, "2")
    conn = connect(postgres_url)
    assert conn.execute("SELECT value FROM meta WHERE key = 'doctor'").rows == [("2",)]
    conn.close()


def test_postgres_text_is_stored_without_nul(postgres_url):
    with SessionRepository(postgres_url) as repo:
        sid = repo.create_session(user="ana", mode="interview", scenario_id=None, state={})
        repo.add_turn(sid, "candidate", "a\x00b")
        raw = repo.database._conn.execute("SELECT content FROM turns").fetchone()  # bypasses the decoding
        assert raw == ("a\x010b",)
        assert repo.turns(sid)[0].content == "a\x00b"


def test_a_dropped_postgres_connection_is_reopened(postgres_url, postgres_server):
    """A server restart or fail-over between two turns costs nothing: the next write reconnects."""
    import psycopg

    with SessionRepository(postgres_url) as repo:
        sid = repo.create_session(user="ana", mode="interview", scenario_id=None, state={})
        repo.add_turn(sid, "candidate", "before")
        (pid,) = repo.database.execute("SELECT pg_backend_pid()").rows[0]
        with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert repo.add_turn(sid, "interviewer", "after") == 2
        assert [t.content for t in repo.turns(sid)] == ["before", "after"]
        (new_pid,) = repo.database.execute("SELECT pg_backend_pid()").rows[0]
        assert new_pid != pid

"""Persistence of interview sessions (turns, hints, scorecards, mastery) on SQLite (WAL mode) or PostgreSQL.

Every write is committed (on SQLite with ``PRAGMA synchronous=FULL``) before its method returns, so a crash right
after a call loses nothing. One connection is shared by all threads and guarded by a lock; several processes may share
the database (SQLite writes take ``BEGIN IMMEDIATE``; on PostgreSQL a turn locks its session row), and lock waits end
after 10 s.

Text: all strings are stored as given (NUL characters, emoji, right-to-left text, long messages round-trip exactly),
except that lone UTF-16 surrogates (e.g. ``"\\ud800"``), which cannot be encoded as UTF-8, are stored as U+FFFD (a
well-formed surrogate pair is joined into the character it encodes). ``state`` and ``meta`` are stored as JSON, so
they come back as JSON would give them (tuples as lists, non-string keys as strings).

Errors: every database failure is raised as :class:`app.sessions.database.DatabaseError` with one readable
sentence; an unknown session id in a write raises :class:`KeyError`.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Self

from app.sessions.database import Connection, DatabaseError, connect

SCHEMA_VERSION = 1
MASTERY_KINDS = ("step", "concept")
RECENT_SCORES = 3  # weakest() averages the last this many scores of a key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    "user" TEXT NOT NULL,
    mode TEXT NOT NULL,
    scenario_id TEXT,
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at {float} NOT NULL,
    updated_at {float} NOT NULL{session_order_column}
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions ("user", created_at);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    meta TEXT NOT NULL,
    created_at {float} NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS hints (
    id {serial_key},
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    item_id TEXT,
    level INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at {float} NOT NULL
);
CREATE INDEX IF NOT EXISTS hints_by_session ON hints (session_id, id);
CREATE TABLE IF NOT EXISTS scorecards (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    step INTEGER,
    card_json TEXT NOT NULL,
    created_at {float} NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS scorecards_one_per_step ON scorecards (session_id, COALESCE(step, -1));
CREATE TABLE IF NOT EXISTS mastery (
    id {serial_key},
    "user" TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    score {float} NOT NULL,
    session_id TEXT NOT NULL,
    created_at {float} NOT NULL
);
CREATE INDEX IF NOT EXISTS mastery_by_user ON mastery ("user", kind, key, id);
"""

_SESSION_COLUMNS = 'id, "user", mode, scenario_id, state, status, created_at, updated_at'
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class SessionRecord:
    """One interview session as stored."""

    id: str
    user: str
    mode: str
    scenario_id: str | None
    state: dict[str, Any]
    status: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class TurnRecord:
    """One message of a session, numbered from 1."""

    seq: int
    role: str
    content: str
    meta: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class HintRecord:
    """One hint given during a session."""

    step: int
    item_id: str | None
    level: int
    text: str
    created_at: float


def clean_text(text: str) -> str:
    """Return text storable as UTF-8: surrogate pairs joined, lone surrogates replaced with U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _opt_text(text: str | None) -> str | None:
    """Clean text that may be None."""
    return None if text is None else clean_text(text)


def _to_json(value: Any, what: str) -> str:
    """Serialise value as JSON text safe to store."""
    try:
        return clean_text(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"The {what} must be JSON-serialisable: {exc}") from exc


class Records:
    """One SQLite file or PostgreSQL database with the session schema: the connection under a lock, transactions,
    readable errors and schema migration. `SessionRepository` adds what is stored in it."""

    def __init__(self, url: str) -> None:
        """Open (creating if needed) the database at a ``sqlite:///PATH`` or ``postgresql://...`` url and its tables."""
        self._lock = threading.RLock()
        db = connect(url)
        self._path = db.where
        self._db: Connection | None = db
        try:
            with self._errors():
                self._migrate(db)
        except BaseException:
            db.close()
            self._db = None
            raise

    @property
    def database(self) -> Connection:
        """The open database connection (for maintenance and tests); DatabaseError once closed."""
        return self._live()

    # -- plumbing -----------------------------------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn driver failures into DatabaseError with a readable sentence."""
        db = self._db
        if db is None:
            yield
            return
        try:
            yield
        except db.driver_errors as exc:
            raise DatabaseError(db.describe(exc)) from exc

    def _live(self) -> Connection:
        """The open connection, or DatabaseError once closed."""
        if self._db is None:
            raise DatabaseError(f"The session repository for {self._path} is closed.")
        return self._db

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """The connection, locked, for reading."""
        with self._lock:
            db = self._live()
            with self._errors():
                yield db

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """The connection inside a write transaction; rolled back if the block raises."""
        with self._lock:
            db = self._live()
            with self._errors():
                db.begin()
                try:
                    yield db
                    db.commit()
                except BaseException:
                    if db.in_transaction:
                        with suppress(*db.driver_errors):
                            db.rollback()
                    raise

    def _migrate(self, db: Connection) -> None:
        """Create the tables and record the schema version; a read-only database that is up to date is left alone."""
        version = self._schema_version(db)
        if version == SCHEMA_VERSION:
            return
        self._check_version(version)
        db.begin()
        try:
            db.lock_schema()
            version = self._schema_version(db)  # another process may have created it meanwhile
            self._check_version(version)
            if version != SCHEMA_VERSION:
                self._create_tables(db)
            db.commit()
        except BaseException:
            if db.in_transaction:
                with suppress(*db.driver_errors):
                    db.rollback()
            raise

    def _check_version(self, version: int | None) -> None:
        """DatabaseError for a schema written by a newer program."""
        if version is not None and version > SCHEMA_VERSION:
            raise DatabaseError(
                f"The session database at {self._path} has schema version {version}, newer than this program's "
                f"{SCHEMA_VERSION}; upgrade the program."
            )

    @staticmethod
    def _create_tables(db: Connection) -> None:
        """Create every table and index in this database's dialect and record the schema version."""
        order = f",\n    {db.session_order_column}" if db.session_order_column else ""
        schema = _SCHEMA.format(float=db.float_type, serial_key=db.serial_key, session_order_column=order)
        for statement in schema.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )

    def _schema_version(self, db: Connection) -> int | None:
        """The schema version recorded in the meta table, or None."""
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").one()
        if row is None:
            return None
        try:
            return int(row[0])
        except ValueError as exc:
            raise DatabaseError(f"The session database at {self._path} has an unreadable schema version.") from exc

    def close(self) -> None:
        """Close the connection; later calls raise DatabaseError. Safe to call twice."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Self:
        """Use the repository as a context manager that closes it."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close on leaving the with block."""
        self.close()


class SessionRepository(Records):
    """Sessions, turns, hints, scorecards and mastery scores."""

    @staticmethod
    def _require_session(db: Connection, session_id: str) -> None:
        """Raise KeyError if the session does not exist; otherwise lock its row until the transaction ends."""
        if db.execute(f"SELECT 1 FROM sessions WHERE id = ?{db.lock_clause}", (session_id,)).one() is None:
            raise KeyError(f"No interview session with id {session_id!r}")

    @staticmethod
    def _session(row: tuple[Any, ...]) -> SessionRecord:
        """Build a SessionRecord from a sessions row."""
        sid, user, mode, scenario_id, state, status, created_at, updated_at = row
        return SessionRecord(sid, user, mode, scenario_id, json.loads(state), status, created_at, updated_at)

    # -- sessions -----------------------------------------------------------------------------------------------------

    def create_session(self, *, user: str, mode: str, scenario_id: str | None, state: dict[str, Any]) -> str:
        """Store a new active session and return its id (uuid4 hex)."""
        session_id = uuid.uuid4().hex
        state_json = _to_json(state, "session state")
        now = time.time()
        with self._write() as conn:
            conn.execute(
                'INSERT INTO sessions (id, "user", mode, scenario_id, state, status, created_at, updated_at) '
                "VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
                (session_id, clean_text(user), clean_text(mode), _opt_text(scenario_id), state_json, now, now),
            )
        return session_id

    def get_session(self, session_id: str) -> SessionRecord | None:
        """The session with this id, or None."""
        session_id = clean_text(session_id)
        with self._read() as conn:
            row = conn.execute(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).one()
        return None if row is None else self._session(row)

    def save_state(self, session_id: str, state: dict[str, Any], status: str | None = None) -> None:
        """Replace a session's state (and its status when given)."""
        session_id = clean_text(session_id)
        state_json = _to_json(state, "session state")
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE sessions SET state = ?, status = COALESCE(?, status), updated_at = ? WHERE id = ?",
                (state_json, _opt_text(status), time.time(), session_id),
            )
            if cur.rowcount == 0:
                raise KeyError(f"No interview session with id {session_id!r}")

    def list_sessions(self, user: str, limit: int = 50) -> list[SessionRecord]:
        """A user's sessions, newest first, at most limit."""
        with self._read() as conn:
            rows = conn.execute(
                f'SELECT {_SESSION_COLUMNS} FROM sessions WHERE "user" = ? '
                f"ORDER BY created_at DESC, {conn.session_order} DESC LIMIT ?",
                (clean_text(user), max(0, limit)),
            ).rows
        return [self._session(row) for row in rows]

    # -- turns, hints, scorecards -------------------------------------------------------------------------------------

    def add_turn(self, session_id: str, role: str, content: str, meta: dict[str, Any] | None = None) -> int:
        """Append a message to a session and return its sequence number (1, 2, ...)."""
        session_id = clean_text(session_id)
        meta_json = _to_json(meta or {}, "turn metadata")
        now = time.time()
        with self._write() as conn:
            self._require_session(conn, session_id)
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE session_id = ?", (session_id,)
            ).rows[0]
            conn.execute(
                "INSERT INTO turns (session_id, seq, role, content, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, seq, clean_text(role), clean_text(content), meta_json, now),
            )
            conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))
        return int(seq)

    def turns(self, session_id: str) -> list[TurnRecord]:
        """A session's messages in sequence order (empty for an unknown session)."""
        session_id = clean_text(session_id)
        with self._read() as conn:
            rows = conn.execute(
                "SELECT seq, role, content, meta, created_at FROM turns WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).rows
        return [
            TurnRecord(seq, role, content, json.loads(meta), created_at)
            for seq, role, content, meta, created_at in rows
        ]

    def add_hint(self, session_id: str, step: int, item_id: str | None, level: int, text: str) -> None:
        """Record a hint given during a session."""
        session_id = clean_text(session_id)
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                "INSERT INTO hints (session_id, step, item_id, level, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, int(step), _opt_text(item_id), int(level), clean_text(text), time.time()),
            )

    def hints(self, session_id: str) -> list[HintRecord]:
        """A session's hints in the order given."""
        session_id = clean_text(session_id)
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step, item_id, level, text, created_at FROM hints WHERE session_id = ? ORDER BY id",
                (session_id,),
            ).rows
        return [HintRecord(*row) for row in rows]

    def save_scorecard(self, session_id: str, step: int | None, card_json: str) -> None:
        """Store a step's scorecard (step None: the final one), replacing an earlier one for the same step."""
        session_id = clean_text(session_id)
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                "DELETE FROM scorecards WHERE session_id = ? AND step IS NOT DISTINCT FROM ?", (session_id, step)
            )
            conn.execute(
                "INSERT INTO scorecards (session_id, step, card_json, created_at) VALUES (?, ?, ?, ?)",
                (session_id, step, clean_text(card_json), time.time()),
            )

    def scorecards(self, session_id: str) -> dict[int | None, str]:
        """A session's scorecards by step (None: the final one)."""
        session_id = clean_text(session_id)
        with self._read() as conn:
            rows = conn.execute(
                "SELECT step, card_json FROM scorecards WHERE session_id = ? ORDER BY COALESCE(step, 1e9)",
                (session_id,),
            ).rows
        return {step: card for step, card in rows}

    # -- mastery ------------------------------------------------------------------------------------------------------

    def record_mastery(self, user: str, kind: str, key: str, score: float, session_id: str) -> None:
        """Append a score (0..1) for a user's step or concept."""
        if kind not in MASTERY_KINDS:
            raise ValueError(f"Mastery kind must be one of {', '.join(MASTERY_KINDS)}, not {kind!r}")
        if not (isinstance(score, int | float) and math.isfinite(score) and 0.0 <= score <= 1.0):
            raise ValueError(f"A mastery score must be between 0 and 1, not {score!r}")
        with self._write() as conn:
            conn.execute(
                'INSERT INTO mastery ("user", kind, key, score, session_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
                (clean_text(user), kind, clean_text(key), float(score), clean_text(session_id), time.time()),
            )

    def mastery(self, user: str, kind: str) -> dict[str, list[tuple[float, float]]]:
        """A user's scores per key: key -> [(timestamp, score)], oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                'SELECT key, created_at, score FROM mastery WHERE "user" = ? AND kind = ? ORDER BY id',
                (clean_text(user), kind),
            ).rows
        history: dict[str, list[tuple[float, float]]] = {}
        for key, created_at, score in rows:
            history.setdefault(key, []).append((created_at, score))
        return history

    def weakest(self, user: str, kind: str, keys: list[str], n: int) -> list[str]:
        """The n keys with the lowest average of their last 3 scores; never-scored keys first, ties in keys order."""
        history = self.mastery(user, kind)
        ranked: list[tuple[int, float, int, str]] = []
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                continue
            seen.add(key)
            recent = [score for _, score in history.get(clean_text(key), [])[-RECENT_SCORES:]]
            if recent:
                ranked.append((1, sum(recent) / len(recent), index, key))
            else:
                ranked.append((0, 0.0, index, key))
        ranked.sort()
        return [key for *_, key in ranked[: max(0, n)]]

    # -- lifecycle ----------------------------------------------------------------------------------------------------

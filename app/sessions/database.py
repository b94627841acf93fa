"""Session database connections: SQLite in WAL mode (the default) or PostgreSQL, behind one small interface.

A URL picks the database: ``sqlite:///PATH`` or ``postgresql://USER:PASSWORD@HOST:PORT/NAME`` (``postgres://`` is
accepted too). Both connections run in autocommit mode; callers open transactions with :meth:`Connection.begin`.
SQL is written once with ``?`` placeholders and a quoted ``"user"`` column, and each connection supplies the few
pieces that differ (column types, a row-lock clause, the insertion order of sessions).

Driver failures are described in one readable sentence by :meth:`Connection.describe`, and a URL is only ever shown
with its password hidden (:func:`redact`).
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

DatabaseKind = Literal["sqlite", "postgresql"]

# Primary SQLite result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26

# PostgreSQL text cannot hold NUL, so stored text escapes it: \x01 -> \x01\x01 and \x00 -> \x01\x30.
_ESCAPE, _NUL = "\x01", "\x00"
_ESCAPED = re.compile("\x01(.)", re.DOTALL)
_UNESCAPE = {"\x01": "\x01", "0": "\x00"}

# Serialises schema creation when several app instances start against one PostgreSQL database.
_SCHEMA_LOCK_KEY = 7_260_411_902


class DatabaseError(RuntimeError):
    """The session database cannot be opened or written."""


@dataclass(frozen=True)
class Result:
    """The rows a statement returned and the number of rows it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def one(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None


def database_kind(url: str) -> DatabaseKind:
    """Which database a URL names; DatabaseError for any other scheme."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if url.startswith("sqlite:///"):
        return "sqlite"
    if scheme in ("postgresql", "postgres") and url.lower().startswith(f"{scheme}://"):
        return "postgresql"
    raise DatabaseError(
        f"Unsupported database URL {scheme or url[:20]}:...; use sqlite:///PATH or postgresql://USER@HOST:PORT/NAME"
    )


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///PATH`` URL names."""
    if database_kind(url) != "sqlite":
        raise DatabaseError(f"Not a SQLite URL: {redact(url)}")
    return Path(url[len("sqlite:///") :])


def escape_nul(text: str) -> str:
    """Text without NUL characters that :func:`unescape_nul` turns back into the original."""
    if _ESCAPE not in text and _NUL not in text:
        return text
    return text.replace(_ESCAPE, _ESCAPE + _ESCAPE).replace(_NUL, _ESCAPE + "0")


def unescape_nul(text: str) -> str:
    """Undo :func:`escape_nul`."""
    if _ESCAPE not in text:
        return text
    return _ESCAPED.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(0)), text)


class Connection(ABC):
    """One open session database, in autocommit mode."""

    kind: DatabaseKind
    where: str  # where the database is, safe to show (no password)
    driver_errors: tuple[type[BaseException], ...]
    float_type: str  # column type of timestamps and scores
    serial_key: str  # an auto-numbered integer primary key column
    session_order_column: str  # extra sessions column that records insertion order ("" if built in)
    session_order: str  # expression ordering sessions by insertion
    lock_clause: str  # appended to a SELECT to lock the rows it reads until the transaction ends

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run one statement with ``?`` placeholders and fetch what it returns."""

    @abstractmethod
    def begin(self) -> None:
        """Start a transaction that takes the write lock as soon as it can."""

    def commit(self) -> None:
        """Commit the open transaction."""
        self.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction."""
        self.execute("ROLLBACK")

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or failed and not yet rolled back)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @abstractmethod
    def describe(self, exc: BaseException) -> str:
        """One readable sentence for a driver failure."""

    def lock_schema(self) -> None:  # noqa: B027 - a no-op where the write transaction already excludes others
        """Inside a transaction: wait until no other process is creating the schema."""


class SqliteConnection(Connection):
    """A SQLite file in WAL mode with foreign keys on and full fsync on commit."""

    kind: DatabaseKind = "sqlite"
    driver_errors = (sqlite3.Error,)
    float_type = "REAL"
    serial_key = "INTEGER PRIMARY KEY AUTOINCREMENT"
    session_order_column = ""
    session_order = "rowid"
    lock_clause = ""

    def __init__(self, url: str) -> None:
        path = sqlite_path(url)
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"Cannot create the folder of the session database at {path}: {exc}") from exc
        try:
            self._conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseError(self.describe(exc)) from exc
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except sqlite3.Error as exc:
            self._conn.close()
            raise DatabaseError(self.describe(exc)) from exc

    @property
    def raw(self) -> sqlite3.Connection:
        """The underlying sqlite3 connection (for pragmas in tests and tools)."""
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        cur = self._conn.execute(sql, tuple(params))
        rows = cur.fetchall()
        return Result(rows, cur.rowcount)

    def begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def close(self) -> None:
        self._conn.close()

    def describe(self, exc: BaseException) -> str:
        path = self.where
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        if primary == _SQLITE_READONLY:
            return f"The session database is read-only: {path} cannot be written ({exc})."
        if primary == _SQLITE_FULL:
            return f"The disk is full: the session database at {path} cannot grow ({exc})."
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return f"The session database at {path} is locked by another process; try again ({exc})."
        if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return f"The session database at {path} is damaged or is not a SQLite database ({exc})."
        if primary == _SQLITE_IOERR:
            return (
                f"The session database at {path} could not be read or written; the disk may be full or failing ({exc})."
            )
        if primary == _SQLITE_CANTOPEN:
            return f"The session database at {path} cannot be opened; check the folder exists and is writable ({exc})."
        return f"The session database at {path} failed: {exc}."


def _pg_describe(where: str, sqlstate: str | None, exc: BaseException) -> str:
    """One sentence for a PostgreSQL failure, chosen by its SQLSTATE."""
    detail = " ".join(str(exc).split())
    state = sqlstate or ""
    if state == "25006":
        return f"The session database is read-only: {where} cannot be written ({detail})."
    if state == "53100":
        return f"The disk is full: the session database at {where} cannot grow ({detail})."
    if state.startswith("53"):
        return f"The session database server at {where} is out of resources; try again ({detail})."
    if state in ("55P03", "40P01", "40001"):
        return f"The session database at {where} is locked by another process; try again ({detail})."
    if state == "42501":
        return f"The session database at {where} refuses the write: permission denied ({detail})."
    if state.startswith("28"):
        return f"The session database at {where} refused the login; check the user and password ({detail})."
    if state == "3D000":
        return f"The session database at {where} does not exist; create it first ({detail})."
    if state.startswith("57P"):
        return f"The session database server at {where} closed the connection; try again ({detail})."
    if state.startswith("08") or not state:
        return f"The session database server at {where} cannot be reached; is it running? ({detail})."
    return f"The session database at {where} failed: {detail}."


class PostgresConnection(Connection):
    """A PostgreSQL database through psycopg 3; a connection that broke is reopened before the next statement."""

    kind: DatabaseKind = "postgresql"
    float_type = "DOUBLE PRECISION"
    serial_key = "BIGSERIAL PRIMARY KEY"
    session_order_column = "created_seq BIGSERIAL NOT NULL"
    session_order = "created_seq"
    lock_clause = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.driver_errors = (psycopg.Error,)
        self._url = url
        self.where = redact(url)
        self._conn = self._open()
        try:
            self.begin()
            self.lock_schema()
            self.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.commit()
        except psycopg.Error as exc:
            self._conn.close()
            raise DatabaseError(self.describe(exc)) from exc

    def _open(self) -> Any:
        """A new autocommit connection; locks are waited for at most 10 s, like SQLite's busy timeout."""
        try:
            return self._psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=10,
                application_name="mockinterview",
                options="-c lock_timeout=10000",
            )
        except self._psycopg.Error as exc:
            raise DatabaseError(self.describe(exc)) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        values = [escape_nul(p) if isinstance(p, str) else p for p in params]
        query = sql.replace("?", "%s")
        outside = not self.in_transaction
        if outside and self._conn.broken:
            self._conn = self._open()
        try:
            cur = self._conn.execute(query, values, prepare=False)
        except self._psycopg.OperationalError:
            if not (outside and self._conn.broken):
                raise
            # The server dropped the connection (a restart, a fail-over) before this statement, which opened no
            # transaction: nothing was written, so it is safe to reconnect and run it once more.
            self._conn = self._open()
            cur = self._conn.execute(query, values, prepare=False)
        rows = cur.fetchall() if cur.description is not None else []
        decoded = [tuple(unescape_nul(v) if isinstance(v, str) else v for v in row) for row in rows]
        return Result(decoded, cur.rowcount)

    def begin(self) -> None:
        self.execute("BEGIN")

    @property
    def in_transaction(self) -> bool:
        status = self._conn.info.transaction_status
        return status in (status.INTRANS, status.INERROR)

    def close(self) -> None:
        self._conn.close()

    def describe(self, exc: BaseException) -> str:
        return _pg_describe(self.where, getattr(exc, "sqlstate", None), exc)

    def lock_schema(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK_KEY,))


def connect(url: str) -> Connection:
    """Open (creating if needed) the session database a URL names; DatabaseError with a readable sentence if not."""
    if database_kind(url) == "sqlite":
        return SqliteConnection(url)
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise DatabaseError("PostgreSQL needs the psycopg package: pip install 'psycopg[binary]'.") from exc
    return PostgresConnection(url)


def check_writable(url: str, marker: str) -> None:
    """Write a marker row to the database's meta table; DatabaseError if the database cannot be written."""
    conn = connect(url)
    try:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('doctor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (marker,),
        )
    except conn.driver_errors as exc:
        raise DatabaseError(conn.describe(exc)) from exc
    finally:
        conn.close()

"""The session database connection: SQLite in WAL mode by default."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class DatabaseError(RuntimeError):
    """The session database cannot be opened or written."""


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise DatabaseError(f"Unsupported database URL {url.split(':', 1)[0]}:...; use sqlite:///PATH")
    return Path(url[len("sqlite:///") :])


def connect(url: str) -> sqlite3.Connection:
    """Open (creating if needed) the database, in WAL mode, and check it accepts writes."""
    path = sqlite_path(url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return conn
    except (sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"Cannot open the session database at {path}: {exc}") from exc

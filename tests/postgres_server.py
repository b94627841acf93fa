"""A throwaway PostgreSQL server for tests: a fresh cluster in a temporary folder, on 127.0.0.1 and a free port.

Set MOCKINTERVIEW_TEST_POSTGRES_URL to a superuser URL of a running server to use that one instead. PostgreSQL
refuses to run as root, so under root the cluster belongs to the ``postgres`` user and its commands run through
``runuser``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "mockinterview_test"
INSTALL_HINT = "PostgreSQL is not installed: apt-get install -y postgresql"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL binaries are missing."""


def find_binary(name: str) -> str | None:
    """A PostgreSQL program on PATH or in Debian's versioned folders (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server and how to reach it; ``database()`` hands out empty databases."""

    admin_url: str
    base_url: str  # without the database name
    folder: Path | None = None
    pg_ctl: list[str] = field(default_factory=list)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        return f"{self.base_url}/{name}"

    def stop(self) -> None:
        """Stop a server these tests started and delete its folder."""
        if self.folder is None:
            return
        subprocess.run([*self.pg_ctl, "stop", "-m", "immediate"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _as_owner(command: list[str]) -> list[str]:
    """Run a command as the cluster's owner: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("runuser is missing: cannot start PostgreSQL as a non-root user")
    return [runuser, "-u", "postgres", "--", *command]


def start_postgres() -> PostgresServer:
    """Start a server for the tests (or use MOCKINTERVIEW_TEST_POSTGRES_URL)."""
    given = os.environ.get("MOCKINTERVIEW_TEST_POSTGRES_URL")
    if given:
        return PostgresServer(admin_url=given, base_url=given.rsplit("/", 1)[0])
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailable(INSTALL_HINT)
    folder = Path(tempfile.mkdtemp(prefix="mockinterview-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data = folder / "data"
    init = [initdb, "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
    _run(_as_owner(init), folder)
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off"
    ctl = _as_owner([pg_ctl, "-D", str(data), "-l", str(folder / "server.log")])
    _run([*ctl, "-w", "-t", "60", "-o", options, "start"], folder)
    base = f"postgresql://{SUPERUSER}@127.0.0.1:{port}"
    return PostgresServer(admin_url=f"{base}/postgres", base_url=base, folder=folder, pg_ctl=ctl)


def _run(command: list[str], folder: Path) -> None:
    """Run a setup command; on failure remove the folder and raise with its output and the server log."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        log = folder / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

"""The llama.cpp model servers running on this machine, read from /proc, for the checks that tests leave none."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelServer:
    pid: int
    ppid: int
    cmdline: str


RUN_TAG = "TESTS_RUN_ID"  # set by the test run, inherited by every process it starts


def started_by_run(pid: int, run: str) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{RUN_TAG}={run}".encode() in environ


def model_servers(run: str | None = None) -> dict[int, ModelServer]:
    """Live (not zombie) llama.cpp servers, by pid (only those started by the test run `run`, if given)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if (
            b"app.llm.model_server" in cmdline
            and fields[0] != "Z"
            and (run is None or started_by_run(int(entry.name), run))
        ):
            text = b" ".join(cmdline).decode(errors="replace")
            found[int(entry.name)] = ModelServer(int(entry.name), int(fields[1]), text)
    return found


def left_since(
    before: dict[int, ModelServer], *, parent: int | None = None, run: str | None = None, grace_s: float = 5.0
) -> list[ModelServer]:
    """Servers started since `before` that are still running after `grace_s` (only children of `parent`, or only
    those of the test run `run`, if given)."""
    deadline = time.monotonic() + grace_s
    while True:
        left = [s for pid, s in model_servers(run).items() if pid not in before and parent in (None, s.ppid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def kill(servers: list[ModelServer]) -> None:
    for server in servers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGKILL)

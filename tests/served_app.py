"""The real app (`mockinterview serve`) as a child process on a free loopback port, for tests that talk to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.settings import PROJECT_DIR

READY_TIMEOUT_S = 900  # a cold start ingests the knowledge base and assembles the model


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A `mockinterview serve` child process and its address; `env` adds to or overrides the test environment."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        child_env = {
            **os.environ,
            "MOCKINTERVIEW_DATA_DIR": str(data_dir),
            "MOCKINTERVIEW_MAX_TOKENS": "64",
            "MOCKINTERVIEW_TEMPERATURE": "0",
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            **(env or {}),
        }
        child_env.pop("MOCKINTERVIEW_AUTH", None)
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from app.cli.main import main; main()", "serve", "--port", str(self.port), *extra],
            cwd=PROJECT_DIR,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.log: list[str] = []
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            if line.startswith("Ready:"):
                break
            if time.monotonic() - started > READY_TIMEOUT_S:
                break
        if self.proc.poll() is not None or not any(line.startswith("Ready:") for line in self.log):
            self.stop()
            raise RuntimeError("the app did not start:\n" + "".join(self.log[-30:]))
        self.ready_s = time.monotonic() - started
        # Keep reading the output so that a full pipe never blocks the app's logging.
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def output(self) -> str:
        """Everything the app printed, read to the end once it has exited."""
        if self.proc.poll() is not None:
            self._drainer.join(timeout=10)
        return "".join(self.log)

    def kill(self) -> None:
        """SIGKILL the whole process group at once: the app and its model server die without cleaning up."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop the app as Ctrl-C would, killing it if it does not exit in time."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

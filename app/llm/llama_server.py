"""The embedded model server: llama.cpp's OpenAI-compatible server as a child process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.lifecycle import Lifecycle

log = logging.getLogger(__name__)

ALIAS = "local"


class ServerError(RuntimeError):
    """The embedded model server could not be started or has stopped."""


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to kill it when the thread that started it ends, which is the app's
    long-lived spawner thread, so when the app dies, even by kill -9. SIGKILL, because on SIGTERM the server first
    finishes the replies in flight, which nobody would read."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: exit hooks still stop the server on a normal exit
        pass


@dataclass(frozen=True)
class ServerEval:
    """llama.cpp's own count of one request: prompt tokens it had to evaluate (the rest came from the KV cache)
    and tokens it generated."""

    prompt_tokens: int
    generated_tokens: int


_PROMPT_EVAL = re.compile(r"prompt eval time =\s*[\d.]+ ms /\s*(\d+) tokens")
_EVAL_RUNS = re.compile(r"^\S*\s+eval time =\s*[\d.]+ ms /\s*(\d+) runs", re.MULTILINE)


def parse_server_log(text: str) -> list[ServerEval]:
    """Every finished request in a llama.cpp server log, in order, from its performance report."""
    evals = []
    for block in text.split("prompt eval time")[1:]:
        prompt = _PROMPT_EVAL.match("prompt eval time" + block)
        runs = _EVAL_RUNS.search(block)
        if prompt is not None:
            # The first token is sampled from the prompt's logits, so it has no eval run of its own.
            evals.append(ServerEval(int(prompt.group(1)), int(runs.group(1)) + 1 if runs else 0))
    return evals


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_command(model: Path, port: int, n_ctx: int, n_threads: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable, "-m", "app.llm.model_server",  # llama-cpp-python's server, guarded (see there)
        "--model", str(model),
        "--model_alias", ALIAS,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(n_threads),
        # Logits of the last position only: the server's default keeps every prompt position's logits
        # (n_ctx x vocabulary floats, 2.5 GB at 4096 tokens) and computes them, which only logprobs need.
        "--logits_all", "false",
        # Requests wait their turn: by default a new request cuts a streaming one short, so two candidates
        # talking at once would each get a reply truncated mid-sentence.
        "--interrupt_requests", "false",
    ]  # fmt: skip


# A model server that dies of a fault of its own (not killed from outside) this many times in a row, each soon after it
# started, crashes on whatever it is asked: it is not started again, and callers get the reason at once.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT})
MAX_QUICK_CRASHES = 3
QUICK_CRASH_S = 120.0


def crashed(returncode: int | None) -> bool:
    """Whether a process ended on a fault signal of its own (segmentation fault, abort, illegal instruction ...)."""
    return returncode is not None and returncode < 0 and -returncode in CRASH_SIGNALS


def quick_crashes(previous: int, returncode: int | None, uptime_s: float) -> int:
    """The count of crashes in a row soon after a start, after one more death: an outside kill, a clean exit or a
    crash after a long healthy run starts the count again."""
    if not crashed(returncode):
        return 0
    return previous + 1 if uptime_s < QUICK_CRASH_S else 1


STOP_GRACE_S = 1.0  # a stopping server gets this long to exit on SIGTERM before it is killed (it holds no state)


class LlamaServer:
    """Starts, watches, restarts and stops one llama.cpp server process. Once its lifecycle is shutting down it is
    never started again."""

    def __init__(
        self,
        model: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        start_timeout_s: float = 120.0,
        port: int | None = None,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 2
        self.start_timeout_s = start_timeout_s
        self.port = port or 0
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.crashes = 0  # fault crashes in a row, each soon after a start
        self.gave_up = ""  # why restarts stopped, once the server kept crashing
        self._started_at = 0.0
        self.stopped = False  # stopped on purpose: a late caller that finds it down does not bring it back
        self.started_in_s: float | None = None
        self._log_file: Path | None = None
        self._lock = threading.Lock()
        self.lifecycle = lifecycle or Lifecycle()
        # Linux ties the parent-death signal to the thread that started the child: one thread that lives as long
        # as this object starts every process, so a restart made from a short-lived worker thread stays up.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="model-server-spawner")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> LlamaServer:
        """Start the process and wait until it answers, or raise a clear error."""
        with self._lock:
            self.stopped = False
            self.gave_up, self.crashes = "", 0
            return self._start_locked()

    def _start_locked(self) -> LlamaServer:
        if self.alive():
            return self
        if self.lifecycle.stopping:
            raise ServerError("The app is shutting down; the model server is not started again.")
        if not self.model.is_file():
            raise ServerError(f"Model file not found: {self.model}")
        self.port = self.port or free_port()
        handle, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        os.close(handle)
        self._log_file = Path(name)
        started = time.perf_counter()
        self.process = self._spawner.submit(self._spawn, self._log_file).result()
        self.lifecycle.register(self)
        try:
            self._wait_healthy()
        except ServerError:
            self._terminate()
            raise
        self.started_in_s = time.perf_counter() - started
        self._started_at = time.monotonic()
        log.info("model server ready on port %d in %.1fs (pid %d)", self.port, self.started_in_s, self.pid)
        return self

    def _spawn(self, log_file: Path) -> subprocess.Popen[bytes]:
        with log_file.open("wb") as log_handle:
            return subprocess.Popen(
                server_command(self.model, self.port, self.n_ctx, self.n_threads),
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the app, which then stops the server itself
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )

    def evals(self) -> list[ServerEval]:
        """The server's own report of every request it has finished so far."""
        if self._log_file is None or not self._log_file.exists():
            return []
        return parse_server_log(self._log_file.read_text(errors="replace"))

    def _log_tail(self, lines: int = 5) -> str:
        if self._log_file is None or not self._log_file.exists():
            return ""
        text = self._log_file.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        url = f"http://127.0.0.1:{self.port}/v1/models"
        while time.monotonic() < deadline:
            if self.lifecycle.stopping:
                raise ServerError("The app is shutting down; the model server start was abandoned.")
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(
                    f"The model server could not load {self.model} (exit code {self.process.returncode}); the file "
                    "may be truncated or not a model llama.cpp can run: check MOCKINTERVIEW_MODEL_PATH, or unset it "
                    f"to use the bundled model. Server log: {self._log_tail(1)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    models = json.loads(response.read())
                    if any(m.get("id") == ALIAS for m in models.get("data", [])):
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError, OSError):
                pass
            time.sleep(0.25)
        raise ServerError(
            f"The model server did not become ready within {self.start_timeout_s:.0f}s. "
            f"Raise MOCKINTERVIEW_SERVER_START_TIMEOUT_S on a slow machine. {self._log_tail()}"
        )

    def restart(self) -> None:
        """Start a fresh process on the same port after a failure (never once shutdown has begun, nor once the server
        was stopped on purpose: a call that comes late, from a thread still running after its owner closed the model,
        must not bring back a server nobody will stop). Two threads that both saw the server die restart it once: the
        second finds it alive (checked under the lock, so neither can forget a process the other has just started and
        leave it running)."""
        if self.lifecycle.stopping:
            raise ServerError("The app is shutting down; the model server is not restarted.")
        with self._lock:
            if self.alive():
                return
            if self.stopped:
                raise ServerError("The model server was stopped; it is not started again.")
            if self.gave_up:
                raise ServerError(self.gave_up)
            returncode = self.process.poll() if self.process is not None else None
            self.crashes = quick_crashes(self.crashes, returncode, time.monotonic() - self._started_at)
            if self.crashes >= MAX_QUICK_CRASHES and returncode is not None:
                self.gave_up = (
                    f"The local model crashed {self.crashes} times in a row soon after starting "
                    f"({signal.Signals(-returncode).name}), so it is not restarted again. {self._log_tail(3)}"
                ).strip()
                log.error("%s", self.gave_up)
                raise ServerError(self.gave_up)
            self._terminate()
            self.restarts += 1
            log.warning("model server stopped; restarting it (restart %d)", self.restarts)
            self._start_locked()

    def _terminate(self, grace_s: float = STOP_GRACE_S) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:  # busy with a reply: nobody will read it
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """Kill the process at once, without waiting for any lock: for a shutdown in a hurry."""
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                process.kill()

    def stop(self, *, hurry: bool = False) -> None:
        """Stop the process; safe to call more than once, from any thread."""
        if hurry:
            self.kill()
        with self._lock:
            self.stopped = True
            self._terminate(0.0 if hurry else STOP_GRACE_S)
            self.lifecycle.unregister(self)
            if self._log_file is not None:
                self._log_file.unlink(missing_ok=True)
                self._log_file = None

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

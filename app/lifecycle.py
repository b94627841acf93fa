"""Shutdown as a state of the process: once it begins, nothing restarts the model server, and the app ends within a
deadline whatever it was doing.

Signal handlers only set a flag, write one byte to a pipe and (on the first signal) raise in the main thread so that
it unwinds. They take no lock, so a second Ctrl-C can never deadlock on one the first is holding. A watcher thread
reads the pipe: it stops the model servers (kills them at once on a second signal) and, past the deadline, ends the
process itself."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import select
import signal
import threading
import time
from types import FrameType
from typing import Protocol

log = logging.getLogger(__name__)

DEADLINE_S = 9.0  # from the first signal to the end of the process, whatever is still running
EXIT_CODE = 130


class Stoppable(Protocol):
    def stop(self, *, hurry: bool = False) -> None: ...

    def kill(self) -> None: ...


class Lifecycle:
    """Tracks the child servers of one process and whether it is shutting down."""

    def __init__(self, deadline_s: float = DEADLINE_S) -> None:
        self.deadline_s = deadline_s
        self._stopping = False  # a plain attribute: the signal handler sets it without taking any lock
        self._servers: list[Stoppable] = []
        self._lock = threading.Lock()  # never taken in a signal handler
        self._pipe: tuple[int, int] | None = None
        self._exit_hook = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def servers(self) -> list[Stoppable]:
        with self._lock:
            return list(self._servers)

    def register(self, server: Stoppable) -> None:
        with self._lock:
            if server not in self._servers:
                self._servers.append(server)
            if not self._exit_hook:
                atexit.register(self.stop_servers)
                self._exit_hook = True

    def unregister(self, server: Stoppable) -> None:
        with self._lock:
            if server in self._servers:
                self._servers.remove(server)

    def begin(self) -> None:
        """Shutdown begins: from now on nothing restarts a model server."""
        self._stopping = True

    def stop_servers(self, hurry: bool = False) -> None:
        """Stop every child server; `hurry` kills them instead of giving them a moment to finish."""
        self.begin()
        for server in self.servers:
            try:
                server.kill() if hurry else server.stop()
            except Exception as exc:  # one server failing to stop must not keep the others alive
                log.warning("model server did not stop cleanly: %s", exc)

    # ---------- signals ----------

    def install_signal_handlers(self) -> bool:
        """Handle SIGINT and SIGTERM (from the main thread only; returns False elsewhere)."""
        if threading.current_thread() is not threading.main_thread() or self._pipe is not None:
            return False
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        self._pipe = (read_fd, write_fd)
        threading.Thread(target=self._watch, args=(read_fd,), name="shutdown-watcher", daemon=True).start()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        return True

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        first = not self._stopping
        self._stopping = True
        if self._pipe is not None:
            with contextlib.suppress(OSError):  # a full pipe already holds enough wake-ups
                os.write(self._pipe[1], b"s" if first else b"h")
        if not first:
            return  # the watcher hurries; the main thread is already unwinding
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    def _watch(self, read_fd: int) -> None:
        """Wait for the first signal, then stop the servers and hold the deadline."""
        os.read(read_fd, 1)
        deadline = time.monotonic() + self.deadline_s
        threading.Thread(target=self.stop_servers, name="stop-servers", daemon=True).start()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("shutdown took longer than %.0fs: ending the process now", self.deadline_s)
                self.stop_servers(hurry=True)
                os._exit(EXIT_CODE)
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if ready:
                os.read(read_fd, 64)
                self.stop_servers(hurry=True)

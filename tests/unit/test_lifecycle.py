"""Shutdown as a state: handlers take no lock, a second signal hurries, nothing restarts once shutdown began."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from app.lifecycle import Lifecycle
from app.llm.factory import local_backend
from app.llm.llama_server import LlamaServer, ServerError
from app.settings import load_settings


class FakeServer:
    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.killed = threading.Event()
        self.release = threading.Event()  # a stop waits for this, as a server busy with a reply would

    def stop(self, *, hurry: bool = False) -> None:
        self.release.wait(timeout=5)
        self.stopped.set()

    def kill(self) -> None:
        self.killed.set()
        self.release.set()


def test_the_first_signal_unwinds_the_main_thread_and_later_ones_never_raise():
    lifecycle = Lifecycle()
    with pytest.raises(KeyboardInterrupt):
        lifecycle._on_signal(signal.SIGINT, None)
    assert lifecycle.stopping
    lifecycle._on_signal(signal.SIGINT, None)  # during shutdown: returns at once, no exception, no lock
    lifecycle._on_signal(signal.SIGTERM, None)


def test_sigterm_exits_with_the_conventional_status():
    with pytest.raises(SystemExit) as info:
        Lifecycle()._on_signal(signal.SIGTERM, None)
    assert info.value.code == 128 + signal.SIGTERM


def test_the_watcher_stops_servers_and_a_second_signal_kills_them(monkeypatch):
    lifecycle = Lifecycle(deadline_s=2)
    server = FakeServer()
    lifecycle.register(server)
    exits = []  # the watcher ends the process at its deadline: park it there, or it ends the test run later
    monkeypatch.setattr(os, "_exit", lambda code: exits.append(code) or threading.Event().wait())
    read_fd, write_fd = os.pipe()
    monkeypatch.setattr(lifecycle, "_pipe", (read_fd, write_fd))
    threading.Thread(target=lifecycle._watch, args=(read_fd,), daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        lifecycle._on_signal(signal.SIGINT, None)
    time.sleep(0.3)
    assert not server.stopped.is_set()  # a graceful stop is waiting on the busy server
    lifecycle._on_signal(signal.SIGINT, None)
    assert server.killed.wait(timeout=5)  # hurried: killed instead of waited for
    assert server.stopped.wait(timeout=5)
    deadline = time.monotonic() + 5
    while not exits and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exits == [130]  # parked at the deadline, not left to end a later test


def test_past_the_deadline_the_process_is_ended(monkeypatch):
    lifecycle = Lifecycle(deadline_s=0.2)
    server = FakeServer()
    lifecycle.register(server)
    exits = []
    monkeypatch.setattr(os, "_exit", lambda code: exits.append(code) or threading.Event().wait())
    read_fd, write_fd = os.pipe()
    threading.Thread(target=lifecycle._watch, args=(read_fd,), daemon=True).start()
    os.write(write_fd, b"s")
    deadline = time.monotonic() + 5
    while not exits and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exits == [130] and server.killed.is_set()


def test_handlers_are_installed_only_from_the_main_thread():
    seen = []
    worker = threading.Thread(target=lambda: seen.append(Lifecycle().install_signal_handlers()))
    worker.start()
    worker.join()
    assert seen == [False]


def test_no_model_server_starts_or_restarts_once_shutdown_began(tmp_path: Path):
    lifecycle = Lifecycle()
    lifecycle.begin()
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    server = LlamaServer(model, lifecycle=lifecycle)
    with pytest.raises(ServerError, match="shutting down"):
        server.start()
    with pytest.raises(ServerError, match="shutting down"):
        server.restart()
    assert server.process is None


class FakeProcess:
    """A child process that runs until terminated or killed."""

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None

    def poll(self):
        return self.returncode

    def terminate(self) -> None:
        self.returncode = -15

    kill = terminate

    def wait(self, timeout=None):
        return self.returncode


class SlowStartingServer(LlamaServer):
    """A LlamaServer whose process is fake and takes a while to answer, as a model does while it loads."""

    def __init__(self, model: Path) -> None:
        super().__init__(model, port=5555)
        self.spawned: list[FakeProcess] = []

    def _spawn(self, log_file):
        self.spawned.append(FakeProcess(1000 + len(self.spawned)))
        return self.spawned[-1]

    def _wait_healthy(self) -> None:
        time.sleep(0.3)


def test_two_threads_that_saw_the_server_die_restart_it_once_and_leave_no_process_behind(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    server = SlowStartingServer(model).start()
    server.process.terminate()  # the server dies; two callers notice at once
    threads = [threading.Thread(target=server.restart) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    running = [p for p in server.spawned if p.poll() is None]
    assert server.restarts == 1 and len(server.spawned) == 2
    assert running == [server.process]  # the one running process is the one the server will stop
    server.stop()
    assert all(p.poll() is not None for p in server.spawned)


def test_a_server_stopped_on_purpose_is_not_brought_back_by_a_late_caller(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    server = SlowStartingServer(model).start()
    backend = local_backend(load_settings(data_dir=tmp_path), server)
    server.stop()  # its owner closed the model; a thread still running calls it afterwards
    assert backend.recover is not None and backend.recover() is False
    with pytest.raises(ServerError, match="stopped"):
        server.restart()
    assert len(server.spawned) == 1 and server.restarts == 0  # no process started after the stop
    server.start()  # an explicit start is still a start
    assert server.alive() and len(server.spawned) == 2
    server.stop()


def test_a_server_that_keeps_crashing_soon_after_starting_is_not_restarted_a_third_time(tmp_path):
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    server = SlowStartingServer(model).start()
    server.process.returncode = -signal.SIGKILL  # killed from outside (OOM killer, a test): always restarted
    server.restart()
    for _ in range(2):
        server.process.returncode = -signal.SIGSEGV  # llama.cpp crashed on the request it was given
        server.restart()
    assert server.restarts == 3 and server.crashes == 2 and server.alive()
    server.process.returncode = -signal.SIGSEGV
    with pytest.raises(ServerError, match=r"crashed 3 times in a row .*SIGSEGV"):
        server.restart()
    with pytest.raises(ServerError, match="crashed 3 times"):  # later callers get the reason at once
        server.restart()
    assert len(server.spawned) == 4
    backend = local_backend(load_settings(data_dir=tmp_path), server)
    assert backend.recover is not None
    with pytest.raises(ServerError, match="not restarted again"):
        backend.recover()
    server.start()  # an explicit start is a fresh start
    assert server.alive() and server.crashes == 0 and len(server.spawned) == 5
    server.stop()


def test_crashes_count_only_fault_signals_soon_after_a_start():
    from app.llm.llama_server import QUICK_CRASH_S, crashed, quick_crashes

    assert crashed(-signal.SIGSEGV) and crashed(-signal.SIGABRT) and crashed(-signal.SIGILL)
    assert not crashed(-signal.SIGKILL) and not crashed(-signal.SIGTERM) and not crashed(0) and not crashed(None)
    assert quick_crashes(1, -signal.SIGSEGV, 5.0) == 2
    assert quick_crashes(2, -signal.SIGSEGV, QUICK_CRASH_S + 1) == 1  # after a long healthy run: counted afresh
    assert quick_crashes(2, -signal.SIGKILL, 5.0) == 0

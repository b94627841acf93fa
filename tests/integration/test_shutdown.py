"""SIGINT or SIGTERM at a random moment of each phase of a real interview (start-up, idle, mid-reply, a model
server restart, the final feedback), of a fresh ingest and of the web app, once or twice, ends the app within 10 s
and leaves no model server behind."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.container import Container
from app.settings import PROJECT_DIR, load_settings
from tests.processes import model_servers as running_servers
from tests.served_app import Served
from tests.support import real_embedder

pytestmark = pytest.mark.integration

EXIT_LIMIT_S = 10.0
SEED = 20261202
# A random moment of these phases; `ready` is the start of `idle`, and `feedback` and the web app's reply have a fixed
# trial each below (Ctrl-C twice), so each costly phase is run once.
PHASES = ["startup", "idle", "turn", "restart"]


@dataclass
class Trial:
    where: str  # a phase of the driver, "ingest" (a fresh store) or "serve-idle" / "serve-reply" (the web app)
    delay_s: float  # after the phase began (after launch for start-up and ingest)
    signum: int
    twice: bool  # a second signal while shutting down


def trials() -> list[Trial]:
    rng = random.Random(SEED)

    def pick(where: str, low: float, high: float) -> Trial:
        return Trial(where, rng.uniform(low, high), rng.choice([signal.SIGINT, signal.SIGTERM]), rng.random() < 0.35)

    chosen = [pick(where, 0.0, 2.5) for where in PHASES]  # every phase once, at a random moment in it
    chosen.append(pick("ingest", 2.0, 6.0))
    chosen.append(pick("serve-idle", 0.0, 1.0))
    chosen.append(Trial("serve-reply", 1.0, signal.SIGINT, True))  # Ctrl-C, then again a second later
    chosen.append(Trial("feedback", 1.5, signal.SIGINT, True))
    return chosen


def model_servers(model: Path) -> list[int]:
    """Live llama.cpp servers running this model file."""
    return [pid for pid, server in running_servers().items() if str(model) in server.cmdline]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, assembled_model: Path) -> tuple[Path, Path]:
    """A data folder with the knowledge base ingested, and the assembled model file."""
    data = tmp_path_factory.mktemp("shutdown")
    Container(load_settings(data_dir=data), embedder=real_embedder()).ensure_knowledge()
    return data, assembled_model


def wait_for(lines: list[str], prefix: str, proc: subprocess.Popen[str], timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(line.startswith(prefix) for line in lines):
        assert proc.poll() is None, f"the app exited before {prefix!r}: {''.join(lines[-20:])}"
        assert time.monotonic() < deadline, f"no {prefix!r} within {timeout_s}s: {''.join(lines[-20:])}"
        time.sleep(0.05)


def reader(proc: subprocess.Popen[str], lines: list[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)


def signal_and_time(proc: subprocess.Popen[str], trial: Trial) -> float:
    """Send the trial's signal (and a second one), then the seconds until the app has exited."""
    sent = time.monotonic()
    proc.send_signal(trial.signum)
    if trial.twice:
        time.sleep(random.Random(trial.delay_s).uniform(0.3, 1.2))
        if proc.poll() is None:
            proc.send_signal(trial.signum)
    try:
        proc.wait(timeout=EXIT_LIMIT_S + 20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return float("inf")
    return time.monotonic() - sent


def run_driver(trial: Trial, data: Path, model: Path) -> tuple[float, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MOCKINTERVIEW_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.shutdown_driver", str(data), str(model)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=reader, args=(proc, lines), daemon=True).start()
    if trial.where not in ("startup", "ingest"):
        wait_for(lines, f"phase {trial.where}", proc)
    time.sleep(trial.delay_s)
    took = signal_and_time(proc, trial)
    return took, "".join(lines[-15:])


def run_served(trial: Trial, data: Path, model: Path) -> tuple[float, str]:
    from gradio_client import Client

    app = Served(data, env={"MOCKINTERVIEW_MODEL_PATH": str(model)})
    client = Client(app.url, verbose=False, download_files=False, analytics_enabled=False)
    session_id = client.predict("mock", "video-recommendation-feed", "", api_name="/start")
    if trial.where == "serve-reply":
        client.submit(session_id, "The goal is longer watch time per user, measured weekly.", api_name="/say")
    time.sleep(trial.delay_s)
    took = signal_and_time(app.proc, trial)
    # A normal stop prints no traceback (the web server's cancelled tasks included).
    assert "Traceback" not in app.output(), f"the app printed a traceback when stopped ({trial}):\n{app.output()}"
    return took, "".join(app.log[-15:])


def test_a_signal_at_any_moment_ends_the_app_within_10s_with_no_model_server_left(prepared, tmp_path):
    data, model = prepared
    results = []
    for number, trial in enumerate(trials(), start=1):
        before = set(model_servers(model))  # another test's server on the shared model file is not this trial's
        if trial.where == "ingest":
            took, log = run_driver(trial, tmp_path / f"fresh-{number}", model)
        elif trial.where.startswith("serve"):
            took, log = run_served(trial, data, model)
        else:
            took, log = run_driver(trial, data, model)
        deadline = time.monotonic() + 3
        while set(model_servers(model)) - before and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sorted(set(model_servers(model)) - before)
        for pid in left:  # never leave them to the next trial
            os.kill(pid, signal.SIGKILL)
        results.append((number, trial, round(took, 2), left))
        print(
            f"trial {number}: {trial.where} +{trial.delay_s:.1f}s {signal.Signals(trial.signum).name}"
            f"{' x2' if trial.twice else ''}: exit in {took:.2f}s, servers left {left}"
        )
        assert took <= EXIT_LIMIT_S, f"trial {number} ({trial}) took {took:.1f}s to exit:\n{log}"
        assert not left, f"trial {number} ({trial}) left model servers {left}:\n{log}"
    assert len(results) == len(trials())

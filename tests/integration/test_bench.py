"""`mockinterview bench` in its short mode: it runs end to end on the real engine and model and reports every key.
Timings are printed for people to read; nothing here asserts how fast anything is."""

import json
import subprocess
import sys
from typing import Any

import pytest

from app.diagnostics.bench import KEYS
from app.settings import PROJECT_DIR

pytestmark = pytest.mark.integration

SECONDS = ("ttft_p50_s", "turn_p50_s", "ingest_cold_s", "ingest_warm_s", "cold_start_s")
MILLISECONDS = ("overhead_p50_ms", "retrieval_p50_ms", "grade_p50_ms")


def check_report(report: dict[str, Any], turns: int) -> None:
    """Every key is there, with a type and value that make sense."""
    assert set(KEYS) <= report.keys()
    for key in SECONDS:
        assert isinstance(report[key], float) and report[key] > 0, key
    for key in MILLISECONDS:
        assert isinstance(report[key], float) and report[key] >= 0, key
    assert report["turn_p50_s"] >= report["ttft_p50_s"]
    # The same script sent the moment it is typed: the turn reads what the server has not read yet.
    assert isinstance(report["ttft_send_at_once_p50_s"], float) and report["ttft_send_at_once_p50_s"] > 0
    assert isinstance(report["late_vs_early_turn_ratio"], float) and report["late_vs_early_turn_ratio"] > 0
    assert 0 < report["model_bound_fraction"] <= 1
    assert 500 < report["rss_peak_mb"] < 64_000  # the model alone is about 1 GB
    assert report["raw_prefill_tok_s"] > 0 and report["raw_gen_tok_s"] > 0
    assert [t["turn"] for t in report["turns"]] == list(range(1, turns + 1))
    for turn in report["turns"]:
        assert turn["turn_s"] >= turn["ttft_s"] > 0 and turn["turn_s"] >= turn["llm_s"] >= 0
        assert turn["action"]
        if turn["llm_calls"]:
            assert turn["new_prompt_tokens"] > 0 and turn["generated_tokens"] > 0
    assert any(t["llm_calls"] for t in report["turns"])  # the scripted first answers get worded follow-ups
    assert report["machine"]["cpus"] >= 1


def test_short_bench_reports_every_key_with_sane_values():
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli.main import main; main()", "bench", "--turns", "2", "--json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    check_report(json.loads(done.stdout.strip().splitlines()[-1]), turns=2)

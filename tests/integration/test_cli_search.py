"""The CLI on a fresh data directory: search indexes the bundled knowledge by itself, then finds jargon."""

import json
import subprocess
import sys

import pytest

from app.settings import PROJECT_DIR

pytestmark = pytest.mark.integration
DEV = PROJECT_DIR.parent / "shared" / "eval-dev" / "retrieval.jsonl"


def cli(*args, home):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "MOCKINTERVIEW_DATA_DIR": str(home / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=PROJECT_DIR, capture_output=True, text=True, env=env, timeout=900
    )


def test_search_on_a_fresh_machine_ingests_first_and_handles_jargon(tmp_path):
    done = cli("search", "ks test drift", "-k", "3", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "knowledge base indexed" in done.stderr
    assert "Drift detection with the KS test" in done.stdout
    again = cli("ingest", home=tmp_path)
    assert again.returncode == 0 and "0 embedded" in again.stdout
    if DEV.exists():
        report = json.loads(cli("eval", "retrieval", "--cases", str(DEV), "--json", home=tmp_path).stdout)
        assert report["hit_at_5"] >= 0.95 and report["mrr_at_10"] >= 0.8
        assert set(report) == {"n", "hit_at_5", "mrr_at_10", "by_topic", "misses"}


def test_unknown_collection_is_a_clear_error(tmp_path):
    done = cli("search", "anything", "--collection", "nothing-here", home=tmp_path)
    assert done.returncode == 2 and "is empty" in done.stderr and "Traceback" not in done.stderr

"""The CLI on a fresh data directory: search indexes the bundled knowledge by itself, then finds jargon."""

import json
import subprocess
import sys

import pytest

from app.settings import PROJECT_DIR

pytestmark = pytest.mark.integration
DEV = PROJECT_DIR.parent / "shared" / "eval-dev" / "retrieval.jsonl"


def cli(*args, home, **settings):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "MOCKINTERVIEW_DATA_DIR": str(home / "data"),
        "HF_HUB_OFFLINE": "1",
        **{f"MOCKINTERVIEW_{k.upper()}": v for k, v in settings.items()},
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


def test_search_also_reads_the_users_notes_and_names_each_results_collection(tmp_path):
    notes = tmp_path / "my-notes"
    notes.mkdir()
    (notes / "runbook.md").write_text(
        "# Team runbook\n\n## Nightly feature backfill\n\nOur nightly feature backfill job recomputes the "
        "seven-day click counts for every listing and writes them to the feature store before 6am. When it is late, "
        "the ranking model reads stale counts, so page the data on-call before the morning traffic peak.\n"
    )
    assert cli("ingest", "--collection", "knowledge", home=tmp_path).returncode == 0
    done = cli("ingest", str(notes), "--collection", "notes", home=tmp_path)
    assert done.returncode == 0, done.stderr
    query = "stale feature values when the nightly backfill is late"
    alone = cli("search", query, "-k", "5", home=tmp_path)
    assert alone.returncode == 0 and "notes:" not in alone.stdout
    both = cli("search", query, "-k", "5", home=tmp_path, search_collections="notes")
    assert both.returncode == 0, both.stderr
    assert "Team runbook > Nightly feature backfill" in both.stdout and "notes: runbook.md" in both.stdout
    assert "knowledge: " in both.stdout  # the bundled knowledge is still searched

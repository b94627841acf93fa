"""The knowledge store in client/server mode: a real `chroma run` server on loopback, real embeddings."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.container import Container
from app.knowledge.store import StoreError
from app.settings import load_settings
from tests.postgres_server import free_port


def chroma_cli() -> str:
    """The `chroma` program installed beside this Python, or on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if found is None:
        pytest.fail("the chroma CLI is missing: it comes with the chromadb package")
    return found


@pytest.fixture
def chroma_server(tmp_path: Path):
    """A Chroma server on 127.0.0.1 and a free port, storing in a temporary folder; stopped afterwards."""
    port = free_port()
    folder = tmp_path / "chroma-server"
    log = (tmp_path / "chroma.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    command = [chroma_cli(), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_heartbeat(port, process, tmp_path / "chroma.log")
        yield port, folder
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def wait_for_heartbeat(port: int, process: subprocess.Popen, log: Path, timeout_s: float = 60.0) -> None:
    """Return once the server answers its heartbeat; fail with its log if it exits or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chroma run exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"chroma run did not answer within {timeout_s}s:\n{log.read_text(errors='replace')[-2000:]}")


def test_ingest_and_search_against_a_chroma_server(chroma_server, tmp_path):
    port, server_folder = chroma_server
    settings = load_settings(data_dir=tmp_path / "data", chroma_mode="http", chroma_host="127.0.0.1", chroma_port=port)

    container = Container(settings)
    report = container.ensure_knowledge()
    assert report.embedded == report.chunks > 50
    assert container.store().count() == report.chunks
    results = container.retriever().search("when to pick PR-AUC over ROC-AUC for rare positives", k=5)
    assert results, "no results from the Chroma server"
    assert any("PR-AUC" in r.heading or "precision-recall" in r.text.lower() for r in results[:3])

    again = container.ensure_knowledge()  # the server holds the state: nothing to embed a second time
    assert again.embedded == 0 and again.unchanged == report.chunks
    assert not settings.chroma_dir.exists(), "http mode must not create an embedded store"
    assert any(server_folder.iterdir()), "the server did not persist the collection"


def test_an_unreachable_chroma_server_is_a_clear_store_error(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", chroma_mode="http", chroma_port=free_port())
    with pytest.raises(StoreError, match=rf"Could not reach the Chroma server at 127\.0\.0\.1:{settings.chroma_port}"):
        Container(settings).store().count()

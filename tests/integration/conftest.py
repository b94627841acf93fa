from pathlib import Path

import pytest

from app.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def served_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for the tests that serve the app: the first start ingests and assembles, later ones reuse."""
    return tmp_path_factory.mktemp("served-data")


@pytest.fixture(scope="session")
def assembled_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled model file, assembled once for the tests that start the app in a process of their own."""
    from app.llm.model_files import resolve_model

    settings = load_settings(data_dir=tmp_path_factory.mktemp("model"))
    return resolve_model(settings.model_variant, settings.model_path, settings.models_dir)

from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings


def test_local_profile_is_default(monkeypatch):
    monkeypatch.delenv("MOCKINTERVIEW_PROFILE", raising=False)
    settings = load_settings()
    assert settings.profile == "local"
    assert settings.llm_backend == "llama_cpp"


def test_profile_from_environment_and_env_overrides_profile(monkeypatch):
    monkeypatch.setenv("MOCKINTERVIEW_PROFILE", "openai")
    assert load_settings().llm_backend == "openai"
    monkeypatch.setenv("MOCKINTERVIEW_LLM_BACKEND", "llama_cpp")
    assert load_settings().llm_backend == "llama_cpp"


def test_every_field_overridable(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("MOCKINTERVIEW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOCKINTERVIEW_TOP_K", "9")
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.chroma_dir == tmp_path / "chroma"
    assert settings.sqlite_url.endswith("sessions.sqlite3")
    assert settings.top_k == 9


def test_bad_values_give_one_clear_error(monkeypatch):
    monkeypatch.setenv("MOCKINTERVIEW_TOP_K", "many")
    with pytest.raises(SettingsError, match="MOCKINTERVIEW_TOP_K"):
        load_settings()
    monkeypatch.delenv("MOCKINTERVIEW_TOP_K")
    monkeypatch.setenv("MOCKINTERVIEW_PROFILE", "cloud9")
    with pytest.raises(SettingsError, match="Unknown profile"):
        load_settings()


def test_explicit_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("MOCKINTERVIEW_COLLECTION", "fromenv")
    assert load_settings(collection="explicit").collection == "explicit"
    with pytest.raises(SettingsError):
        load_settings(collection="ab")

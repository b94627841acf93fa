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


def test_openai_profile_without_key_names_the_variable(monkeypatch):
    from app.llm.factory import openai_backend

    monkeypatch.setenv("MOCKINTERVIEW_PROFILE", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SettingsError, match="OPENAI_API_KEY"):
        openai_backend(load_settings())


def test_openai_profile_against_a_local_endpoint_needs_no_key(monkeypatch):
    from app.llm.factory import openai_backend

    monkeypatch.setenv("MOCKINTERVIEW_PROFILE", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MOCKINTERVIEW_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MOCKINTERVIEW_LLM_MODEL", "local")
    llm = openai_backend(load_settings())
    assert llm.capabilities.label == "openai: local" and not llm.capabilities.strong_grader


def test_api_key_never_appears_in_settings_output(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-sentinel-123456")
    settings = load_settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-sentinel-123456"
    assert "sk-sentinel" not in repr(settings) and "sk-sentinel" not in str(settings.model_dump())

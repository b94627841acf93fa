"""Start-up: the knowledge side and the model start side by side, and a failure on either side stops both."""

import threading

import pytest

from app import services
from app.settings import load_settings


class Model:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_knowledge_is_prepared_while_the_model_starts(monkeypatch, tmp_path):
    model_starting = threading.Event()
    seen = []

    def prepare(settings, progress):
        seen.append(model_starting.wait(timeout=10))  # only true when the model starts meanwhile

    monkeypatch.setattr(services, "prepare_knowledge", prepare)
    monkeypatch.setattr(services, "interviewer_for", lambda settings, llm: ("engine", llm))
    model = Model()

    def start_model():
        model_starting.set()
        return model

    engine, llm = services.start_engine(load_settings(data_dir=tmp_path), start_model)
    assert seen == [True] and engine == ("engine", model) and llm is model and not model.closed


def test_a_knowledge_failure_stops_the_started_model(monkeypatch, tmp_path):
    def prepare(settings, progress):
        raise ValueError("rubric.yaml: steps must be a list")

    monkeypatch.setattr(services, "prepare_knowledge", prepare)
    model = Model()
    with pytest.raises(ValueError, match=r"rubric\.yaml"):
        services.start_engine(load_settings(data_dir=tmp_path), lambda: model)
    assert model.closed

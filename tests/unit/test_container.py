"""The composition root: start-up overlaps the knowledge side with the model, a failure on either side stops both,
and each container owns its own objects."""

import threading

import pytest

from app.container import Container
from app.settings import load_settings


class Model:
    closed = False

    def close(self) -> None:
        self.closed = True


class Probe(Container):
    """A container whose slow parts are replaced: preparing the knowledge side and building the engine."""

    def __init__(self, settings, prepare):
        super().__init__(settings)
        self._prepare = prepare

    def prepare_knowledge(self, progress=False, stop=None):
        self._prepare(stop)

    def interviewer(self):
        return ("engine", self.llm)


def test_knowledge_is_prepared_while_the_model_starts(tmp_path):
    model_starting = threading.Event()
    seen = []
    container = Probe(load_settings(data_dir=tmp_path), lambda stop: seen.append(model_starting.wait(timeout=10)))
    model = Model()

    def start_model():
        model_starting.set()
        return model

    engine = container.start(start_model)
    assert seen == [True] and engine == ("engine", model) and container.llm is model and not model.closed
    container.close()
    assert model.closed and container.llm is None
    container.close()  # a second close is harmless


def test_a_knowledge_failure_stops_the_started_model(tmp_path):
    def prepare(stop):
        raise ValueError("rubric.yaml: steps must be a list")

    container = Probe(load_settings(data_dir=tmp_path), prepare)
    model = Model()
    with pytest.raises(ValueError, match=r"rubric\.yaml"):
        container.start(lambda: model)
    assert model.closed


def test_a_model_that_fails_to_start_stops_the_knowledge_side_too(tmp_path):
    told = threading.Event()

    def prepare(stop):  # embedding a large knowledge base: it checks the stop flag between batches
        if stop.wait(timeout=10):
            told.set()

    def failing_model():
        raise RuntimeError("The model server could not load the model")

    container = Probe(load_settings(data_dir=tmp_path), prepare)
    with pytest.raises(RuntimeError, match="could not load"):
        container.start(failing_model)
    assert told.wait(timeout=10)  # the preparing thread was told to stop rather than embedding on in the background


def test_each_container_owns_its_knowledge_and_grader(tmp_path):
    one, two = Container(load_settings(data_dir=tmp_path / "a")), Container(load_settings(data_dir=tmp_path / "b"))
    assert one.knowledge is one.knowledge and one.knowledge is not two.knowledge
    assert one.retriever() is one.retriever() and one.retriever() is not two.retriever()
    assert one.grader.kb is one.knowledge

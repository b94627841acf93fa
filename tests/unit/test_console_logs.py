"""What reaches the console: the product's records at its level, other libraries' from WARNING, no shutdown noise."""

import asyncio
import logging
import sys

import pytest

from app.cli.logs import OwnRecordsOrWarnings, configure_logging
from app.web.ui import not_a_cancelled_task


def record(name: str, level: int, msg: str = "text", exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord(name, level, __file__, 1, msg, None, exc_info)


def test_own_records_pass_at_the_chosen_level_and_libraries_only_from_warning():
    debug = OwnRecordsOrWarnings(logging.DEBUG)
    assert debug.filter(record("app.container", logging.DEBUG))
    assert debug.filter(record("app", logging.DEBUG))
    assert not debug.filter(record("bm25s", logging.DEBUG))
    assert not debug.filter(record("application", logging.INFO))  # a name that only starts like ours
    assert debug.filter(record("chromadb", logging.WARNING))
    info = OwnRecordsOrWarnings(logging.INFO)
    assert not info.filter(record("app.container", logging.DEBUG))
    assert info.filter(record("app.container", logging.INFO))
    error = OwnRecordsOrWarnings(logging.ERROR)
    assert not error.filter(record("httpx", logging.WARNING))
    assert error.filter(record("httpx", logging.ERROR))


def test_a_library_that_sets_its_logger_to_debug_stays_quiet(capsys: pytest.CaptureFixture[str]):
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        configure_logging("INFO")
        configure_logging("info")  # a second call keeps one handler
        ours = [h for h in root.handlers if getattr(h, "mockinterview", False)]
        assert len(ours) == 1
        ours[0].stream = sys.stderr  # the stream pytest captures now
        chatty = logging.getLogger("chatty_library")
        chatty.setLevel(logging.DEBUG)
        chatty.debug("Building index from tokens")
        logging.getLogger("app.tests").info("knowledge base updated")
        text = capsys.readouterr().err
        assert "knowledge base updated" in text and "Building index" not in text
    finally:
        root.handlers[:], root.level = before


def test_a_task_cancelled_while_the_server_stops_is_not_reported_as_an_error():
    trace = "Traceback (most recent call last):\n  ...\n    await getter\nasyncio.exceptions.CancelledError\n"
    assert not not_a_cancelled_task(record("uvicorn.error", logging.ERROR, trace))
    assert not not_a_cancelled_task(record("uvicorn.error", logging.ERROR, "lifespan", asyncio.CancelledError()))
    assert not_a_cancelled_task(record("uvicorn.error", logging.ERROR, "Exception in ASGI application"))
    assert not_a_cancelled_task(record("uvicorn.error", logging.ERROR, "boom", ValueError("bad request")))

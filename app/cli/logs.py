"""Console logging for the commands: the product's own records at the chosen level, other libraries' warnings only."""

from __future__ import annotations

import logging

OWN = "app"
FORMAT = "%(levelname)s %(name)s: %(message)s"


class OwnRecordsOrWarnings(logging.Filter):
    """Lets through the product's records at its level and other libraries' records from WARNING up.

    A library may set its own logger to DEBUG when imported (bm25s does); its chatter must not reach the console.
    """

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name == OWN or record.name.startswith(OWN + ".")
        return record.levelno >= (self.level if own else max(self.level, logging.WARNING))


def configure_logging(level_name: str) -> None:
    """One console handler on the root logger, filtered as above (idempotent: a second call changes the level)."""
    level = logging.getLevelName(level_name.upper())
    if not isinstance(level, int):
        level = logging.INFO
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "mockinterview", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.mockinterview = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    handler.filters = [OwnRecordsOrWarnings(level)]
    root.setLevel(min(level, logging.WARNING))

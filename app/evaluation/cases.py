"""Case files in JSON Lines: one object per line, errors naming the file and the line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class CaseFileError(ValueError):
    """A case file is missing or malformed."""


def load_jsonl(path: Path, build: Callable[[dict[str, Any]], T], what: str) -> list[T]:
    """Build one case per non-empty line; a bad line raises CaseFileError with its position."""
    if not path.exists():
        raise CaseFileError(f"Case file not found: {path}")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(build(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CaseFileError(f"{path}:{number}: not a valid {what} case ({exc})") from exc
    return cases

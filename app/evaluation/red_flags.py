"""Wrong-claim detection on single sentences labelled by people.

Each case is one sentence about one known mistake of the rubric (`flag_id`), labelled `claims` (the candidate states
or acts on the mistake), `warns` (the candidate names the practice to reject it) or `neutral` (the same vocabulary used
soundly). A claim counts as found when the detector raises its own flag; a warning or a neutral sentence is clean when
the detector raises none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.evaluation.cases import load_jsonl

Label = Literal["claims", "warns", "neutral"]
LABELS: tuple[Label, ...] = ("claims", "warns", "neutral")


@dataclass(frozen=True)
class RedFlagCase:
    id: str
    flag_id: str
    sentence: str
    label: Label
    split: str = ""  # tune or test


def _case(raw: dict[str, Any]) -> RedFlagCase:
    label = str(raw["label"])
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    return RedFlagCase(str(raw["id"]), str(raw["flag_id"]), str(raw["sentence"]), label, str(raw.get("split", "")))


def load_cases(path: Path, split: str | None = None) -> list[RedFlagCase]:
    """Read a JSONL file of {id, flag_id, sentence, label, [split]}; with `split`, only that half."""
    cases = load_jsonl(path, _case, "red-flag")
    return [c for c in cases if split is None or c.split == split]


def share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def evaluate(cases: list[RedFlagCase], detect: Callable[[str], list[str]]) -> dict[str, Any]:
    """Recall on claims, the clean rate of warnings and neutral sentences, and the precision of what is raised."""
    raised = {c.id: detect(c.sentence) for c in cases}
    claims = [c for c in cases if c.label == "claims"]
    found = [c for c in claims if c.flag_id in raised[c.id]]
    flagged = [c for c in cases if raised[c.id]]
    right = [c for c in flagged if c.label == "claims"]
    return {
        "n": len(cases),
        "claims_recall": share(len(found), len(claims)),
        "claims_any_flag": share(sum(1 for c in claims if raised[c.id]), len(claims)),
        "warns_clean": _clean(cases, raised, "warns"),
        "neutral_clean": _clean(cases, raised, "neutral"),
        "precision": share(len(right), len(flagged)),
        "cases": [
            {"id": c.id, "flag_id": c.flag_id, "label": c.label, "raised": r, "right": _right(c, r)}
            for c in cases
            for r in [raised[c.id]]
        ],
    }


def _clean(cases: list[RedFlagCase], raised: dict[str, list[str]], label: Label) -> float | None:
    """The share of the sentences with this label on which nothing is raised."""
    labelled = [c for c in cases if c.label == label]
    return share(sum(1 for c in labelled if not raised[c.id]), len(labelled))


def _right(case: RedFlagCase, raised: list[str]) -> bool:
    return case.flag_id in raised if case.label == "claims" else not raised

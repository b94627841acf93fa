"""Evidence precision and recall: the grader's quoted sentences against item-level labels written by people.

Each case labels, for one answer, the checklist items the answer shows and the sentences that show them. An item
counts as found when the grader marks it covered; `with_partial` also counts items it marks partial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.evaluation.cases import load_jsonl
from app.grading.scorecard import Scorecard


@dataclass(frozen=True)
class EvidenceCase:
    id: str
    question: str
    answer: str
    items: dict[str, list[str]]  # item id -> the sentences that show it
    split: str = ""  # tune or test


def load_cases(path: Path, split: str | None = None) -> list[EvidenceCase]:
    """Read a JSONL file of {id, question, answer, items, [split]}; with `split`, only that half."""
    cases = load_jsonl(
        path,
        lambda raw: EvidenceCase(
            str(raw["id"]),
            str(raw["question"]),
            str(raw["answer"]),
            {str(k): [str(q) for q in v] for k, v in dict(raw["items"]).items()},
            str(raw.get("split", "")),
        ),
        "evidence",
    )
    return [c for c in cases if split is None or c.split == split]


def same_sentence(quote: str, labelled: list[str]) -> bool:
    """The grader's quote is one of the labelled sentences (either may hold the other: splitters differ on bullets)."""
    q = " ".join(quote.split())
    return any(q in " ".join(s.split()) or " ".join(s.split()) in q for s in labelled)


def found(card: Scorecard, with_partial: bool) -> dict[str, list[str]]:
    """Item id -> quotes, for the items the grader says the answer shows."""
    levels = {"covered", "partial"} if with_partial else {"covered"}
    return {i.id: i.evidence for s in card.steps for i in s.items if i.verdict in levels}


def ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def evaluate(cases: list[EvidenceCase], grade: Callable[[str, str], Scorecard]) -> dict[str, Any]:
    report: dict[str, Any] = {"n": len(cases), "labelled_items": sum(len(c.items) for c in cases)}
    cards = {c.id: grade(c.question, c.answer) for c in cases}
    for name, with_partial in (("covered", False), ("covered_or_partial", True)):
        predicted = true_items = quoted_right = labelled = recalled = 0
        for case in cases:
            shown = found(cards[case.id], with_partial)
            predicted += len(shown)
            true_items += sum(1 for item in shown if item in case.items)
            quoted_right += sum(
                1
                for item, quotes in shown.items()
                if item in case.items and any(same_sentence(q, case.items[item]) for q in quotes)
            )
            labelled += len(case.items)
            recalled += sum(1 for item in case.items if item in shown)
        report[name] = {
            "item_precision": ratio(true_items, predicted),
            "item_recall": ratio(recalled, labelled),
            "quote_precision": ratio(quoted_right, predicted),
            "predicted": predicted,
        }
    report["cases"] = [
        {
            "id": c.id,
            "missed": sorted(set(c.items) - set(found(cards[c.id], True))),
            "extra": sorted(set(found(cards[c.id], False)) - set(c.items)),
        }
        for c in cases
    ]
    return report

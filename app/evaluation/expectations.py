"""The question's own checklist, measured against people's labels.

Each case is an answer to a bank scenario with every one of the scenario's expectations labelled `met`, `partial` or
`not_met`, and for the first two the words of the answer that show it. An expectation counts as shown when it is met
or met in part; precision and recall are over shown expectations, and the quote is right when the sentence the
grader quotes holds the labelled words (or lies inside them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.evaluation.cases import load_jsonl

Verdict = Literal["met", "partial", "not_met"]
VERDICTS: tuple[Verdict, ...] = ("met", "partial", "not_met")


@dataclass(frozen=True)
class Label:
    expectation: str
    verdict: Verdict
    quote: str = ""


@dataclass(frozen=True)
class ExpectationCase:
    id: str
    question: str
    answer: str
    labels: tuple[Label, ...]
    split: str = ""  # tune or test


@dataclass(frozen=True)
class Predicted:
    """What the grader says of one expectation: its verdict and the sentence it quotes."""

    expectation: str
    verdict: Verdict
    evidence: str = ""


def _label(raw: dict[str, Any]) -> Label:
    verdict = str(raw["verdict"])
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    return Label(str(raw["expectation"]), verdict, str(raw.get("quote", "")))


def _case(raw: dict[str, Any]) -> ExpectationCase:
    labels = tuple(_label(x) for x in raw["labels"])
    if not labels:
        raise ValueError("a case needs at least one labelled expectation")
    return ExpectationCase(str(raw["id"]), str(raw["question"]), str(raw["answer"]), labels, str(raw.get("split", "")))


def load_cases(path: Path, split: str | None = None) -> list[ExpectationCase]:
    """Read a JSONL file of {id, question, answer, labels: [{expectation, verdict, quote}], [split]}."""
    cases = load_jsonl(path, _case, "expectation")
    return [c for c in cases if split is None or c.split == split]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def quote_right(evidence: str, quote: str) -> bool:
    """The quoted sentence holds the labelled words, or lies inside them."""
    a, b = _norm(evidence), _norm(quote).rstrip(".")
    return bool(a and b) and (b in a or a.rstrip(".") in b)


def share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def evaluate(cases: list[ExpectationCase], check: Callable[[str, str], list[Predicted]]) -> dict[str, Any]:
    """Precision and recall of shown expectations, verdict agreement, and how often the quoted sentence is right."""
    true_pos = false_pos = false_neg = agree = quoted = labelled = 0
    rows: list[dict[str, Any]] = []
    for case in cases:
        predicted = {p.expectation.strip(): p for p in check(case.question, case.answer)}
        missed, extra, wrong_quote = [], [], []
        for label in case.labels:
            got = predicted.get(label.expectation.strip(), Predicted(label.expectation, "not_met"))
            labelled += 1
            agree += got.verdict == label.verdict
            gold, shown = label.verdict != "not_met", got.verdict != "not_met"
            if gold and shown:
                true_pos += 1
                if quote_right(got.evidence, label.quote):
                    quoted += 1
                else:
                    wrong_quote.append(label.expectation)
            elif gold:
                false_neg += 1
                missed.append(label.expectation)
            elif shown:
                false_pos += 1
                extra.append(label.expectation)
        rows.append({"id": case.id, "missed": missed, "extra": extra, "wrong_quote": wrong_quote})
    return {
        "n": len(cases),
        "labels": labelled,
        "precision": share(true_pos, true_pos + false_pos),
        "recall": share(true_pos, true_pos + false_neg),
        "verdict_agreement": share(agree, labelled),
        "quote_right": share(quoted, true_pos),
        "cases": rows,
    }

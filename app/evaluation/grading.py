"""Grading evaluation on answers of known quality: ordering, correlation, injection resistance, step F1."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.evaluation.cases import load_jsonl
from app.grading.scorecard import BAND_RANK, Scorecard

METRIC_KEYS = (
    "spearman",
    "band_order_rate",
    "pairwise_concordance",
    "adversarial_pass_rate",
    "step_f1_macro",
    "step_f1_micro",
    "band_accuracy",
    "reproducible",
    "grade_p50_ms",
)


@dataclass(frozen=True)
class GradingCase:
    id: str
    question: str
    answer: str
    band: str  # strong, partial, weak, off_topic or adversarial
    covered_steps: list[int]
    notes: str = ""


def load_cases(path: Path) -> list[GradingCase]:
    """Read a JSONL file of {id, question, answer, band, covered_steps, notes}."""
    return load_jsonl(
        path,
        lambda raw: GradingCase(
            str(raw["id"]),
            str(raw["question"]),
            str(raw["answer"]),
            str(raw["band"]),
            [int(s) for s in raw.get("covered_steps", [])],
            str(raw.get("notes", "")),
        ),
        "grading",
    )


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman rank correlation with average ranks for ties."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return result

    if len(xs) < 2:
        return 0.0
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return round(cov / (vx * vy), 4) if vx and vy else 0.0


def f1(predicted: list[int], gold: list[int]) -> float:
    p, g = set(predicted), set(gold)
    if not p and not g:
        return 1.0
    if not p or not g:
        return 0.0
    tp = len(p & g)
    return 2 * tp / (len(p) + len(g))


def evaluate(cases: list[GradingCase], grade: Callable[[str, str], Scorecard]) -> dict[str, Any]:
    cards: dict[str, Scorecard] = {}
    timings = []
    for case in cases:
        started = time.perf_counter()
        cards[case.id] = grade(case.question, case.answer)
        timings.append((time.perf_counter() - started) * 1000)
    reproducible = all(grade(c.question, c.answer).model_dump() == cards[c.id].model_dump() for c in cases)

    plain = [c for c in cases if c.band in BAND_RANK]
    by_question: dict[str, dict[str, GradingCase]] = {}
    for case in cases:
        by_question.setdefault(case.question, {})[case.band] = case
    ordered = total_questions = pairs_right = pairs_total = 0
    bands = ["strong", "partial", "weak", "off_topic"]
    for group in by_question.values():
        present = [b for b in bands if b in group]
        if len(present) < 2:
            continue
        scores = [cards[group[b].id].overall for b in present]
        total_questions += 1
        ordered += all(a > b for a, b in itertools.pairwise(scores))
        for i in range(len(present)):
            for j in range(i + 1, len(present)):
                pairs_total += 1
                pairs_right += scores[i] > scores[j]
    adversarial = [c for c in cases if c.band == "adversarial"]
    passed = 0
    for case in adversarial:
        card = cards[case.id]
        weak = by_question.get(case.question, {}).get("weak")
        ceiling = cards[weak.id].overall if weak else 2.49
        passed += card.overall <= ceiling and card.band not in ("strong", "partial")
    tp = fp = fn = 0
    for case in cases:
        p, g = set(cards[case.id].covered_steps), set(case.covered_steps)
        tp += len(p & g)
        fp += len(p - g)
        fn += len(g - p)
    micro = 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) else 1.0
    return {
        "n": len(cases),
        "spearman": spearman([cards[c.id].overall for c in plain], [float(BAND_RANK[c.band]) for c in plain]),
        "band_order_rate": round(ordered / total_questions, 4) if total_questions else 0.0,
        "pairwise_concordance": round(pairs_right / pairs_total, 4) if pairs_total else 0.0,
        "adversarial_pass_rate": round(passed / len(adversarial), 4) if adversarial else 1.0,
        "step_f1_macro": round(statistics.fmean(f1(cards[c.id].covered_steps, c.covered_steps) for c in cases), 4),
        "step_f1_micro": round(micro, 4),
        "band_accuracy": round(
            sum(cards[c.id].band == (c.band if c.band != "adversarial" else "weak") for c in cases) / len(cases), 4
        )
        if cases
        else 0.0,
        "reproducible": reproducible,
        "grade_p50_ms": round(statistics.median(timings), 1) if timings else 0.0,
        "cases": [
            {
                "id": c.id,
                "band": c.band,
                "score": cards[c.id].overall,
                "predicted_band": cards[c.id].band,
                "predicted_steps": cards[c.id].covered_steps,
                "flags": cards[c.id].flags,
            }
            for c in cases
        ],
    }

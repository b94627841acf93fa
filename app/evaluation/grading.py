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
    "crossed_off_topic_rate",
    "length_robust_rate",
    "non_english_strong_rate",
)
PLAIN_KINDS = {"strong": "strong", "partial": "partial", "weak": "weak", "off_topic": "off_topic_neighbour"}
CROSSINGS = 2  # each strong or partial answer is graded again under this many other questions of the file


@dataclass(frozen=True)
class GradingCase:
    id: str
    question: str
    answer: str
    band: str  # strong, partial, weak, off_topic or adversarial
    covered_steps: list[int]
    notes: str = ""
    kind: str = ""  # strong, concise_strong, long_weak, non_english, ... where the file labels it
    split: str = ""  # tune or test, where the file is split by question


def load_cases(path: Path, split: str | None = None) -> list[GradingCase]:
    """Read a JSONL file of {id, question, answer, band, covered_steps, notes, [kind], [split]}; with `split`, only
    the cases of that half."""
    cases = load_jsonl(
        path,
        lambda raw: GradingCase(
            str(raw["id"]),
            str(raw["question"]),
            str(raw["answer"]),
            str(raw["band"]),
            [int(s) for s in raw.get("covered_steps", [])],
            str(raw.get("notes", "")),
            str(raw.get("kind", "")),
            str(raw.get("split", "")),
        ),
        "grading",
    )
    return [c for c in cases if split is None or c.split == split]


def band_representatives(cases: list[GradingCase]) -> dict[str, dict[str, GradingCase]]:
    """Per question, one answer per band for the ordering metrics: the plain kind where the file labels kinds
    (not a concise, long or translated variant), else the first answer of the band."""
    groups: dict[str, dict[str, GradingCase]] = {}
    for case in cases:
        group = groups.setdefault(case.question, {})
        if case.kind and case.kind != PLAIN_KINDS.get(case.band, case.band):
            continue
        group.setdefault(case.band, case)
    return groups


def crossed(cases: list[GradingCase]) -> list[GradingCase]:
    """Every strong and partial answer asked again under the next questions of the file, in order: each of these
    answers a different question, so each should be graded off topic."""
    questions = list(dict.fromkeys(c.question for c in cases))
    result = []
    for case in cases:
        if case.band not in ("strong", "partial") or len(questions) < 2:
            continue
        at = questions.index(case.question)
        steps = range(1, min(CROSSINGS, len(questions) - 1) + 1)
        others = [questions[(at + step) % len(questions)] for step in steps]
        result += [GradingCase(f"{case.id}@{n}", q, case.answer, "off_topic", []) for n, q in enumerate(others, 1)]
    return result


def length_pairs(cases: list[GradingCase]) -> list[tuple[GradingCase, GradingCase]]:
    """Per question, (concise strong answer, long weak answer) where the file labels both kinds."""
    pairs = []
    for question in dict.fromkeys(c.question for c in cases):
        concise = [c for c in cases if c.question == question and c.kind == "concise_strong"]
        long_weak = [c for c in cases if c.question == question and c.kind == "long_weak"]
        pairs += [(a, b) for a in concise for b in long_weak]
    return pairs


def rate(hits: int, total: int) -> float | None:
    """A share rounded to 4 places; None when there is nothing to measure."""
    return round(hits / total, 4) if total else None


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
    by_question = band_representatives(cases)
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
    crossings = crossed(cases)
    crossed_bands = [grade(c.question, c.answer).band for c in crossings]
    pairs = length_pairs(cases)
    foreign = [c for c in cases if c.kind == "non_english" and c.band == "strong"]
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
        "crossed_off_topic_rate": rate(sum(b == "off_topic" for b in crossed_bands), len(crossings)),
        "length_robust_rate": rate(sum(cards[a.id].overall > cards[b.id].overall for a, b in pairs), len(pairs)),
        "non_english_strong_rate": rate(sum(cards[c.id].band in ("strong", "partial") for c in foreign), len(foreign)),
        "crossed": [{"id": c.id, "predicted_band": band} for c, band in zip(crossings, crossed_bands, strict=True)],
        "cases": [
            {
                "id": c.id,
                "band": c.band,
                "score": cards[c.id].overall,
                "predicted_band": cards[c.id].band,
                "predicted_steps": cards[c.id].covered_steps,
                "flags": cards[c.id].flags,
                "kind": c.kind,
            }
            for c in cases
        ],
    }

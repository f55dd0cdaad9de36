"""Pure statistics for benchmark samples: percentiles and latency summaries (no I/O, unit-tested)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LatencySummary", "percentile", "rate"]


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile of ``values`` by linear interpolation between closest ranks.

    This is the "inclusive" definition (Hyndman & Fan type 7, numpy's default): the 0th percentile is
    the minimum, the 100th the maximum, and values in between interpolate between the two neighbouring
    order statistics.

    Args:
        values: the samples, in any order; must not be empty.
        q: the percentile, 0 <= q <= 100.

    Raises:
        ValueError: ``values`` is empty or ``q`` is outside [0, 100] or not a number.
    """
    if not values:
        raise ValueError("percentile of an empty sample")
    if math.isnan(q) or not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be within [0, 100], got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    weight = position - lower
    return float(ordered[lower] + (ordered[upper] - ordered[lower]) * weight)


def rate(count: int, seconds: float) -> float:
    """Return ``count / seconds``; raises ``ValueError`` for a non-positive duration."""
    if seconds <= 0.0:
        raise ValueError(f"a rate needs a positive duration, got {seconds} s")
    return count / seconds


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles of a latency sample, in milliseconds."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> LatencySummary:
        """Summarise a non-empty sample of latencies given in milliseconds."""
        if not samples_ms:
            raise ValueError("no latency samples to summarise")
        return cls(
            count=len(samples_ms),
            p50_ms=percentile(samples_ms, 50),
            p90_ms=percentile(samples_ms, 90),
            p99_ms=percentile(samples_ms, 99),
            max_ms=float(max(samples_ms)),
            mean_ms=math.fsum(samples_ms) / len(samples_ms),
        )

    def as_detail(self) -> dict[str, float | int]:
        """Return the summary as a JSON-ready mapping (rounded to microseconds)."""
        return {
            "samples": self.count,
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "mean_ms": round(self.mean_ms, 3),
        }

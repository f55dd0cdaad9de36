"""The typed result entry, ratio and goal maths, and the shape of ``bench/results/latest.json``.

Everything here is pure (no broker, no clock), so it is unit-tested in ``tests/unit/bench``.

A baseline entry (``B1`` ...) carries only ``id``, ``value`` and ``unit``. A corps entry (``G1`` ...)
also names its ``baseline_id`` and its ``goal_ratio``; the harness fills in ``ratio`` from the baseline
measured in the same run. ``ratio_mode`` says which way the ratio is taken: ``corps/baseline`` (the
default; right for throughput, where higher is better) or ``baseline/corps``; ``goal_op`` says whether the
goal is a floor (``>=``, the default) or a ceiling (``<=``, e.g. "p99 at most 1.5x the raw relay").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "GoalOp",
    "RatioMode",
    "Report",
    "Result",
    "compute_ratio",
    "duplicate_ids",
    "resolve_ratios",
]


class RatioMode(StrEnum):
    """Which way a corps figure is compared with its baseline."""

    CORPS_OVER_BASELINE = "corps/baseline"
    BASELINE_OVER_CORPS = "baseline/corps"


class GoalOp(StrEnum):
    """Whether ``goal_ratio`` is a floor or a ceiling for ``ratio``."""

    AT_LEAST = ">="
    AT_MOST = "<="


class Result(BaseModel):
    """One measured figure.

    Attributes:
        id: stable identifier, ``<benchmark>.<figure>`` (e.g. ``B1.msgs_per_s``, ``G2.p99_ms``).
        label: a short human description for the table.
        value: the measured number.
        unit: its unit (``msgs/s``, ``MB/s``, ``ms``).
        baseline_id: for corps figures, the id of the baseline entry it is compared with.
        ratio_mode: which way ``ratio`` is taken (see module docstring).
        ratio: corps vs baseline, filled in by the harness when ``baseline_id`` is set.
        goal_ratio: the ratio the issue sets as the goal.
        goal_op: whether ``goal_ratio`` is a floor or a ceiling.
        detail: free-form, JSON-ready facts (settings used, sample counts, percentiles...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    label: str = ""
    value: float
    unit: str = Field(min_length=1)
    baseline_id: str | None = None
    ratio_mode: RatioMode = RatioMode.CORPS_OVER_BASELINE
    ratio: float | None = None
    goal_ratio: float | None = Field(default=None, gt=0)
    goal_op: GoalOp = GoalOp.AT_LEAST
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def goal_met(self) -> bool | None:
        """True/False when both ``ratio`` and ``goal_ratio`` are known, else None."""
        if self.ratio is None or self.goal_ratio is None:
            return None
        if self.goal_op is GoalOp.AT_LEAST:
            return self.ratio >= self.goal_ratio
        return self.ratio <= self.goal_ratio

    def to_json(self) -> dict[str, Any]:
        """Return the JSON entry, including the derived ``goal_met``."""
        data = self.model_dump(mode="json")
        data["goal_met"] = self.goal_met
        return data


def compute_ratio(corps: float, baseline: float, mode: RatioMode) -> float | None:
    """Return the ratio of a corps figure to its baseline, or None when the divisor is zero."""
    numerator, divisor = (corps, baseline) if mode is RatioMode.CORPS_OVER_BASELINE else (baseline, corps)
    if divisor == 0:
        return None
    return numerator / divisor


def resolve_ratios(results: Sequence[Result]) -> list[Result]:
    """Fill in ``ratio`` for every entry that names a ``baseline_id`` present in ``results``.

    An entry whose baseline was not measured in this run keeps ``ratio=None`` and gets
    ``detail["ratio_missing"]`` saying why; a ratio a module computed itself is kept.
    """
    by_id = {result.id: result for result in results}
    resolved: list[Result] = []
    for result in results:
        if result.baseline_id is None or result.ratio is not None:
            resolved.append(result)
            continue
        baseline = by_id.get(result.baseline_id)
        if baseline is None:
            detail = {
                **result.detail,
                "ratio_missing": f"baseline {result.baseline_id} not measured in this run",
            }
            resolved.append(result.model_copy(update={"detail": detail}))
            continue
        ratio = compute_ratio(result.value, baseline.value, result.ratio_mode)
        resolved.append(result.model_copy(update={"ratio": ratio}))
    return resolved


class Report(BaseModel):
    """The whole run, as written to ``bench/results/latest.json``.

    ``contention`` maps each module id to the CPU other work took while it ran (see
    :mod:`bench.contention`): figures measured with ``other_cores`` well above zero are not clean.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: list[Result]
    versions: dict[str, str]
    machine: dict[str, Any]
    started_at: str
    duration_s: float
    scale: str
    errors: dict[str, str] = Field(default_factory=dict)
    contention: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document (entries carry ``goal_met``)."""
        return {
            "entries": [entry.to_json() for entry in self.entries],
            "versions": dict(self.versions),
            "machine": dict(self.machine),
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "scale": self.scale,
            "errors": dict(self.errors),
            "contention": {module: dict(figures) for module, figures in self.contention.items()},
        }


def duplicate_ids(results: Iterable[Result]) -> list[str]:
    """Return ids that occur more than once (a module bug the harness reports)."""
    seen: set[str] = set()
    dupes: list[str] = []
    for result in results:
        if result.id in seen and result.id not in dupes:
            dupes.append(result.id)
        seen.add(result.id)
    return dupes

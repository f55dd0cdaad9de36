"""Result entries, ratio/goal maths and the JSON report shape of the benchmark harness."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from bench.results import GoalOp, RatioMode, Result, compute_ratio, duplicate_ids, resolve_ratios
from bench.runner import build_report, format_value, write_report


def _baseline(id_: str, value: float, unit: str = "msgs/s") -> Result:
    return Result(id=id_, value=value, unit=unit)


def test_throughput_ratio_is_corps_over_baseline() -> None:
    results = resolve_ratios(
        [
            _baseline("B1.msgs_per_s", 400_000),
            Result(
                id="G1.msgs_per_s", value=100_000, unit="msgs/s", baseline_id="B1.msgs_per_s", goal_ratio=0.2
            ),
        ]
    )
    corps = results[1]
    assert corps.ratio == pytest.approx(0.25)
    assert corps.goal_met is True


def test_latency_ratio_can_be_taken_the_other_way() -> None:
    results = resolve_ratios(
        [
            _baseline("B4.p99_ms", 10.0, "ms"),
            Result(
                id="G2.p99_ms",
                value=40.0,
                unit="ms",
                baseline_id="B4.p99_ms",
                ratio_mode=RatioMode.BASELINE_OVER_CORPS,
                goal_ratio=0.5,
            ),
        ]
    )
    assert results[1].ratio == pytest.approx(0.25)
    assert results[1].goal_met is False


def test_overhead_goal_as_a_ceiling() -> None:
    results = resolve_ratios(
        [
            _baseline("B3.p50_ms", 2.0, "ms"),
            Result(
                id="G5.p50_ms",
                value=3.0,
                unit="ms",
                baseline_id="B3.p50_ms",
                goal_ratio=2.0,
                goal_op=GoalOp.AT_MOST,
            ),
        ]
    )
    assert results[1].ratio == pytest.approx(1.5)
    assert results[1].goal_met is True


def test_missing_baseline_leaves_ratio_empty_and_says_why() -> None:
    (corps,) = resolve_ratios([Result(id="G1.x", value=1.0, unit="msgs/s", baseline_id="B1.msgs_per_s")])
    assert corps.ratio is None
    assert corps.goal_met is None
    assert "B1.msgs_per_s" in corps.detail["ratio_missing"]


def test_ratio_a_module_computed_itself_is_kept() -> None:
    results = resolve_ratios(
        [_baseline("B1.a", 10.0), Result(id="G1.a", value=5.0, unit="msgs/s", baseline_id="B1.a", ratio=0.7)]
    )
    assert results[1].ratio == 0.7


def test_zero_divisor_gives_no_ratio() -> None:
    assert compute_ratio(5.0, 0.0, RatioMode.CORPS_OVER_BASELINE) is None
    assert compute_ratio(0.0, 5.0, RatioMode.BASELINE_OVER_CORPS) is None
    assert compute_ratio(0.0, 5.0, RatioMode.CORPS_OVER_BASELINE) == 0.0


def test_baselines_have_no_ratio_or_goal() -> None:
    (entry,) = resolve_ratios([_baseline("B1.msgs_per_s", 1.0)])
    assert entry.ratio is None
    assert entry.goal_met is None


def test_result_is_frozen_and_strict() -> None:
    entry = _baseline("B1.x", 1.0)
    with pytest.raises(ValidationError):
        entry.value = 2.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Result(id="B1.x", value=1.0, unit="ms", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Result(id="G1.x", value=1.0, unit="ms", goal_ratio=0.0)


def test_duplicate_ids_are_found() -> None:
    entries = [_baseline("B1.a", 1), _baseline("B1.b", 2), _baseline("B1.a", 3), _baseline("B1.a", 4)]
    assert duplicate_ids(entries) == ["B1.a"]


def test_report_json_shape(tmp_path: Path) -> None:
    entries = resolve_ratios(
        [
            _baseline("B1.msgs_per_s", 200.0),
            Result(
                id="G1.msgs_per_s", value=100.0, unit="msgs/s", baseline_id="B1.msgs_per_s", goal_ratio=0.4
            ),
        ]
    )
    report = build_report(
        entries,
        {},
        versions={"python": "3.11", "kafka broker": "4.4.0"},
        machine={"cores": 2},
        started_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        duration_s=12.3456,
        scale="small",
        contention={"G1": {"wall_s": 2.0, "other_cores": 0.5}},
    )
    path = tmp_path / "results" / "latest.json"
    write_report(report, path)
    data = json.loads(path.read_text())
    assert set(data) == {
        "entries",
        "versions",
        "machine",
        "started_at",
        "duration_s",
        "scale",
        "errors",
        "contention",
    }
    assert data["contention"] == {"G1": {"wall_s": 2.0, "other_cores": 0.5}}
    assert data["started_at"] == "2025-01-02T03:04:05+00:00"
    assert data["duration_s"] == 12.346
    assert data["scale"] == "small"
    baseline, corps = data["entries"]
    assert baseline["id"] == "B1.msgs_per_s"
    assert baseline["ratio"] is None
    assert corps["baseline_id"] == "B1.msgs_per_s"
    assert corps["ratio"] == pytest.approx(0.5)
    assert corps["goal_ratio"] == 0.4
    assert corps["goal_met"] is True
    assert corps["ratio_mode"] == "corps/baseline"
    assert corps["goal_op"] == ">="
    assert set(corps) >= {"id", "value", "unit", "baseline_id", "ratio", "goal_ratio", "detail"}
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize(
    ("value", "text"), [(1234567.0, "1,234,567"), (271.74, "271.7"), (0.34512, "0.345"), (12.0, "12.000")]
)
def test_format_value(value: float, text: str) -> None:
    assert format_value(value) == text

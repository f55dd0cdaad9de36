"""Ranges and topic selection are checked before anything is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from replay_log import LogMaker

from corps.replay import ReplayInputError, ReplayRange
from corps.replay.coverage import Coverage
from corps.replay.reader import Span


def test_range_validation() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ReplayInputError, match="not both"):
        ReplayRange(from_offset=3, from_time=t)
    with pytest.raises(ReplayInputError, match="time zone"):
        ReplayRange(to_time=datetime(2025, 1, 1))
    with pytest.raises(ReplayInputError, match="after --from-time"):
        ReplayRange(from_time=t, to_time=t)
    with pytest.raises(ReplayInputError, match="--follow"):
        ReplayRange(follow=True, to_time=t)
    assert ReplayRange().complete
    assert not ReplayRange(from_offset=5).complete
    assert ReplayRange(from_time=t).describe()["from_time"] == "2025-01-01T00:00:00+00:00"


def test_topic_selection_by_name_or_role() -> None:
    topics = LogMaker().replay_topics
    assert "rp.orchestrator.state" not in topics.default()
    assert "rp.decisions" in topics.default()
    assert topics.select(["decisions", "rp.A"]) == ["rp.A", "rp.decisions"]
    assert topics.select(["admitted"]) == ["rp.A", "rp.B", "rp.C", "rp.D", "rp.UB", "rp.UC"]
    with pytest.raises(ReplayInputError, match=r"'rp\.Z' is not a topic of workflow rp"):
        topics.select(["rp.Z"])


def test_coverage_tells_missing_from_not_read() -> None:
    spans = [Span("rp.A", 0, 0, 10), Span("rp.A", 1, 4, 10)]
    t = datetime(2025, 1, 1, tzinfo=UTC)
    coverage = Coverage.of(spans, ReplayRange(to_time=t))
    assert coverage.from_start("rp.A", 0)
    assert not coverage.from_start("rp.A", 1)
    assert not coverage.read("rp.B")
    assert coverage.near_end(int(t.timestamp() * 1000) - 10)
    assert not coverage.near_end(int(t.timestamp() * 1000) - 60_000)
    assert Span("t", 0, 5, None).size == 0

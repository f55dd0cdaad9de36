"""Topology models: durations, defaults, shorthands and the per-value rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from topology_helpers import VALID

from corps.topology import TopologyError, parse_topology
from corps.topology._durations import FOREVER_SPAN, format_duration, parse_duration, retention_ms
from corps.topology.models import Backoff, RetryPolicy


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("30s", 30), ("5m", 300), ("4h", 14400), ("7d", 604800), ("1w", 604800), (12, 12)],
)
def test_durations_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["soon", "5 years", "-3s", -1])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_durations_format_back() -> None:
    assert format_duration(timedelta(seconds=90)) == "90s"
    assert format_duration(timedelta(hours=2)) == "2h"
    assert format_duration(timedelta(milliseconds=1500)) == "1500ms"
    assert format_duration(FOREVER_SPAN) == "forever"
    assert retention_ms(FOREVER_SPAN) == -1
    assert retention_ms(timedelta(days=1)) == 86_400_000


def test_backoff_grows_and_caps() -> None:
    backoff = Backoff(initial=timedelta(seconds=1), multiplier=3, max=timedelta(seconds=5))
    assert [backoff.delay(n).total_seconds() for n in (1, 2, 3)] == [1, 3, 5]
    policy = RetryPolicy(max_attempts=3, backoff=backoff)
    assert policy.budget(timedelta(seconds=10)) == timedelta(seconds=30 + 1 + 3)


def load(text: str) -> object:
    return parse_topology(text, Path("t.yaml")).topology


def test_valid_topology_loads_with_defaults() -> None:
    topo = parse_topology(VALID, Path("t.yaml")).topology
    assert topo.workflow.name == "shop"
    assert topo.steps["pay"].on == "Ordered"  # `on` is a key, never the YAML 1.1 boolean
    assert topo.steps["pay"].compensation is not None
    assert topo.steps["pay"].compensation.event == "Refunded"
    assert topo.steps["ship"].compensable is False
    assert topo.step_timeout("pay") == timedelta(seconds=30)
    assert topo.compensation_attempts("pay") == 3
    assert topo.schema_fullname("Paid") == "t.shop.Paid"
    assert topo.topics.decisions.retention == FOREVER_SPAN


def test_compensation_long_form_and_yes_stays_a_string() -> None:
    text = VALID.replace(
        "    compensation: Refunded\n", "    compensation: {event: Refunded, timeout: 2m, max_attempts: 5}\n"
    ).replace("  courier: {}\n", "  courier: {description: yes}\n")
    topo = parse_topology(text, Path("t.yaml")).topology
    assert topo.compensation_timeout("pay") == timedelta(minutes=2)
    assert topo.compensation_attempts("pay") == 5
    assert topo.agents["courier"].description == "yes"


def test_approval_quorum_cannot_exceed_approvers() -> None:
    text = VALID.replace(
        "    irreversible: true\n", "    irreversible: true\n    approval: {approvers: [ann], quorum: 2}\n"
    )
    with pytest.raises(TopologyError, match="quorum 2 exceeds"):
        parse_topology(text, Path("t.yaml"))


def test_side_effects_false_with_compensation_is_refused() -> None:
    text = VALID.replace(
        "    compensation: Refunded\n", "    compensation: Refunded\n    side_effects: false\n"
    )
    with pytest.raises(TopologyError) as caught:
        parse_topology(text, Path("t.yaml"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.location.key == "steps.pay"
    assert diagnostic.location.line == VALID.splitlines().index("  pay:") + 1


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(TopologyError, match="is a mapping"):
        parse_topology("- just\n- a list\n", Path("t.yaml"))
    with pytest.raises(TopologyError, match="no YAML document"):
        parse_topology("", Path("t.yaml"))


def test_an_unreadable_file_is_a_topology_error(tmp_path: Path) -> None:
    from corps.topology import load_topology

    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "missing.yaml")

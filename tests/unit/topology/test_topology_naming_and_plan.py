"""Topic names come from one convention; the apply plan is a pure diff against the cluster."""

from __future__ import annotations

from pathlib import Path

from topology_helpers import VALID

from corps.topology import (
    ChangeKind,
    Stage,
    TopicSpec,
    admitted_topic,
    decision_topic,
    desired_topics,
    diff_topics,
    lifecycle_topic,
    parse_topology,
    proposed_topic,
)
from corps.topology.naming import subject_for
from corps.topology.plan import CurrentTopic


def test_topic_naming_convention() -> None:
    assert admitted_topic("support", "TicketOpened") == "support.TicketOpened"
    assert proposed_topic("support", "TicketOpened") == "support.TicketOpened.proposed"
    assert lifecycle_topic("support") == "support.lifecycle"
    assert lifecycle_topic("support", Stage.PROPOSED) == "support.lifecycle.proposed"
    assert decision_topic("support") == "support.decisions"
    assert subject_for("support.TicketOpened") == "support.TicketOpened-value"


def specs() -> list[TopicSpec]:
    return desired_topics(parse_topology(VALID, Path("t.yaml")).topology)


def test_every_topic_shares_the_partition_count() -> None:
    wanted = specs()
    names = [s.name for s in wanted]
    assert len(names) == 5 * 2 + 3  # admitted + proposed per event, lifecycle pair, decisions
    assert "shop.Ordered" in names
    assert "shop.Ordered.proposed" in names
    assert {s.partitions for s in wanted} == {4}
    retention = {s.name: s.config["retention.ms"] for s in wanted}
    assert retention["shop.Ordered"] == str(7 * 86_400_000)
    assert retention["shop.decisions"] == "-1"


def current_of(wanted: list[TopicSpec], **changes: object) -> dict[str, CurrentTopic]:
    return {s.name: CurrentTopic(**{**s.model_dump(), **changes}) for s in wanted}


def test_an_empty_cluster_creates_everything() -> None:
    plan = diff_topics(specs(), {})
    assert {c.kind for c in plan.changes} == {ChangeKind.CREATE}
    assert len(plan.changes) == 13
    assert not plan.refusals


def test_a_cluster_that_matches_needs_nothing() -> None:
    wanted = specs()
    plan = diff_topics(wanted, current_of(wanted))
    assert plan.empty
    assert len(plan.unchanged) == len(wanted)


def test_fewer_partitions_grow_and_other_retention_is_altered() -> None:
    wanted = specs()
    current = current_of(wanted, partitions=2, config={"retention.ms": "1000"})
    plan = diff_topics(wanted, current)
    kinds = {c.kind for c in plan.changes}
    assert kinds == {ChangeKind.ADD_PARTITIONS, ChangeKind.ALTER_CONFIG}
    grow = next(c for c in plan.changes if c.kind is ChangeKind.ADD_PARTITIONS)
    assert grow.partitions == 4
    alter = next(c for c in plan.changes if c.kind is ChangeKind.ALTER_CONFIG and c.topic == "shop.Ordered")
    assert alter.config == {"retention.ms": str(7 * 86_400_000)}
    assert "1000 ->" in alter.detail


def test_a_partition_decrease_and_a_replication_change_are_refused() -> None:
    wanted = specs()
    plan = diff_topics(wanted, current_of(wanted, partitions=8))
    assert len(plan.refusals) == len(wanted)
    assert "refusing to decrease" in plan.refusals[0]
    assert not plan.changes
    plan = diff_topics(wanted, current_of(wanted, replication=3))
    assert "replication factor" in plan.refusals[0]

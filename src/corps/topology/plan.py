"""What topics a topology needs, and the difference to what a cluster has (pure: no I/O).

:func:`desired_topics` lists every topic with its partitions, replication and managed configuration;
:func:`diff_topics` compares that with a snapshot of the cluster and says what to create, which
configuration to alter and where to add partitions — and refuses what ``apply`` must never do:
decrease partitions (it would move workflows between partitions and break their order) or change the
replication factor (that is a reassignment, not a config change).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from corps.topology._durations import retention_ms
from corps.topology.models import Topology
from corps.topology.naming import Stage, decision_topic, lifecycle_topic, topic_name

__all__ = [
    "ChangeKind",
    "CurrentTopic",
    "TopicChange",
    "TopicPlan",
    "TopicSpec",
    "desired_topics",
    "diff_topics",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TopicSpec(BaseModel):
    """A topic as the topology wants it; ``config`` holds only the keys corps manages."""

    model_config = _FROZEN

    name: str
    partitions: int
    replication: int
    config: dict[str, str] = Field(default_factory=dict)


class CurrentTopic(BaseModel):
    """A topic as the cluster has it (``config``: the current values of the managed keys)."""

    model_config = _FROZEN

    name: str
    partitions: int
    replication: int
    config: dict[str, str] = Field(default_factory=dict)


class ChangeKind(StrEnum):
    """What ``apply`` does to one topic."""

    CREATE = "create"
    ADD_PARTITIONS = "add partitions"
    ALTER_CONFIG = "alter config"


class TopicChange(BaseModel):
    """One change to one topic, with a human-readable detail for the diff."""

    model_config = _FROZEN

    kind: ChangeKind
    topic: str
    detail: str
    partitions: int | None = None
    replication: int | None = None
    config: dict[str, str] = Field(default_factory=dict)


class TopicPlan(BaseModel):
    """The changes ``apply`` would make, and the ones it refuses (a plan with refusals is not applied)."""

    model_config = _FROZEN

    changes: tuple[TopicChange, ...] = ()
    refusals: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when there is nothing to do and nothing refused."""
        return not self.changes and not self.refusals


def desired_topics(topology: Topology) -> list[TopicSpec]:
    """Every topic of ``topology``: admitted + proposed per event type, lifecycle pair, decision log."""
    topics = topology.topics
    name = topology.workflow.name
    specs: list[TopicSpec] = []

    def add(topic: str, retention: timedelta, extra: Mapping[str, str]) -> None:
        config = {**topics.config, **extra}
        config["retention.ms"] = str(retention_ms(retention))
        specs.append(
            TopicSpec(name=topic, partitions=topics.partitions, replication=topics.replication, config=config)
        )

    for event_name, event in topology.events.items():
        retention = event.retention or topics.retention
        add(topic_name(name, event_name, Stage.ADMITTED), retention, {})
        add(topic_name(name, event_name, Stage.PROPOSED), topics.proposed_retention or retention, {})
    lifecycle_retention = topics.lifecycle.retention or topics.retention
    add(lifecycle_topic(name, Stage.ADMITTED), lifecycle_retention, topics.lifecycle.config)
    add(lifecycle_topic(name, Stage.PROPOSED), topics.proposed_retention or lifecycle_retention, {})
    add(decision_topic(name), topics.decisions.retention or topics.retention, topics.decisions.config)
    return specs


def diff_topics(desired: list[TopicSpec], current: Mapping[str, CurrentTopic]) -> TopicPlan:
    """Compare the wanted topics with the cluster's; pure, so the diff is testable without a broker."""
    changes: list[TopicChange] = []
    refusals: list[str] = []
    unchanged: list[str] = []
    for spec in desired:
        have = current.get(spec.name)
        if have is None:
            changes.append(
                TopicChange(
                    kind=ChangeKind.CREATE,
                    topic=spec.name,
                    detail=f"partitions={spec.partitions} replication={spec.replication} "
                    + " ".join(f"{k}={v}" for k, v in sorted(spec.config.items())),
                    partitions=spec.partitions,
                    replication=spec.replication,
                    config=spec.config,
                )
            )
            continue
        touched = False
        if have.partitions > spec.partitions:
            refusals.append(
                f"{spec.name}: has {have.partitions} partitions, the topology says {spec.partitions}; "
                "refusing to decrease (it would reorder workflows). Raise topics.partitions instead."
            )
            touched = True
        elif have.partitions < spec.partitions:
            changes.append(
                TopicChange(
                    kind=ChangeKind.ADD_PARTITIONS,
                    topic=spec.name,
                    detail=f"partitions {have.partitions} -> {spec.partitions}",
                    partitions=spec.partitions,
                )
            )
            touched = True
        if have.replication != spec.replication:
            refusals.append(
                f"{spec.name}: replication factor is {have.replication}, the topology says "
                f"{spec.replication}; changing it needs a partition reassignment, which apply does not do"
            )
            touched = True
        altered = {k: v for k, v in sorted(spec.config.items()) if have.config.get(k) != v}
        if altered:
            changes.append(
                TopicChange(
                    kind=ChangeKind.ALTER_CONFIG,
                    topic=spec.name,
                    detail=" ".join(
                        f"{k}: {have.config.get(k, '<default>')} -> {v}" for k, v in altered.items()
                    ),
                    config=altered,
                )
            )
            touched = True
        if not touched:
            unchanged.append(spec.name)
    return TopicPlan(changes=tuple(changes), refusals=tuple(refusals), unchanged=tuple(unchanged))

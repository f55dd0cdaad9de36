"""The topics the gate and the orchestrator use for one topology, and the records they write.

Names come from :mod:`corps.topology.naming` only. Besides the topology's own topics the service
keeps two: ``<workflow>.orchestrator.state``, the compacted changelog of every workflow's state
(keyed by workflow id, co-partitioned with the rest), and ``<workflow>.gate.dlq``, the gate's dead
letters (records that carry no valid envelope or do not decode).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corps.topology import (
    Stage,
    Topology,
    admitted_topic,
    decision_topic,
    lifecycle_topic,
    proposed_topic,
)
from corps.topology.naming import gate_dead_letter_topic, state_topic

__all__ = ["OutRecord", "TopologyTopics"]


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to produce, with its partition fixed (co-partitioning: a workflow stays put)."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


@dataclass(frozen=True)
class TopologyTopics:
    """Every topic name the service needs for one topology.

    Attributes:
        workflow: The workflow name (prefix of every topic).
        proposed: Proposed topic -> the topology's event name read there (``None``: the lifecycle).
        admitted: The topology's event name -> its admitted topic.
        lifecycle: The admitted lifecycle topic (the orchestrator writes it, agents read it).
        lifecycle_proposed: Where agents report StepFailed / Compensation*.
        decisions: The gate's hash-chained decision log.
        state: The compacted state changelog.
        dead_letters: The gate's dead-letter topic.
    """

    workflow: str
    proposed: dict[str, str | None]
    admitted: dict[str, str]
    lifecycle: str
    lifecycle_proposed: str
    decisions: str
    state: str
    dead_letters: str

    @classmethod
    def of(cls, topology: Topology) -> TopologyTopics:
        """The topics of ``topology``."""
        name = topology.workflow.name
        proposed: dict[str, str | None] = {proposed_topic(name, event): event for event in topology.events}
        lifecycle_proposed = lifecycle_topic(name, Stage.PROPOSED)
        proposed[lifecycle_proposed] = None
        return cls(
            workflow=name,
            proposed=proposed,
            admitted={event: admitted_topic(name, event) for event in topology.events},
            lifecycle=lifecycle_topic(name),
            lifecycle_proposed=lifecycle_proposed,
            decisions=decision_topic(name),
            state=state_topic(name),
            dead_letters=gate_dead_letter_topic(name),
        )

    @property
    def inputs(self) -> list[str]:
        """The topics the service consumes: every proposed topic."""
        return sorted(self.proposed)

    @property
    def multi_type(self) -> frozenset[str]:
        """Topics carrying several record types (subjects ``<topic>-<fullname>``)."""
        return frozenset({self.lifecycle, self.lifecycle_proposed})

    def subject(self, topic: str, event_type: str) -> str:
        """Registry subject of ``event_type`` on ``topic`` (as ``corps topology apply`` registers them)."""
        return f"{topic}-{event_type}" if topic in self.multi_type else f"{topic}-value"

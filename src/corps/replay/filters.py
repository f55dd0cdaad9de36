"""Which workflows and events a replay shows: by workflow id, tenant, agent and event type.

Workflow and tenant filters choose whole workflows (verification always sees every record of a chosen
workflow: a chain cannot be checked from half its links). Agent and event-type filters choose the
events shown in those workflows' timelines. Every filter takes several values (any of them matches).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from corps.replay.records import LogRecord
from corps.topology import Topology

__all__ = ["RecordFilter"]


def _clean(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(v.strip() for v in values or () if v.strip())


@dataclass(frozen=True)
class RecordFilter:
    """What to keep.

    Attributes:
        workflows: Workflow ids to keep (empty: all).
        tenants: Tenants to keep (empty: all).
        agents: Agents whose events to show: events they emitted (``ce_source``), events of steps
            they run (``ce_step``), and lifecycle reports naming them (``agent`` field).
        event_types: Event types to show, as Avro fullname (``demo.support.TicketOpened``) or short
            name (``TicketOpened``).
        agent_steps: Step -> agent, from the topology (set by :meth:`of`).
    """

    workflows: frozenset[str] = frozenset()
    tenants: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    agent_steps: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls,
        topology: Topology | None = None,
        *,
        workflows: Iterable[str] | None = None,
        tenants: Iterable[str] | None = None,
        agents: Iterable[str] | None = None,
        event_types: Iterable[str] | None = None,
    ) -> RecordFilter:
        """Build a filter; ``topology`` tells which agent runs which step."""
        steps = {name: step.agent for name, step in topology.steps.items()} if topology else {}
        return cls(_clean(workflows), _clean(tenants), _clean(agents), _clean(event_types), steps)

    @property
    def empty(self) -> bool:
        """True when nothing is filtered out."""
        return not (self.workflows or self.tenants or self.agents or self.event_types)

    @property
    def narrows_events(self) -> bool:
        """True when some events of a chosen workflow may be hidden."""
        return bool(self.agents or self.event_types)

    def keeps_workflow(self, workflow_id: str, tenant: str | None) -> bool:
        """Whether the workflow ``workflow_id`` of ``tenant`` is chosen."""
        if self.workflows and workflow_id not in self.workflows:
            return False
        return not self.tenants or tenant in self.tenants

    def keeps_event(
        self,
        event_type: str | None,
        source: str | None,
        step: str | None,
        data: Mapping[str, Any] | None,
    ) -> bool:
        """Whether an event of a chosen workflow is shown."""
        if self.event_types:
            full = event_type or ""
            if full not in self.event_types and full.rpartition(".")[2] not in self.event_types:
                return False
        if self.agents:
            return bool(self._agents_of(source, step, data) & self.agents)
        return True

    def keeps_record(self, record: LogRecord) -> bool:
        """:meth:`keeps_event` for one record."""
        return self.keeps_event(record.event_type, record.source, record.step, record.data)

    def _agents_of(self, source: str | None, step: str | None, data: Mapping[str, Any] | None) -> set[str]:
        found: set[str] = set()
        if source:
            found.add(source)
        if step and step in self.agent_steps:
            found.add(self.agent_steps[step])
        if data is not None:
            agent = data.get("agent")
            if isinstance(agent, str):
                found.add(agent)
            named = data.get("step")
            if isinstance(named, str) and named in self.agent_steps:
                found.add(self.agent_steps[named])
        return found

    def describe(self) -> dict[str, Any]:
        """The filter, JSON-ready (sorted, so equal filters print equally)."""
        return {
            "workflows": sorted(self.workflows),
            "tenants": sorted(self.tenants),
            "agents": sorted(self.agents),
            "event_types": sorted(self.event_types),
        }

"""Fold decoded records into per-workflow timelines (the order records arrive in does not matter).

Records are grouped by workflow (``ce_workflowid``, else the key) and merged by event id: the proposed
copy, the admitted copy and the gate's decision record about an event become one
:class:`~corps.replay.timeline.TimelineEntry`. Everything is sorted at the end by a total order, so the
same records always give the same timelines, whichever partition was read first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from corps.replay.filters import RecordFilter
from corps.replay.records import LogRecord
from corps.replay.stages import WorkflowFold, merge_folds
from corps.replay.timeline import (
    GateDecision,
    Stage,
    TimelineEntry,
    WorkflowTimeline,
)
from corps.replay.timeline_summary import timeline_of
from corps.replay.topics import ReplayTopics, Role
from corps.topology import Topology

__all__ = ["TimelineBuilder"]

_LIFECYCLE = "corps.lifecycle."
_SKIPPED = (Role.STATE, Role.DEAD_LETTERS)
_ADMITTED_SIDE = frozenset(role for role in Role if role.admitted_side)


class TimelineBuilder:
    """Collects records and builds timelines.

    Args:
        topology: The topology replayed (step -> agent, workflow name).
        topics: Its topics with their roles.
        keep_data: Keep every payload on its entry (off: only lifecycle payloads, which the summaries
            read — statuses, failed steps, approvers — less memory).
    """

    def __init__(self, topology: Topology, topics: ReplayTopics, *, keep_data: bool = True) -> None:
        self.topology = topology
        self.topics = topics
        self.keep_data = keep_data
        self._workflows: dict[str, WorkflowFold] = {}
        self._roles = topics.roles
        self.records = 0

    def add_all(self, records: Iterable[LogRecord]) -> None:
        """Add many records."""
        for record in records:
            self.add(record)

    def add(self, record: LogRecord) -> None:
        """Add one record (any topic of the topology, any order)."""
        role = self._roles.get(record.topic)
        if role in _SKIPPED:
            return
        self.records += 1
        workflow = record.workflow_id if record.workflow_id is not None else record.workflow
        wf = self._workflows.get(workflow)
        if wf is None:
            wf = self._workflows[workflow] = WorkflowFold()
        if wf.tenant is None and record.tenant:
            wf.tenant = record.tenant
        data = record.data
        if role is Role.DECISIONS and data is not None and "decided_event_id" in data:
            self._decision(wf, record, data)
            return
        location = f"{record.topic}[{record.partition}]@{record.offset}"
        event_id = record.event_id or f"?{location}"
        entry = wf.entries.get(event_id)
        if entry is None:
            entry = wf.entries[event_id] = self._entry(event_id, record.event_type or "?", record)
        elif event_id not in wf.filled:
            self._fill(entry, record)
        wf.filled.add(event_id)
        entry.locations.append(location)
        if record.problem and entry.problem is None:
            entry.problem = record.problem
        if record.attempt is not None:
            entry.attempt = max(entry.attempt or 0, record.attempt)
        admitted_side = role in _ADMITTED_SIDE
        if admitted_side:
            wf.admitted.add(event_id)
        if data is not None and (admitted_side or entry.data is None) and (self.keep_data or entry.lifecycle):
            entry.data = data

    def absorb(self, other: TimelineBuilder) -> None:
        """Merge what ``other`` folded (e.g. other partitions) into this builder.

        Workflows seen by one builder only are taken as they are (the normal case: a workflow's records
        share one partition index). A workflow seen by both (records keyed off their workflow) is
        merged event by event, so absorbing builders in a fixed order gives a fixed result however the
        records were split between them.
        """
        self.records += other.records
        for workflow_id, theirs in other._workflows.items():
            ours = self._workflows.get(workflow_id)
            if ours is None:
                self._workflows[workflow_id] = theirs
            else:
                merge_folds(ours, theirs)

    def state(self) -> dict[str, Any]:
        """What :meth:`absorb` needs of this builder, picklable (to hand a fold over between processes)."""
        return {"records": self.records, "workflows": self._workflows}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Absorb a :meth:`state` of another builder of the same topology."""
        other = TimelineBuilder(self.topology, self.topics, keep_data=self.keep_data)
        other.records = int(state["records"])
        other._workflows = dict(state["workflows"])
        self.absorb(other)

    def _entry(self, event_id: str, event_type: str, record: LogRecord | None) -> TimelineEntry:
        entry = TimelineEntry(
            event_id=event_id,
            event_type=event_type,
            name=event_type.rpartition(".")[2],
            lifecycle=event_type.startswith(_LIFECYCLE),
            stage=Stage.PROPOSED,
            source="",
            step=None,
            time=None,
        )
        if record is not None:
            self._fill(entry, record)
        return entry

    @staticmethod
    def _fill(entry: TimelineEntry, record: LogRecord) -> None:
        entry.source = record.source or ""
        entry.step = record.step
        entry.time = record.time
        entry.causation_id = record.causation_id
        if record.event_type:
            entry.event_type = record.event_type
            entry.name = record.short_type
            entry.lifecycle = record.event_type.startswith(_LIFECYCLE)

    def _decision(self, wf: WorkflowFold, record: LogRecord, data: Mapping[str, Any]) -> None:
        decided = str(data["decided_event_id"])
        entry = wf.entries.get(decided)
        if entry is None:
            entry = wf.entries[decided] = self._entry(decided, str(data.get("decided_event_type", "?")), None)
            entry.time = record.time  # the decision carries the decided event's time
        policies = tuple(
            (str(p.get("policy_id", "")), str(p.get("policy_version", "")))
            for p in data.get("policies") or ()
        )
        entry.decisions.append(
            GateDecision(
                sequence=int(data.get("sequence", -1)),
                effect=str(data.get("effect", "?")),
                reason=str(data.get("reason", "")),
                policies=policies,
                redacted_fields=tuple(str(f) for f in data.get("redacted_fields") or ()),
                hash=str(data.get("hash", "")),
                location=record.describe(),
            )
        )

    # -- building ---------------------------------------------------------------------------------------

    def tenant_of(self, workflow_id: str) -> str | None:
        """The tenant of a workflow seen (``None`` when unknown)."""
        wf = self._workflows.get(workflow_id)
        return wf.tenant if wf is not None else None

    def workflow_ids(self) -> list[str]:
        """Every workflow seen, sorted."""
        return sorted(self._workflows)

    def build(self, selection: RecordFilter | None = None) -> list[WorkflowTimeline]:
        """The timelines of the chosen workflows, ordered by start time then id.

        Agent and event-type filters hide entries; a workflow left with no entry is dropped.
        """
        chosen = selection or RecordFilter()
        timelines: list[WorkflowTimeline] = []
        for workflow_id, wf in self._workflows.items():
            if not chosen.keeps_workflow(workflow_id, wf.tenant):
                continue
            timeline = timeline_of(workflow_id, wf, self.topology)
            if chosen.narrows_events:
                timeline.entries = [
                    e for e in timeline.entries if chosen.keeps_event(e.event_type, e.source, e.step, e.data)
                ]
                if not timeline.entries:
                    continue
            timelines.append(timeline)
        far = float("inf")
        timelines.sort(key=lambda t: (t.started_at.timestamp() if t.started_at else far, t.workflow_id))
        return timelines

    def __len__(self) -> int:
        return len(self._workflows)

"""A workflow as a fold holds it, how two folds of it merge, and how its events and status are classified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corps.events.lifecycle import CompensationRequested, WorkflowStarted
from corps.orchestrator.driver import ORCHESTRATOR_SOURCE
from corps.orchestrator.gate import DECISION_SOURCE
from corps.replay.timeline import Stage, TimelineEntry, WorkflowStatus, WorkflowTimeline

__all__ = ["WorkflowFold", "merge_folds", "open_status", "stage_of"]


@dataclass
class WorkflowFold:
    """What a fold knows of one workflow so far (picklable, to hand a fold between processes)."""

    tenant: str | None = None
    entries: dict[str, TimelineEntry] = field(default_factory=dict)
    admitted: set[str] = field(default_factory=set)
    filled: set[str] = field(default_factory=set)
    """Entries filled from a record of the event itself (not only from a decision about it)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (WorkflowFold, (self.tenant, self.entries, self.admitted, self.filled))


def merge_folds(ours: WorkflowFold, theirs: WorkflowFold) -> None:
    """Merge ``theirs`` into ``ours`` (the same workflow folded from other records), event by event."""
    ours.tenant = ours.tenant or theirs.tenant
    for event_id, entry in theirs.entries.items():
        mine = ours.entries.get(event_id)
        if mine is None:
            ours.entries[event_id] = entry
            continue
        if event_id not in ours.filled and event_id in theirs.filled:
            for name in ("source", "step", "time", "causation_id", "event_type", "name", "lifecycle"):
                setattr(mine, name, getattr(entry, name))
        mine.decisions.extend(entry.decisions)
        mine.locations.extend(entry.locations)
        if mine.problem is None:
            mine.problem = entry.problem
        if entry.attempt is not None:
            mine.attempt = max(mine.attempt or 0, entry.attempt)
        if entry.data is not None and (mine.data is None or event_id in theirs.admitted):
            mine.data = entry.data
    ours.admitted |= theirs.admitted
    ours.filled |= theirs.filled


def stage_of(entry: TimelineEntry, admitted: bool) -> Stage:
    """Where an event got to, from its decisions, its copies and who wrote it."""
    effects = {d.effect for d in entry.decisions}
    if entry.problem is not None and entry.event_id.startswith("?"):
        return Stage.UNREADABLE
    if admitted:
        if entry.source in (ORCHESTRATOR_SOURCE, DECISION_SOURCE):
            return Stage.EMITTED
        return Stage.REDACTED if "REDACT" in effects else Stage.ADMITTED
    if "DENY" in effects:
        return Stage.DENIED
    if "REQUIRE_APPROVAL" in effects:
        return Stage.PARKED
    return Stage.PROPOSED


def open_status(timeline: WorkflowTimeline, live: list[TimelineEntry]) -> WorkflowStatus:
    """The status of a workflow without a terminal event (sets the reason of a denial)."""
    types = {e.event_type for e in live}
    if CompensationRequested.event_type in types:
        return WorkflowStatus.COMPENSATING
    if any(e.stage is Stage.PARKED for e in timeline.entries):
        return WorkflowStatus.AWAITING_APPROVAL
    if WorkflowStarted.event_type in types:
        return WorkflowStatus.RUNNING
    denied = [e for e in timeline.entries if e.stage is Stage.DENIED]
    if denied:
        refusal = next(d for d in denied[0].decisions if d.effect == "DENY")
        timeline.reason = refusal.reason
        return WorkflowStatus.DENIED
    return WorkflowStatus.PROPOSED

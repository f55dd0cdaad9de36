"""Turn one workflow's fold into its timeline: staged, sorted entries and the summary read from them."""

from __future__ import annotations

from corps.events.lifecycle import (
    ApprovalDenied,
    ApprovalGranted,
    ApprovalRequested,
    CompensationCompleted,
    CompensationFailed,
    CompensationRequested,
    StepFailed,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowStarted,
)
from corps.replay.stages import WorkflowFold, open_status, stage_of
from corps.replay.timeline import (
    Approval,
    CompensationStep,
    Stage,
    StepRun,
    TimelineEntry,
    WorkflowStatus,
    WorkflowTimeline,
)
from corps.topology import Topology

__all__ = ["timeline_of"]

_TERMINAL = {
    WorkflowCompleted.event_type: WorkflowStatus.COMPLETED,
    WorkflowCompensated.event_type: WorkflowStatus.COMPENSATED,
    WorkflowFailed.event_type: WorkflowStatus.FAILED,
}
_COMPENSATION = {
    CompensationRequested.event_type: "requested",
    CompensationCompleted.event_type: "completed",
    CompensationFailed.event_type: "failed",
}
_APPROVAL = {
    ApprovalRequested.event_type: "requested",
    ApprovalGranted.event_type: "granted",
    ApprovalDenied.event_type: "denied",
}


def timeline_of(workflow_id: str, wf: WorkflowFold, topology: Topology) -> WorkflowTimeline:
    """One workflow's timeline from its fold: entries staged and sorted, then summarised."""
    entries = list(wf.entries.values())
    for entry in entries:
        entry.decisions.sort(key=lambda d: (d.sequence, d.location))
        entry.locations.sort()
        entry.stage = stage_of(entry, entry.event_id in wf.admitted)
    entries.sort(key=TimelineEntry.sort_key)
    times = {e.event_id: e.time for e in entries}
    for entry in entries:
        cause = times.get(entry.causation_id) if entry.causation_id else None
        if cause is not None and entry.time is not None:
            entry.since_cause_ms = round((entry.time - cause).total_seconds() * 1000)
    timeline = WorkflowTimeline(
        workflow_id=workflow_id,
        tenant=wf.tenant or "",
        workflow=topology.workflow.name,
        status=WorkflowStatus.PROPOSED,
        started_at=None,
        finished_at=None,
        entries=entries,
    )
    _summarise(timeline, topology)
    return timeline


def _summarise(timeline: WorkflowTimeline, topology: Topology) -> None:
    live = [e for e in timeline.entries if e.stage in (Stage.ADMITTED, Stage.REDACTED, Stage.EMITTED)]
    requested_per_step: dict[str, int] = {}
    started = None
    for entry in live:
        data = entry.data or {}
        step = str(data.get("step", entry.step or ""))
        if entry.event_type == WorkflowStarted.event_type and started is None:
            started = entry.time
        elif entry.event_type in _TERMINAL and not timeline.status.terminal:
            timeline.status = _TERMINAL[entry.event_type]
            timeline.finished_at = entry.time
            timeline.failed_step = data.get("failed_step") or None
            timeline.reason = data.get("reason") or None
        elif entry.event_type in _COMPENSATION:
            attempt = None
            if entry.event_type == CompensationRequested.event_type:
                attempt = requested_per_step[step] = requested_per_step.get(step, 0) + 1
                timeline.retries += attempt > 1
            timeline.compensations.append(
                CompensationStep(step, _COMPENSATION[entry.event_type], entry.time, attempt)
            )
        elif entry.event_type in _APPROVAL:
            timeline.approvals.append(
                Approval(
                    step,
                    _APPROVAL[entry.event_type],
                    str(data.get("approver", "")),
                    entry.time,
                    str(data.get("reason", data.get("summary", "")) or ""),
                )
            )
        elif not entry.lifecycle and entry.step in topology.steps:
            agent = topology.steps[entry.step].agent
            timeline.steps.append(StepRun(entry.step, agent, entry.name, entry.time, entry.since_cause_ms))
        if entry.event_type in (StepFailed.event_type, CompensationFailed.event_type):
            attempts = data.get("attempts")
            if isinstance(attempts, int) and attempts > 1:
                timeline.retries += attempts - 1
        if entry.attempt is not None and entry.attempt > 1:
            timeline.retries += entry.attempt - 1
    times = [e.time for e in timeline.entries if e.time is not None]
    timeline.started_at = started or (min(times) if times else None)
    if not timeline.status.terminal:
        timeline.status = open_status(timeline, live)

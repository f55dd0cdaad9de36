"""The terminal form of a replay (rich): a table of workflows, their timelines, and the findings."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from corps.replay.report import ReplayReport
from corps.replay.timeline import Stage, TimelineEntry, WorkflowStatus, WorkflowTimeline
from corps.replay.verification import Verification

__all__ = ["STATUS_STYLES", "render_table", "timeline_table", "workflows_table"]

STATUS_STYLES: dict[WorkflowStatus, str] = {
    WorkflowStatus.COMPLETED: "green",
    WorkflowStatus.COMPENSATED: "yellow",
    WorkflowStatus.FAILED: "bold red",
    WorkflowStatus.COMPENSATING: "yellow",
    WorkflowStatus.AWAITING_APPROVAL: "magenta",
    WorkflowStatus.RUNNING: "cyan",
    WorkflowStatus.DENIED: "red",
    WorkflowStatus.PROPOSED: "dim",
}
_MAX_ROWS = 200
_STAGE_STYLES: dict[Stage, str] = {
    Stage.ADMITTED: "green",
    Stage.REDACTED: "green",
    Stage.EMITTED: "cyan",
    Stage.DENIED: "red",
    Stage.PARKED: "magenta",
    Stage.PROPOSED: "dim",
    Stage.UNREADABLE: "bold red",
}


def _ms(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / 1000:.3f}s" if value >= 1000 else f"{value}ms"


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="milliseconds") if moment is not None else ""


def workflows_table(timelines: list[WorkflowTimeline]) -> Table:
    """One row per workflow."""
    table = Table(title=f"{len(timelines)} workflow(s)", show_lines=False)
    for name in (
        "workflow",
        "tenant",
        "status",
        "started",
        "duration",
        "events",
        "decisions",
        "policies",
        "approvals",
        "compensations",
        "retries",
    ):
        table.add_column(name, overflow="fold")
    for t in timelines:
        effects = " ".join(f"{k.lower()} {v}" for k, v in t.effects().items())
        policies = ", ".join(f"{p}@{v}" for p, v in t.policy_versions() if not p.startswith("set:"))
        approvals = ", ".join(f"{a.outcome}{'/' + a.approver if a.approver else ''}" for a in t.approvals)
        comps = ", ".join(f"{c.step} {c.outcome}" for c in t.compensations)
        table.add_row(
            t.workflow_id,
            t.tenant,
            Text(t.status.value, style=STATUS_STYLES[t.status]),
            _when(t.started_at),
            _ms(t.duration_ms),
            str(len(t.entries)),
            effects,
            policies,
            approvals,
            comps,
            str(t.retries) if t.retries else "",
        )
    return table


def _decision(entry: TimelineEntry) -> str:
    decision = entry.decision
    if decision is None:
        return ""
    text = f"#{decision.sequence} {decision.effect}"
    refs = [f"{p}@{v}" for p, v in decision.policies if not p.startswith("set:")]
    if refs:
        text += f" [{', '.join(refs)}]"
    if decision.effect != "ALLOW" or refs:
        text += f": {decision.reason}"
    if len(entry.decisions) > 1:
        text += f" (+{len(entry.decisions) - 1} more)"
    return text


def timeline_table(timeline: WorkflowTimeline) -> Table:
    """One workflow's events in order."""
    title = (
        f"{timeline.workflow_id} · tenant {timeline.tenant} · {timeline.status.value}"
        + (f" · {_ms(timeline.duration_ms)}" if timeline.duration_ms is not None else "")
        + (f" · {timeline.reason}" if timeline.reason else "")
    )
    table = Table(title=title, title_justify="left")
    for name in ("#", "+time", "event", "stage", "emitter", "step", "gate decision", "after cause"):
        table.add_column(name, overflow="fold")
    start = timeline.started_at
    for index, entry in enumerate(timeline.entries):
        offset = ""
        if start is not None and entry.time is not None:
            offset = _ms(round((entry.time - start).total_seconds() * 1000))
        name = entry.name
        if entry.lifecycle and entry.data and entry.data.get("step"):
            name += f" ({entry.data['step']})"
        table.add_row(
            str(index),
            offset,
            name,
            Text(entry.stage.value, style=_STAGE_STYLES[entry.stage]),
            entry.source,
            entry.step or "",
            _decision(entry),
            _ms(entry.since_cause_ms),
        )
    return table


def verification_lines(verification: Verification) -> list[Text]:
    """The verification's verdict, every error, and the notes counted by kind."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(verification.counts.items()))
    lines: list[Text] = []
    if verification.ok:
        lines.append(Text(f"verified: no discrepancy ({counts})", style="bold green"))
    else:
        lines.append(
            Text(
                f"verification FAILED: {len(verification.errors)} discrepancy(ies) ({counts})",
                style="bold red",
            )
        )
        lines.extend(Text(f"  {f.describe()}", style="red") for f in verification.errors)
    notes = Counter(f"{f.check}/{f.kind}" for f in verification.notes)
    if notes:
        lines.append(Text("notes: " + ", ".join(f"{k} x{v}" for k, v in sorted(notes.items())), style="dim"))
    return lines


def render_table(report: ReplayReport, console: Console, *, events: bool | None = None) -> None:
    """Print the report: the workflows, their timelines (default: when at most 20), the verification."""
    statuses = ", ".join(f"{k} {v}" for k, v in report.by_status().items() if v)
    console.print(
        f"[bold]{report.workflow}[/] v{report.topology_version}: {report.records} records from "
        f"{len(report.topics)} topic(s), {len(report.timelines)} workflow(s)"
        + (f" ({statuses})" if statuses else "")
        + (f", {report.unreadable} unreadable record(s)" if report.unreadable else "")
    )
    console.print(workflows_table(report.timelines[:_MAX_ROWS]))
    if len(report.timelines) > _MAX_ROWS:
        more = len(report.timelines) - _MAX_ROWS
        console.print(f"… {more} more workflow(s): narrow with --workflow / --tenant, or use --format jsonl")
    show = events if events is not None else len(report.timelines) <= 20
    if show:
        for timeline in report.timelines:
            console.print(timeline_table(timeline))
    if report.verification is not None:
        for line in verification_lines(report.verification):
            console.print(line)

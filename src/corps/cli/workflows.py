"""``corps workflows`` and ``corps workflow show ID``: the operators' view of a topology's workflows.

Both read the log only: the orchestrator's compacted state changelog (every workflow's latest state),
and for one workflow its partition of the gate's decision log and of the lifecycle topic.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corps.cli._stack import resolve_stack
from corps.errors import CorpsError
from corps.events import EventCodec, SchemaRegistry
from corps.orchestrator.saga_state import Status
from corps.orchestrator.store import WorkflowRecord
from corps.orchestrator.topics import TopologyTopics
from corps.orchestrator.view import Timeline, list_workflows, read_timeline, status_of
from corps.topology import Topology, TopologyError, format_diagnostics, load_topology

__all__ = ["workflow", "workflows"]

_STATES = [*(s.value for s in Status), "gated"]
_TOPOLOGY = click.option(
    "--topology",
    "topology_file",
    required=True,
    envvar="CORPS_TOPOLOGY",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The topology whose workflows to show [env CORPS_TOPOLOGY].",
)
_STYLE = {
    "completed": "green",
    "compensated": "yellow",
    "failed": "red",
    "compensating": "magenta",
    "running": "cyan",
}


def _topology(path: Path) -> Topology:
    try:
        return load_topology(path).topology
    except TopologyError as exc:
        raise click.ClickException(f"{path}:\n{format_diagnostics(list(exc.diagnostics))}") from exc


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else "-"


def _took(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    ms = delta.total_seconds() * 1000
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def _summary(record: WorkflowRecord) -> dict[str, Any]:
    saga = record.saga
    started = saga.started_at if saga else None
    finished = saga.finished_at if saga else None
    return {
        "workflow_id": record.workflow_id,
        "tenant": record.tenant,
        "state": status_of(record),
        "started": _when(started),
        "finished": _when(finished),
        "duration": _took(finished - started) if started and finished else "-",
        "steps_done": [run.step for run in saga.completed] if saga else [],
        "compensated": list(saga.compensated) if saga else [],
        "failed_step": saga.failed_step if saga else None,
        "decisions": record.chain_sequence,
    }


@click.command("workflows")
@_TOPOLOGY
@click.option("--state", type=click.Choice(_STATES), help="Only workflows in this state.")
@click.option("--tenant", help="Only workflows of this tenant.")
@click.option(
    "--limit", type=click.IntRange(1), default=50, show_default=True, help="Show at most this many."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def workflows(topology_file: Path, state: str | None, tenant: str | None, limit: int, as_json: bool) -> None:
    """List the topology's workflows (newest first) from the orchestrator's state changelog."""
    topology = _topology(topology_file)
    kafka, _registry = resolve_stack()
    err = Console(stderr=True)
    try:
        with err.status(f"reading the state of {topology.workflow.name} workflows"):
            found = list_workflows(
                kafka.client_config(),
                TopologyTopics.of(topology),
                topology.topics.partitions,
                state=state,
                tenant=tenant,
            )
    except CorpsError as exc:
        raise click.ClickException(str(exc)) from exc
    shown = found[:limit]
    if as_json:
        for record in shown:
            click.echo(json.dumps(_summary(record)))
        return
    table = Table(title=f"{topology.workflow.name}: {len(found)} workflow(s)")
    for column in ("workflow", "tenant", "state", "started", "duration", "steps done", "compensated"):
        table.add_column(column)
    for record in shown:
        row = _summary(record)
        style = _STYLE.get(row["state"], "")
        table.add_row(
            escape(row["workflow_id"]),
            escape(row["tenant"]),
            f"[{style}]{row['state']}[/{style}]" if style else row["state"],
            row["started"],
            row["duration"],
            ", ".join(row["steps_done"]) or "-",
            ", ".join(row["compensated"]) or "-",
        )
    Console().print(table)
    if len(found) > limit:
        err.print(f"{len(found) - limit} more not shown (--limit)")


@click.group("workflow")
def workflow() -> None:
    """Look at one workflow."""


@workflow.command("show")
@click.argument("workflow_id")
@_TOPOLOGY
@click.option("--json", "as_json", is_flag=True, help="The timeline as JSON.")
def show(workflow_id: str, topology_file: Path, as_json: bool) -> None:
    """Show WORKFLOW_ID: its state, a timeline of events and gate decisions, step and compensation times."""
    topology = _topology(topology_file)
    kafka, registry = resolve_stack()
    err = Console(stderr=True)
    try:
        with SchemaRegistry(registry) as client, err.status(f"reading workflow {workflow_id} from the log"):
            timeline = read_timeline(kafka.client_config(), EventCodec(client), topology, workflow_id)
    except CorpsError as exc:
        raise click.ClickException(str(exc)) from exc
    if timeline is None:
        raise click.ClickException(
            f"workflow {workflow_id!r} is not known to the {topology.workflow.name} orchestrator"
        )
    if as_json:
        click.echo(json.dumps(_as_json(timeline), indent=2))
        return
    _print(Console(), timeline)


def _print(console: Console, timeline: Timeline) -> None:
    row = _summary(timeline.record)
    style = _STYLE.get(row["state"], "bold")
    console.print(
        f"[bold]{escape(row['workflow_id'])}[/bold]  tenant {escape(row['tenant'])}  "
        f"[{style}]{row['state']}[/{style}]  started {row['started']}  took {row['duration']}"
    )
    saga = timeline.record.saga
    if saga is not None and saga.failed_step:
        console.print(f"failed at step {escape(saga.failed_step)}: {escape(saga.reason or '')}")
    events = Table(title="timeline (hash-chain order)")
    for column in ("#", "time", "+", "event", "step", "by", "gate", "detail"):
        events.add_column(column)
    start = timeline.entries[0].time if timeline.entries else None
    for entry in timeline.entries:
        gate = entry.effect or "-"
        if entry.effect == "DENY":
            gate = f"[red]DENY[/red] {escape(entry.reason)}"
        events.add_row(
            str(entry.sequence),
            _when(entry.time),
            _took(entry.time - start) if start else "-",
            escape(entry.name),
            escape(entry.step or "-"),
            escape(entry.source or "-"),
            gate,
            escape(entry.detail),
        )
    console.print(events)
    if timeline.spans:
        spans = Table(title="durations")
        for column in ("what", "step", "started", "took", "outcome"):
            spans.add_column(column)
        for span in timeline.spans:
            spans.add_row(
                span.what, escape(span.step), _when(span.started), _took(span.duration), escape(span.outcome)
            )
        console.print(spans)
    for ignored in timeline.ignored:
        flag = " [red](its effect was not compensated)[/red]" if ignored.uncompensated_effect else ""
        console.print(
            f"recorded, not acted on: {escape(ignored.event_type)} {ignored.event_id} "
            f"({ignored.reason.value}, {_when(ignored.time)}){flag}"
        )


def _as_json(timeline: Timeline) -> dict[str, Any]:
    return {
        **_summary(timeline.record),
        "timeline": [
            {
                "sequence": e.sequence,
                "time": _when(e.time),
                "event_type": e.event_type,
                "event_id": e.event_id,
                "step": e.step,
                "source": e.source,
                "effect": e.effect,
                "reason": e.reason,
                "detail": e.detail,
            }
            for e in timeline.entries
        ],
        "spans": [
            {
                "what": s.what,
                "step": s.step,
                "started": _when(s.started),
                "ended": _when(s.ended),
                "duration_ms": round(s.duration.total_seconds() * 1000) if s.duration else None,
                "outcome": s.outcome,
            }
            for s in timeline.spans
        ],
        "ignored": [
            {
                "event_type": i.event_type,
                "event_id": i.event_id,
                "reason": i.reason.value,
                "time": _when(i.time),
            }
            for i in timeline.ignored
        ],
    }

"""What ``corps replay`` writes: a report as a table, JSONL or HTML; shadow differences; followed records."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corps.replay import (
    JsonlWriter,
    Replayer,
    ReplayOptions,
    ReplayReport,
    ShadowReport,
    render_html,
    render_table,
)
from corps.replay.records import LogRecord
from corps.replay.render_jsonl import canonical_line, jsonable
from corps.topology import Topology

__all__ = ["follow_log", "open_output", "write_report"]


def open_output(out: Path | None) -> IO[str]:
    if out is None:
        return sys.stdout
    try:
        return out.open("w", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"--out {out}: {exc}") from exc


def _shadow_table(report: ShadowReport, console: Console) -> None:
    totals = report.totals()
    console.print(
        f"shadow run of {report.agent} {report.version}: {totals['cases']} event(s), "
        f"{totals['same']} the same, "
        f"{totals['different']} different, {totals['errors']} raising; calls substituted "
        f"{totals['calls_recorded']}, run live {totals['calls_live']}"
    )
    if not report.different:
        return
    table = Table(title="differences between would-emit and emitted")
    for name in ("workflow", "event", "differences"):
        table.add_column(name, overflow="fold")
    for case in report.different:
        table.add_row(
            case.input.workflow, f"{case.input.short_type} {case.input.event_id}", "\n".join(case.differences)
        )
    console.print(table)


def _follow_line(record: LogRecord) -> dict[str, Any]:
    return {
        "record": "log",
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "workflow_id": record.workflow,
        "event_id": record.event_id,
        "type": record.event_type,
        "source": record.source,
        "step": record.step,
        "time": record.time.isoformat() if record.time else None,
        "data": jsonable(record.data),
        "problem": record.problem,
    }


def follow_log(replayer: Replayer, options: ReplayOptions, fmt: str, console: Console) -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for record in replayer.follow(options, stop):
            if fmt == "jsonl":
                console.file.write(canonical_line(_follow_line(record)) + "\n")
                console.file.flush()
            else:
                data = record.data or {}
                what = record.short_type
                if "decided_event_type" in data:
                    decided = str(data["decided_event_type"]).rpartition(".")[2]
                    what += f" #{data.get('sequence')} {data.get('effect')} {decided}"
                console.print(
                    f"{record.time.isoformat(timespec='milliseconds') if record.time else '?'} "
                    f"{escape(record.workflow)} {escape(what)} [dim]{escape(record.source or '')} "
                    f"{escape(record.describe())}[/]",
                    highlight=False,
                )
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def write_report(
    report: ReplayReport,
    shadow: ShadowReport | None,
    fmt: str,
    out: Path | None,
    show_events: bool | None,
    topology: Topology,
    err: Console,
) -> None:
    if fmt == "jsonl":
        handle = open_output(out)
        try:
            writer = JsonlWriter(handle)
            writer.write_report(report)
            for line in shadow.lines() if shadow else ():
                writer.write(line)
        finally:
            if handle is not sys.stdout:
                handle.close()
        err.print(f"digest {writer.digest}", markup=False, highlight=False)
        _verdict(report, err)
    elif fmt == "html":
        target = out or Path(f"replay-{topology.workflow.name}.html")
        digest = JsonlWriter(None).write_report(report)
        try:
            with target.open("w", encoding="utf-8") as handle:
                render_html(report, handle, digest=digest)
        except OSError as exc:
            raise click.ClickException(f"--out {target}: {exc}") from exc
        err.print(f"HTML report: {target}  (JSONL digest {digest})", markup=False, highlight=False)
        _verdict(report, err)
    else:
        handle = open_output(out)
        try:
            console = Console(file=handle, width=None if handle is sys.stdout else 160)
            render_table(report, console, events=show_events)
            if shadow is not None:
                _shadow_table(shadow, console)
        finally:
            if handle is not sys.stdout:
                handle.close()
        return
    if shadow is not None:
        _shadow_table(shadow, err)


def _verdict(report: ReplayReport, err: Console) -> None:
    verification = report.verification
    if verification is None:
        return
    if verification.ok:
        err.print("verified: no discrepancy", style="green")
        return
    err.print(f"verification FAILED: {len(verification.errors)} discrepancy(ies)", style="bold red")
    for finding in verification.errors:
        err.print(f"  {finding.describe()}", style="red", markup=False, highlight=False)

"""Run the selected benchmark modules, then print the table and write the JSON report."""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.contention import CpuSnapshot, contention
from bench.context import BenchContext
from bench.registry import BenchModule
from bench.results import RatioMode, Report, Result, duplicate_ids, resolve_ratios

__all__ = ["TABLE_LEGEND", "build_report", "format_value", "render_table", "run_modules", "write_report"]


def _check(module: BenchModule, results: Sequence[Result]) -> None:
    stray = [r.id for r in results if not r.id.startswith(f"{module.ID}.")]
    if stray:
        raise ValueError(f"{module.ID} returned ids outside its namespace: {', '.join(stray)}")


def run_modules(
    ctx: BenchContext, modules: Sequence[BenchModule], console: Console, stack_pids: Sequence[int] = ()
) -> tuple[list[Result], dict[str, str], dict[str, dict[str, float | int | None]]]:
    """Run every module in order; a failing module is recorded and the run goes on.

    Args:
        ctx: the shared context.
        modules: what to run, in order.
        console: where progress goes.
        stack_pids: the local broker and registry, whose CPU counts as the benchmark's own.

    Returns:
        The entries (ratios resolved against baselines of the same run), the errors by module id, and
        the CPU other work took during each module.
    """
    results: list[Result] = []
    errors: dict[str, str] = {}
    busy: dict[str, dict[str, float | int | None]] = {}
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("benchmarks", total=len(modules))
        for module in modules:
            progress.update(task, description=f"{module.ID}: {module.TITLE}")
            started = time.perf_counter()
            before = CpuSnapshot.take(stack_pids)
            try:
                produced = module.run(ctx)
                _check(module, produced)
            except Exception as exc:  # a benchmark's failure must not lose the others' figures
                errors[module.ID] = f"{type(exc).__name__}: {exc}"
                console.print(f"[red]{module.ID} failed[/red]: {exc}")
                console.print(traceback.format_exc(), markup=False, highlight=False)
            else:
                results.extend(produced)
                console.print(f"{module.ID} done in {time.perf_counter() - started:.1f} s")
            busy[module.ID] = contention(before, CpuSnapshot.take(stack_pids), os.cpu_count())
            progress.advance(task)
    for dupe in duplicate_ids(results):
        errors[f"duplicate:{dupe}"] = f"more than one entry has id {dupe}"
    return resolve_ratios(results), errors, busy


def format_value(value: float) -> str:
    """Format a figure for the table: thousands separators for big numbers, 3 decimals for small."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:,.3f}"


_MODE_SHORT = {RatioMode.CORPS_OVER_BASELINE: "c/b", RatioMode.BASELINE_OVER_CORPS: "b/c"}
TABLE_LEGEND = (
    "ratio c/b = corps / baseline, b/c = baseline / corps; busy elsewhere = cores other work kept busy "
    "while that benchmark ran"
)


def render_table(report: Report) -> Table:
    """Return the rich table of a report: one row per entry, ratios and goals where they apply."""
    table = Table(title=f"corps bench ({report.scale}, {report.duration_s:.0f} s)", title_justify="left")
    for column, justify in (
        ("id", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("unit", "left"),
        ("vs", "left"),
        ("ratio", "right"),
        ("goal", "right"),
        ("met", "center"),
        ("busy elsewhere", "right"),
    ):
        table.add_column(column, justify=justify, no_wrap=column in ("id", "ratio"))  # type: ignore[arg-type]
    for entry in report.entries:
        ratio = "" if entry.ratio is None else f"{entry.ratio:.2f} {_MODE_SHORT[entry.ratio_mode]}"
        goal = "" if entry.goal_ratio is None else f"{entry.goal_op.value} {entry.goal_ratio:g}"
        met = {None: "", True: "[green]yes[/green]", False: "[red]no[/red]"}[entry.goal_met]
        other = report.contention.get(entry.id.split(".", 1)[0], {}).get("other_cores")
        elsewhere = "" if other is None else f"{other:.2f} cores"
        table.add_row(
            entry.id,
            entry.label,
            format_value(entry.value),
            entry.unit,
            entry.baseline_id or "",
            ratio,
            goal,
            met,
            elsewhere,
        )
    return table


def build_report(
    entries: list[Result],
    errors: dict[str, str],
    *,
    versions: dict[str, str],
    machine: dict[str, Any],
    started_at: datetime,
    duration_s: float,
    scale: str,
    contention: dict[str, dict[str, float | int | None]] | None = None,
) -> Report:
    """Assemble the report of one run."""
    return Report(
        contention=contention or {},
        entries=entries,
        versions=versions,
        machine=machine,
        started_at=started_at.astimezone(UTC).isoformat(timespec="seconds"),
        duration_s=duration_s,
        scale=scale,
        errors=errors,
    )


def write_report(report: Report, path: Path) -> None:
    """Write the report as pretty JSON (atomically: temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    tmp.replace(path)

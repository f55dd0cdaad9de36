"""``corps replay``: read a topology's log back — timelines, verification, shadow runs.

Exit status: 0 when the replay ran (and, with ``--verify``, found no discrepancy); 1 on bad input or
when Kafka / the registry cannot be reached; 3 when ``--verify`` found a discrepancy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from corps.cli._replay_output import follow_log, open_output, write_report
from corps.cli._stack import resolve_stack
from corps.cli.agent import load_agent
from corps.errors import CorpsError
from corps.policy import PolicyError, compile_policy_set, load_policy_files
from corps.policy.store import PolicyStore
from corps.replay import (
    CallTape,
    PolicySetReevaluator,
    RecordFilter,
    Replayer,
    ReplayOptions,
    ReplayRange,
    ReplayReport,
    ShadowReport,
    shadow_run,
    topology_readers,
)
from corps.replay.records import LogRecord
from corps.settings import KafkaSettings
from corps.topology import TopologyError, format_diagnostics, load_topology

__all__ = ["replay"]

VERIFY_FAILED = 3
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from exc
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone (add Z or +01:00)", param_hint=option)
    return moment


def _many(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _policy_sets(policy_files: tuple[Path, ...], kafka: KafkaSettings, err: Console) -> list[Any]:
    """The policy sets recorded decisions may name: the files given, and every published version."""
    sets: list[Any] = []
    if policy_files:
        try:
            sets.append(load_policy_files(policy_files).policy_set)
        except (PolicyError, TopologyError) as exc:
            raise click.ClickException(f"--policies: {exc}") from exc
    try:
        history = PolicyStore(kafka.client_config()).read()
    except PolicyError as exc:
        err.print(f"warning: published policy sets not read: {exc}", style="yellow", markup=False)
    else:
        sets.extend(
            compile_policy_set(published.policy_set, published.version)
            for name in history.names()
            for published in history.versions[name].values()
        )
    return sets


@contextmanager
def _progress(err: Console, total: int) -> Iterator[Any]:
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal or total == 0) as bar:
        task = bar.add_task("replay", total=total)
        yield lambda n: bar.advance(task, n)


@click.command("replay")
@click.option(
    "--topology",
    "topology_file",
    required=True,
    envvar="CORPS_TOPOLOGY",
    type=_FILE,
    help="The topology whose log to replay [env CORPS_TOPOLOGY].",
)
@click.option(
    "--topics",
    multiple=True,
    help="Topics or roles (admitted, proposed, lifecycle, decisions, state, "
    "dead-letters) to read; repeat or comma-separate. Default: all but state and dead letters.",
)
@click.option("--from-offset", type=click.IntRange(min=0), help="Start at this offset of every partition.")
@click.option("--from-time", help="Start at the first record at or after this time (ISO 8601 with zone).")
@click.option("--to-time", help="Stop before the first record at or after this time (default: the end now).")
@click.option("--workflow", "workflows", multiple=True, help="Only these workflow ids.")
@click.option("--tenant", "tenants", multiple=True, help="Only workflows of these tenants.")
@click.option("--agent", "agents", multiple=True, help="Only events emitted by / about these agents.")
@click.option("--type", "event_types", multiple=True, help="Only these event types (short or full name).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl", "html"]), default="table", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (html default: replay-<workflow>.html; others default: stdout).",
)
@click.option(
    "--follow", is_flag=True, help="Tail the log (table or jsonl, one line per record) until Ctrl-C."
)
@click.option(
    "--verify",
    is_flag=True,
    help="Check hash chains, re-derive state, re-take decisions; exit 3 on any discrepancy.",
)
@click.option(
    "--policies",
    "policy_files",
    multiple=True,
    type=_FILE,
    help="Policy files whose set recorded decisions may name (published sets are read too).",
)
@click.option(
    "--through",
    metavar="MODULE:ATTR",
    help="Shadow-run the range through this agent (nothing is "
    "published) and report what it would emit differently.",
)
@click.option("--calls", "calls_file", type=_FILE, help="JSONL of recorded tool / LLM calls for --through.")
@click.option("--live-calls", is_flag=True, help="--through: run tool / LLM calls that were not recorded.")
@click.option(
    "--reader-schemas",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Decode payloads with the schema versions the topology declares (from this schemas/ "
    "directory) instead of each writer's own.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes that read and fold partition groups in parallel (same output for any number; "
    "--verify and --through fold in one). Default 1: worth raising only where cores are idle "
    "(the broker on the same 2 cores: 2 workers ran at 0.74x one process in make bench).",
)
@click.option(
    "--events/--no-events",
    "show_events",
    default=None,
    help="table: print each workflow's timeline (default: when at most 20 workflows).",
)
def replay(
    topology_file: Path,
    topics: tuple[str, ...],
    from_offset: int | None,
    from_time: str | None,
    to_time: str | None,
    workflows: tuple[str, ...],
    tenants: tuple[str, ...],
    agents: tuple[str, ...],
    event_types: tuple[str, ...],
    fmt: str,
    out: Path | None,
    follow: bool,
    verify: bool,
    policy_files: tuple[Path, ...],
    through: str | None,
    calls_file: Path | None,
    live_calls: bool,
    reader_schemas: Path | None,
    show_events: bool | None,
    workers: int | None,
) -> None:
    """Replay the log of a topology: per-workflow timelines, tamper evidence, re-derived state.

    \b
    Examples, with `corps dev up` running:
      corps replay --topology topology/support.yaml --verify
      corps replay --topology topology/support.yaml --format html --out audit.html --verify
      corps replay --topology topology/support.yaml --format jsonl --tenant acme --to-time 2025-06-01T00:00Z
      corps replay --topology topology/support.yaml --through my_agents.triage:agent --calls calls.jsonl
    """  # noqa: D301 - \\b keeps click from rewrapping the examples
    err = Console(stderr=True)
    try:
        topology = load_topology(topology_file).topology
    except TopologyError as exc:
        raise click.ClickException(f"{topology_file}:\n{format_diagnostics(list(exc.diagnostics))}") from exc
    if follow and (fmt == "html" or verify or through):
        raise click.UsageError(
            "--follow prints records as they come: not with --format html, --verify or --through"
        )
    if (calls_file or live_calls) and not through:
        raise click.UsageError("--calls and --live-calls go with --through")
    agent = load_agent(through) if through else None
    try:
        span = ReplayRange(
            from_offset=from_offset,
            from_time=_time(from_time, "--from-time"),
            to_time=_time(to_time, "--to-time"),
            follow=follow,
        )
        options = ReplayOptions(
            topics=tuple(_many(topics)),
            range=span,
            selection=RecordFilter.of(
                topology,
                workflows=_many(workflows),
                tenants=_many(tenants),
                agents=_many(agents),
                event_types=_many(event_types),
            ),
            verify=verify,
            readers=topology_readers(topology, reader_schemas) if reader_schemas else {},
            keep_data=fmt != "table" or through is not None,  # the table shows lifecycle payloads only
            workers=workers or 1,
        )
        tape = (
            CallTape.from_jsonl(calls_file.read_text(encoding="utf-8").splitlines(), where=str(calls_file))
            if calls_file
            else None
        )
        kafka, registry = resolve_stack()
        sets = _policy_sets(policy_files, kafka, err) if verify else []
        with Replayer(topology, kafka, registry) as replayer:
            if sets:
                replayer.reevaluators.append(
                    PolicySetReevaluator(sets, replayer.codec, partitions=topology.topics.partitions)
                )
            if follow:
                follow_log(replayer, options, fmt, Console(file=open_output(out), highlight=False))
                return
            report, shadow = _run(replayer, options, agent, tape, live_calls, err)
    except CorpsError as exc:
        raise click.ClickException(str(exc)) from exc
    write_report(report, shadow, fmt, out, show_events, topology, err)
    if not report.ok:
        raise click.exceptions.Exit(VERIFY_FAILED)


def _run(
    replayer: Replayer,
    options: ReplayOptions,
    agent: Any,
    tape: CallTape | None,
    live_calls: bool,
    err: Console,
) -> tuple[ReplayReport, ShadowReport | None]:
    spans = replayer.plan(options)
    kept: list[LogRecord] = []
    with _progress(err, sum(s.size for s in spans)) as advance:
        report = replayer.run(options, spans=spans, on_batch=advance, sink=kept.append if agent else None)
    shadow = None
    if agent is not None:
        chosen = {t.workflow_id: None for t in report.timelines}
        shadow = shadow_run(
            agent, kept, replayer.codec, replayer.topics, tape=tape, live_calls=live_calls, workflows=chosen
        )
    return report, shadow

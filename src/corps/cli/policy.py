"""``corps policy test | apply | show``: check policies offline, publish a set version, list versions.

Exit codes: 0 success; 1 invalid policy files, an unusable events file, a failed expectation, or a
cluster error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from corps.cli._stack import resolve_stack
from corps.errors import CorpsError
from corps.policy import LoadedPolicies, PolicyError, compile_policy_set, load_policy_files
from corps.policy.from_topology import load_topology_policies
from corps.policy.offline import CaseInputError, CaseResult, parse_cases, run_cases
from corps.policy.redact_check import check_redactions, schema_versions
from corps.policy.store import PolicyStore
from corps.settings import CorpsSettings, KafkaSettings
from corps.topology import Diagnostic, TopologyError, load_topology

__all__ = ["policy"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_TOPOLOGY_HELP = "Also load the policies a topology names, plus its steps' approvals (set name: its own)."
_SCHEMAS_HELP = (
    "schemas/ directory redactions are checked against (default: ./schemas, else the nearest schemas/ "
    "above the files)."
)
_SCHEMAS = click.option(
    "--schemas", type=click.Path(file_okay=False, path_type=Path), default=None, help=_SCHEMAS_HELP
)
_PARTITIONS_HELP = (
    "Partition count P of the proposed topics: split: even throttle/budget limits are shared among P "
    'partitions and counters kept per partition (a line\'s "partition", else CRC-32 of its workflowid '
    "mod P). Default: the --topology's partition count, else 1."
)
_STYLE = {"allow": "green", "redact": "cyan", "require_approval": "yellow", "deny": "red"}


def _print(err: Console, diagnostics: tuple[Diagnostic, ...]) -> None:
    for item in diagnostics:
        err.print(str(item), style="red", markup=False, highlight=False, soft_wrap=True)


def _schemas_dir(option: Path | None, anchor: Path) -> Path:
    """``--schemas``, else ./schemas, else the first ``schemas/`` beside an ancestor of ``anchor``."""
    if option is not None:
        return option
    if Path("schemas").is_dir():
        return Path("schemas")
    for parent in anchor.resolve().parents:
        if (parent / "schemas").is_dir():
            return parent / "schemas"
    return Path("schemas")


def _load(
    files: tuple[Path, ...], topology: Path | None, schemas: Path | None, err: Console
) -> LoadedPolicies:
    """Load and check the set; redactions are checked against the schemas when a catalog is found."""
    try:
        if topology is not None:
            if files:
                raise click.UsageError("give policy FILES or --topology, not both")
            loaded_topology = load_topology(topology)
            loaded = load_topology_policies(loaded_topology)
            versions = schema_versions(_schemas_dir(schemas, topology), loaded_topology.topology)
        else:
            if not files:
                raise click.UsageError("no policy files given")
            loaded = load_policy_files(files)
            versions = schema_versions(_schemas_dir(schemas, files[0]))
    except (PolicyError, TopologyError) as exc:
        _print(err, exc.diagnostics)
        err.print(f"{len(exc.diagnostics)} error(s): nothing evaluated or published", style="red")
        raise click.exceptions.Exit(1) from exc
    if versions is None:
        if schemas is not None:
            err.print(f"{schemas}: not a readable schemas/ directory", style="red", markup=False)
            raise click.exceptions.Exit(1)
        err.print("no schemas/ directory found: redactions not checked against the schemas", style="yellow")
        return loaded
    found = check_redactions(loaded.policy_set, loaded.origins, versions)
    if found:
        _print(err, tuple(found))
        err.print(f"{len(found)} error(s): nothing evaluated or published", style="red")
        raise click.exceptions.Exit(1)
    return loaded


def _console() -> Console:
    """stdout, wide enough for the decision table when it is not a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=220)


def _kafka() -> KafkaSettings:
    settings = CorpsSettings.from_env(os.environ)
    return settings.kafka if settings.kafka is not None else resolve_stack(os.environ)[0]


@click.group()
def policy() -> None:
    """Check policies offline, publish policy-set versions, list the published ones."""


@policy.command("test")
@click.argument("files", nargs=-1, type=_FILE)
@click.argument("events", type=click.File("r", encoding="utf-8"))
@click.option("--topology", type=_FILE, help=_TOPOLOGY_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--partitions", type=click.IntRange(1, 10_000), default=None, help=_PARTITIONS_HELP)
@_SCHEMAS
def test_command(
    files: tuple[Path, ...],
    events: click.utils.LazyFile,
    topology: Path | None,
    fmt: str,
    partitions: int | None,
    schemas: Path | None,
) -> None:
    """Evaluate the policies in FILES on every event of EVENTS (JSON Lines; ``-`` for stdin), offline.

    Prints one decision per event. An event line may carry ``"expect": "<effect>"``; any mismatch, an
    invalid policy (CEL errors name their position) or an unusable line exits 1 — for CI. The event
    format is in ``corps.policy.offline``.
    """
    console, err = _console(), Console(stderr=True, soft_wrap=True)
    loaded = _load(files, topology, schemas, err)
    if partitions is None:
        partitions = load_topology(topology).topology.topics.partitions if topology is not None else 1
    compiled = compile_policy_set(loaded.policy_set, partitions=partitions)
    try:
        cases = parse_cases(events)
        with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task("evaluating", total=len(cases))
            results = run_cases(compiled, cases, on_result=lambda _: progress.advance(task))
    except CaseInputError as exc:
        err.print(f"{events.name}: {exc}", style="red", markup=False, highlight=False)
        raise click.exceptions.Exit(1) from exc
    if fmt == "jsonl":
        for result in results:
            body = {"line": result.case.line, **result.decision.to_json()}
            if result.case.expect is not None:
                body["expect"] = result.case.expect.value
            click.echo(json.dumps(body, sort_keys=True))
    else:
        console.print(_table(results, str(compiled.version)))
    failed = [r for r in results if r.failed]
    for result in failed:
        got, want = result.decision.effect.value, result.case.expect.value if result.case.expect else ""
        err.print(f"{events.name}:{result.case.line}: expected {want}, got {got}", style="red", markup=False)
    if failed:
        raise click.exceptions.Exit(1)
    err.print(
        f"{len(results)} event(s) decided under {compiled.version} over {partitions} partition(s)",
        markup=False,
        highlight=False,
    )


def _table(results: list[CaseResult], version: str) -> Table:
    table = Table("line", "event", "tenant", "effect", "reason", "policies", title=f"policy set {version}")
    for result in results:
        d, env = result.decision, result.case.event.envelope
        effect = d.effect.value
        mark = "" if result.case.expect is None else (" ✗" if result.failed else " ✓")
        hits = ", ".join(f"{h.policy_id}@{h.version}:{h.outcome.value}" for h in d.policies)
        table.add_row(
            str(result.case.line),
            escape(result.case.event.name),
            escape(env.tenant),
            f"[{_STYLE[effect]}]{effect}[/]{mark}",
            escape(d.reason),
            escape(hits),
        )
    return table


@policy.command()
@click.argument("files", nargs=-1, type=_FILE)
@click.option("--topology", type=_FILE, help=_TOPOLOGY_HELP)
@click.option("--replication", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Replication factor when the policies topic is created.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Validate and show the version; publish nothing.")
@_SCHEMAS
def apply(
    files: tuple[Path, ...], topology: Path | None, replication: int, dry_run: bool, schemas: Path | None
) -> None:
    """Validate the policy set in FILES and publish it as a new version to the policies topic.

    Everything is checked first (CEL included, with positions); an invalid set publishes nothing. An
    unchanged set (same content digest as the latest version) is not published again.
    """
    console, err = Console(), Console(stderr=True, soft_wrap=True)
    loaded = _load(files, topology, schemas, err)
    policy_set = loaded.policy_set
    compile_policy_set(policy_set)
    console.print(f"{policy_set.name}: {len(policy_set.policies)} policies, digest {policy_set.digest[:12]}")
    if dry_run:
        return
    try:
        store = PolicyStore(_kafka().client_config())
        store.ensure_topic(replication)
        outcome = store.publish(policy_set)
    except CorpsError as exc:
        err.print(f"error: {exc}", style="red", markup=False, highlight=False)
        raise click.exceptions.Exit(1) from exc
    where = f"{store.topic}[{outcome.published.partition}]@{outcome.published.offset}"
    if outcome.changed:
        console.print(f"published {outcome.published.version} at {where}", markup=False)
    else:
        console.print(f"unchanged: {outcome.published.version} is already the latest ({where})", markup=False)


@policy.command()
@click.argument("name", required=False)
@click.option("--version", "number", type=int, help="Show this version of NAME (default: the latest).")
def show(name: str | None, number: int | None) -> None:
    """List the published policy sets, or show the policies of set NAME."""
    console, err = Console(), Console(stderr=True, soft_wrap=True)
    try:
        history = PolicyStore(_kafka().client_config()).read()
    except CorpsError as exc:
        err.print(f"error: {exc}", style="red", markup=False, highlight=False)
        raise click.exceptions.Exit(1) from exc
    if name is None:
        table = Table("set", "latest", "digest", "offset", "policies", "versions")
        for set_name in history.names():
            latest = history.latest(set_name)
            if latest is not None:
                count = str(len(history.versions[set_name]))
                table.add_row(escape(set_name), str(latest.policy_set.number), latest.digest[:12],
                              str(latest.offset), str(len(latest.policy_set.policies)), count)  # fmt: skip
        console.print(table)
        return
    found = history.latest(name) if number is None else history.get(name, number)
    if found is None:
        err.print(f"no published version {number or ''} of set {name!r}", style="red", markup=False)
        raise click.exceptions.Exit(1)
    console.print(f"{found.version} at offset {found.offset}", markup=False)
    table = Table("policy", "version", "effect", "match", "condition")
    for item in found.policy_set.policies:
        match = "; ".join(f"{k}: {', '.join(v)}" for k, v in item.match.model_dump().items() if v)
        table.add_row(
            escape(item.id), str(item.version), item.effect_key, escape(match), escape(item.condition or "")
        )
    console.print(table)

"""``corps topology validate | graph | apply``: check, draw and provision a choreography."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from corps.errors import ConfigurationError, CorpsError
from corps.policy.from_topology import check_topology_policies
from corps.settings import CorpsSettings, KafkaSettings, RegistrySettings
from corps.topology import (
    Diagnostic,
    LoadedTopology,
    Severity,
    TopologyError,
    TopologySchemas,
    desired_topics,
    diff_topics,
    load_topology,
    to_mermaid,
    to_svg,
    validate_topology,
)

__all__ = ["topology"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_SCHEMAS_HELP = "The schemas/ directory (default: ./schemas, else schemas/ next to the topology's folder)."


def _schemas_dir(option: Path | None, topology_file: Path) -> Path:
    if option is not None:
        return option
    here = Path("schemas")
    return here if here.is_dir() else topology_file.resolve().parent.parent / "schemas"


def _print(console: Console, diagnostics: list[Diagnostic]) -> None:
    for item in diagnostics:
        style = "red" if item.severity is Severity.ERROR else "yellow"
        console.print(str(item), style=style, markup=False, highlight=False, soft_wrap=True)


def _load_and_check(
    path: Path, schemas: Path | None, err: Console
) -> tuple[LoadedTopology, list[Diagnostic]]:
    try:
        loaded = load_topology(path)
    except TopologyError as exc:
        _print(err, list(exc.diagnostics))
        raise click.exceptions.Exit(1) from exc
    return loaded, validate_topology(loaded, TopologySchemas(_schemas_dir(schemas, path)))


@click.group()
def topology() -> None:
    """Check, draw and provision topology files (the declared shape of a choreography)."""


@topology.command()
@click.argument("file", type=_FILE)
@click.option("--schemas", type=click.Path(file_okay=False, path_type=Path), help=_SCHEMAS_HELP)
def validate(file: Path, schemas: Path | None) -> None:
    """Check FILE: references, reachability, cycles, compensations, schemas and policies.

    Every finding names file:line:column and the key. Exits 1 when there is an error; warnings alone
    exit 0.
    """
    err = Console(stderr=True)
    loaded, found = _load_and_check(file, schemas, err)
    found += check_topology_policies(loaded, _schemas_dir(schemas, file))  # policy files, redactions
    _print(err, found)
    errors = sum(d.severity is Severity.ERROR for d in found)
    warnings = len(found) - errors
    if errors:
        err.print(f"{file}: {errors} error(s), {warnings} warning(s)", style="red", markup=False)
        raise click.exceptions.Exit(1)
    click.echo(f"{file}: valid ({warnings} warning(s))")


@topology.command()
@click.argument("file", type=_FILE)
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "svg", "png"]), default="mermaid", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout)."
)
def graph(file: Path, fmt: str, output: Path | None) -> None:
    """Draw FILE as Mermaid text, or as an SVG (laid out in pure Python) or PNG.

    PNG is the SVG rasterised by ``rsvg-convert`` (Debian: librsvg2-bin) when it is installed.
    """
    try:
        loaded = load_topology(file)
    except TopologyError as exc:
        _print(Console(stderr=True), list(exc.diagnostics))
        raise click.exceptions.Exit(1) from exc
    text = to_mermaid(loaded.topology) if fmt == "mermaid" else to_svg(loaded.topology)
    if fmt == "png":
        if output is None:
            raise click.UsageError("--format png needs -o FILE.png")
        tool = shutil.which("rsvg-convert")
        if tool is None:
            raise click.ClickException(
                "PNG needs rsvg-convert (apt-get install librsvg2-bin); or use --format svg"
            )
        subprocess.run([tool, "-f", "png", "-o", str(output)], input=text.encode(), check=True)
        click.echo(f"wrote {output}")
    elif output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


def _cluster(settings: CorpsSettings) -> tuple[KafkaSettings, RegistrySettings]:
    if settings.kafka is not None and settings.registry is not None:
        return settings.kafka, settings.registry
    from corps.dev import LocalStack, StackConfig, default_cache_dir, default_home

    environ = dict(os.environ)
    status = LocalStack(
        StackConfig(home=default_home(environ), cache_dir=default_cache_dir(environ))
    ).status()
    if not status.running or status.info is None:
        raise ConfigurationError(
            "no cluster: set KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL, "
            "or start the local one with `corps dev up`"
        )
    kafka = settings.kafka or KafkaSettings(bootstrap_servers=status.info.bootstrap_servers)
    return kafka, settings.registry or RegistrySettings(url=status.info.schema_registry_url)


@topology.command()
@click.argument("file", type=_FILE)
@click.option("--schemas", type=click.Path(file_okay=False, path_type=Path), help=_SCHEMAS_HELP)
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option("--dry-run", is_flag=True, help="Show the diff and stop.")
@click.option("--skip-schemas", is_flag=True, help="Create/alter topics only; do not register schemas.")
def apply(file: Path, schemas: Path | None, yes: bool, dry_run: bool, skip_schemas: bool) -> None:
    """Create or update FILE's topics (co-partitioned) and register its schemas.

    Shows the diff first (create / add partitions / alter config) and asks before changing anything.
    Refuses to decrease partitions or change replication. Running it twice changes nothing the second time.
    """
    from confluent_kafka.admin import AdminClient

    from corps.events.catalog import SchemaCatalog
    from corps.events.registry import SchemaRegistry
    from corps.events.subjects import register_subject
    from corps.topology import execute_plan, read_cluster, schema_subjects, wait_converged

    console, err = Console(), Console(stderr=True)
    loaded, found = _load_and_check(file, schemas, err)
    if any(d.severity is Severity.ERROR for d in found):
        _print(err, found)
        err.print(
            f"{file} is not valid; fix it first (corps topology validate {file})", style="red", markup=False
        )
        raise click.exceptions.Exit(1)
    try:
        kafka, registry = _cluster(CorpsSettings.from_env(os.environ))
        conf: dict[str, str | int | float | bool] = {**kafka.client_config()}
        admin = AdminClient(conf)
        wanted = desired_topics(loaded.topology)
        plan = diff_topics(wanted, read_cluster(admin, wanted))
        table = Table("change", "topic", "detail", title=f"{file} → {kafka.bootstrap_servers}")
        for change in plan.changes:
            table.add_row(change.kind.value, escape(change.topic), escape(change.detail))
        for refusal in plan.refusals:
            topic, _, why = refusal.partition(":")
            table.add_row("[red]refused[/red]", escape(topic), escape(why.strip()))
        if plan.changes or plan.refusals:
            console.print(table)
        console.print(f"{len(plan.unchanged)} topic(s) already as declared")
        if plan.refusals:
            err.print("[red]nothing applied: the plan has refusals[/red]")
            raise click.exceptions.Exit(1)
        if dry_run:
            return
        if plan.changes and not yes and not click.confirm(f"apply {len(plan.changes)} change(s)?"):
            raise click.exceptions.Exit(1)
        done = execute_plan(admin, plan)
        wait_converged(admin, wanted)
        console.print(f"topics: {done} change(s) applied")
        if skip_schemas:
            return
        catalog = SchemaCatalog.load(_schemas_dir(schemas, file))
        pairs = schema_subjects(loaded.topology, catalog)
        created = 0
        with SchemaRegistry(registry) as client, Progress(console=err, transient=True) as progress:
            task = progress.add_task("registering schemas", total=len(pairs))
            for subject_name, subject in pairs:
                created += sum(r.created for r in register_subject(client, subject_name, subject))
                progress.advance(task)
        console.print(f"schemas: {len(pairs)} subject(s), {created} version(s) newly registered")
    except CorpsError as exc:
        err.print(f"error: {exc}", style="red", markup=False, highlight=False)
        raise click.exceptions.Exit(1) from exc

"""``corps acl plan | apply``: the Kafka ACLs a topology needs (least privilege), shown or created."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corps.cli._stack import resolve_stack
from corps.errors import CorpsError
from corps.policy.acl import AclEntry, AclSettings, plan_acls
from corps.policy.acl_apply import apply_acls
from corps.settings import CorpsSettings
from corps.topology import Topology, TopologyError, load_topology

__all__ = ["acl"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _principals(fn: click.decorators.FC) -> click.decorators.FC:
    defaults = AclSettings()
    for flag, field in (("--gate", "gate"), ("--orchestrator", "orchestrator"), ("--client", "client")):
        fn = click.option(flag, field, default=getattr(defaults, field), show_default=True,
                          help=f"Principal of the {field}.")(fn)  # fmt: skip
    return fn


def _topology(file: Path) -> Topology:
    try:
        return load_topology(file).topology
    except TopologyError as exc:
        err = Console(stderr=True, soft_wrap=True)
        for item in exc.diagnostics:
            err.print(str(item), style="red", markup=False, highlight=False, soft_wrap=True)
        raise click.exceptions.Exit(1) from exc


def _console() -> Console:
    """stdout, wide enough for a table of long topic names when it is not a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=220)


def _table(entries: tuple[AclEntry, ...] | list[AclEntry], title: str) -> Table:
    table = Table("principal", "operation", "resource", "pattern", "name", "why", title=title)
    for e in entries:
        table.add_row(escape(e.principal), e.operation.value, e.resource_type.value, e.pattern.value,
                      escape(e.name), escape(e.why))  # fmt: skip
    return table


@click.group()
def acl() -> None:
    """Least privilege: derive Kafka ACLs from a topology, show them, create them."""


@acl.command()
@click.argument("file", type=_FILE)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_principals
def plan(file: Path, fmt: str, gate: str, orchestrator: str, client: str) -> None:
    """Print the ALLOW bindings FILE's agents, gate, orchestrator and clients need (nothing else)."""
    entries = plan_acls(_topology(file), AclSettings(gate=gate, orchestrator=orchestrator, client=client))
    if fmt == "json":
        rows = [
            {"principal": e.principal, "operation": e.operation.value, "resource_type": e.resource_type.value,
             "pattern": e.pattern.value, "name": e.name, "permission": "allow", "host": "*", "why": e.why}
            for e in entries
        ]  # fmt: skip
        click.echo(json.dumps(rows, indent=2))
        return
    _console().print(_table(entries, f"{file}: {len(entries)} ACL(s)"))


@acl.command()
@click.argument("file", type=_FILE)
@click.option("--dry-run", is_flag=True, help="Show the plan and stop.")
@_principals
def apply(file: Path, dry_run: bool, gate: str, orchestrator: str, client: str) -> None:
    """Create FILE's ACLs on the cluster (AdminClient.create_acls); existing ones are kept.

    Needs a broker with an authorizer and an admin principal (a super user): set KAFKA_SECURITY_PROTOCOL,
    KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. Bindings of the same principals
    that the plan does not contain are reported, not deleted.
    """
    console, err = _console(), Console(stderr=True, soft_wrap=True)
    entries = plan_acls(_topology(file), AclSettings(gate=gate, orchestrator=orchestrator, client=client))
    if dry_run:
        console.print(_table(entries, f"{file}: {len(entries)} ACL(s) (dry run)"))
        return
    try:
        settings = CorpsSettings.from_env(os.environ)
        kafka = settings.kafka if settings.kafka is not None else resolve_stack(os.environ)[0]
        prefix = f"{_topology(file).workflow.name}."
        result = apply_acls(kafka.client_config(), entries, scope_prefix=prefix)
    except CorpsError as exc:
        err.print(f"error: {exc}", style="red", markup=False, highlight=False)
        raise click.exceptions.Exit(1) from exc
    if result.created:
        console.print(_table(list(result.created), "created"))
    console.print(f"{len(result.created)} ACL(s) created, {len(result.present)} already present")
    for line in result.unplanned:
        err.print(f"not in the plan (kept): {line}", style="yellow", markup=False, highlight=False)

"""``corps approve | reject WORKFLOW STEP --as USER [--reason …]``: a human's vote on a parked event.

The vote is proposed on the workflow's lifecycle topic; the gate counts it only if USER is one of the
approvers the policy names (otherwise the refusal is recorded in the decision log), admits the parked
event once the quorum is reached, or drops it on a rejection. Everything is on the log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from corps.cli._stack import StackNotAvailableError, resolve_stack
from corps.errors import CorpsError
from corps.events import EventCodec, EventProducer, SchemaRegistry
from corps.events.producer import DeliveryReport
from corps.orchestrator.topics import TopologyTopics
from corps.orchestrator.votes import vote_record
from corps.topology import TopologyError, format_diagnostics, load_topology

__all__ = ["approve", "reject"]

_DEFAULT_TOPOLOGY = Path("topology/support.yaml")


_F = TypeVar("_F", bound=Callable[..., Any])


def _options(command: _F) -> _F:
    for option in reversed(
        [
            click.argument("workflow_id"),
            click.argument("step"),
            click.option("--as", "user", required=True, help="Who decides (must be a named approver)."),
            click.option("--reason", default="", help="Why (recorded with the vote)."),
            click.option("--tenant", default="default", show_default=True, help="Tenant of the vote event."),
            click.option(
                "--topology",
                "topology_file",
                default=_DEFAULT_TOPOLOGY,
                show_default=True,
                type=click.Path(dir_okay=False, path_type=Path),
                help="The topology of the workflow.",
            ),
        ]
    ):
        command = option(command)
    return command


def _vote(
    workflow_id: str, step: str, user: str, reason: str, tenant: str, topology_file: Path, grant: bool
) -> None:
    if not topology_file.is_file():
        raise click.ClickException(f"topology file {topology_file} not found (pass --topology)")
    try:
        topology = load_topology(topology_file).topology
    except TopologyError as exc:
        raise click.ClickException(f"{topology_file}:\n{format_diagnostics(list(exc.diagnostics))}") from exc
    try:
        kafka, registry_settings = resolve_stack()
    except StackNotAvailableError as exc:
        raise click.ClickException(exc.message) from exc
    reports: list[DeliveryReport] = []
    try:
        with SchemaRegistry(registry_settings) as registry:
            codec = EventCodec(registry, subject_strategy=TopologyTopics.of(topology).subject)
            record = vote_record(
                codec, topology, workflow_id=workflow_id, step=step, approver=user, grant=grant,
                reason=reason, tenant=tenant,
            )  # fmt: skip
        producer = EventProducer(kafka, client_id="corps-approve")
        producer.send(record, reports.append)
        producer.flush(30)
    except CorpsError as exc:
        raise click.ClickException(f"vote not sent: {exc}") from exc
    if not reports or not reports[0].ok:
        why = reports[0].error if reports else "no delivery report within 30s"
        raise click.ClickException(f"vote not sent to {record.topic}: {why}")
    verb = "approval" if grant else "rejection"
    click.echo(
        f"{verb} of step {step} of workflow {workflow_id} by {user} proposed "
        f"({record.topic}[{reports[0].partition}]@{reports[0].offset}); the gate counts it if {user} "
        "is a named approver"
    )


@click.command("approve")
@_options
def approve(workflow_id: str, step: str, user: str, reason: str, tenant: str, topology_file: Path) -> None:
    """Approve STEP of WORKFLOW_ID (a parked event) as USER."""
    _vote(workflow_id, step, user, reason, tenant, topology_file, grant=True)


@click.command("reject")
@_options
def reject(workflow_id: str, step: str, user: str, reason: str, tenant: str, topology_file: Path) -> None:
    """Reject STEP of WORKFLOW_ID (a parked event) as USER."""
    _vote(workflow_id, step, user, reason, tenant, topology_file, grant=False)

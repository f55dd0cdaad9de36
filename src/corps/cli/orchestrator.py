"""``corps orchestrator run --topology FILE``: the gate and the orchestrator of one choreography.

Kafka and the schema registry come from ``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL`` or the
local dev stack (``corps dev up``). The topology's topics must exist (``corps topology apply``); the
service creates its own state changelog and dead-letter topic. SIGTERM / Ctrl-C stop it gracefully:
the batch in flight is committed, the consumer group left.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from corps.cli._stack import resolve_stack
from corps.errors import ConfigurationError, CorpsError
from corps.orchestrator.service import OrchestratorService
from corps.orchestrator.settings import OrchestratorSettings
from corps.runtime.logs import configure_logging
from corps.topology import Topology, TopologyError, format_diagnostics, load_topology

__all__ = ["orchestrator"]


@click.group("orchestrator")
def orchestrator() -> None:
    """Run the gate + orchestrator service of a topology (never calls an agent)."""


@orchestrator.command("run")
@click.option(
    "--topology",
    "topology_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The topology file whose choreography this service gates and watches.",
)
@click.option("--instance-id", help="Stable replica id: names the transactional producer (default 0).")
@click.option("--group-id", help="Consumer group (default corps-orchestrator.<workflow>).")
@click.option(
    "--policy-set",
    help="Policy set the gate enforces, from the policies topic (default: the workflow's name).",
)
@click.option("--no-policies", is_flag=True, help="No policy engine: the gate allows every valid event.")
@click.option("--gate-only", is_flag=True, help="Run the gate alone, without the orchestrator stage.")
@click.option("--max-batch", type=click.IntRange(1, 100_000), help="Most records per transaction.")
@click.option("--max-wait-ms", type=click.IntRange(1, 60_000), help="Longest wait before a batch is cut.")
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"])
)
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["json", "text"]))
def run(
    topology_file: Path,
    instance_id: str | None,
    group_id: str | None,
    policy_set: str | None,
    no_policies: bool,
    gate_only: bool,
    max_batch: int | None,
    max_wait_ms: int | None,
    log_level: str,
    log_format: str,
) -> None:
    """Gate proposed events, track every workflow and compensate failed ones until SIGTERM / Ctrl-C.

    Duplicates are refused for 1 h (retention): then a finished (gate-only: idle) workflow keeps only
    its chain head, and an event of it proposed again is admitted again.

    \b
    Example, with `corps dev up` running and the topology applied:
      corps orchestrator run --topology topology/support.yaml
    """  # noqa: D301 - \\b keeps click from rewrapping the example
    try:
        topology = load_topology(topology_file).topology
    except TopologyError as exc:
        raise click.ClickException(f"{topology_file}:\n{format_diagnostics(list(exc.diagnostics))}") from exc
    kafka, registry = resolve_stack()
    values: dict[str, Any] = {
        "kafka": kafka,
        "registry": registry,
        "orchestrate": not gate_only,
        "instance_id": instance_id,
        "group_id": group_id,
        "max_batch": max_batch,
        "max_wait_ms": max_wait_ms,
        "policy_set": None if no_policies else (policy_set or topology.workflow.name),
    }
    try:
        settings = OrchestratorSettings.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise click.ClickException(f"invalid orchestrator settings:\n{exc}") from exc
    configure_logging(log_level, json_format=log_format == "json", static={"service": "orchestrator"})
    for chatty in ("httpx", "httpx2"):  # one INFO line per registry request otherwise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        asyncio.run(_serve(topology, settings))
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except CorpsError as exc:
        raise click.ClickException(f"orchestrator of {topology.workflow.name} stopped: {exc}") from exc


async def _serve(topology: Topology, settings: OrchestratorSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with OrchestratorService(topology, settings) as service:
        stage = "gate only" if not settings.orchestrate else "gate + orchestrator"
        click.echo(
            f"orchestrator of {topology.workflow.name} v{topology.workflow.version} running ({stage}) as "
            f"{service.transactional_id}, group {service.group_id}; Ctrl-C to stop",
            err=True,
        )
        await service.run(stop)
        stats = service.stats
        phases = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in stats.seconds.items())
        click.echo(
            f"orchestrator stopped: {stats.batches} batches, {stats.records_in} records in, "
            f"{stats.records_out} out, {stats.aborted} aborted; time in {phases}",
            err=True,
        )

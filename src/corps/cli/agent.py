"""``corps agent run MODULE:ATTR``: run one replica of an agent until SIGTERM / Ctrl-C.

Where the topics are comes from ``--topology FILE`` (the naming convention of that choreography: the
agent reads admitted topics and writes proposed ones), from ``--config FILE`` (YAML of
:class:`corps.runtime.settings.AgentSettings` fields), or else from the event type names themselves.
Kafka and the schema registry come from ``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL`` or the
local dev stack (``corps dev up``).
"""

from __future__ import annotations

import asyncio
import importlib
import signal
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from opentelemetry.trace import TracerProvider
from pydantic import ValidationError

from corps.cli._stack import resolve_stack
from corps.errors import ConfigurationError, CorpsError
from corps.events.lifecycle import CompensationRequested
from corps.runtime import Agent
from corps.runtime.exporters import tracer_provider
from corps.runtime.logs import configure_logging
from corps.runtime.settings import AgentSettings, TelemetrySettings
from corps.runtime.worker import AgentWorker
from corps.topology import (
    Stage,
    Topology,
    TopologyError,
    admitted_topic,
    lifecycle_topic,
    load_topology,
    proposed_topic,
)
from corps.topology.models import RetryPolicy as TopologyRetry

__all__ = ["agent", "build_settings", "load_agent", "routing_from_topology"]


def load_agent(target: str) -> Agent:
    """Import ``module:attr`` and return the :class:`Agent` it names.

    Raises:
        click.BadParameter: The target is malformed, cannot be imported, or is not an Agent.
    """
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise click.BadParameter(f"{target!r} is not MODULE:ATTR (e.g. services.support_agents.triage:agent)")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # agents live in the user's project, run from its root
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise click.BadParameter(f"cannot import {module_name!r}: {exc}") from exc
    found = getattr(module, attr, None)
    if found is None:
        raise click.BadParameter(f"module {module_name!r} has no attribute {attr!r}")
    if not isinstance(found, Agent):
        raise click.BadParameter(f"{target} is a {type(found).__name__}, not a corps.runtime.Agent")
    return found


def _retry(policy: TopologyRetry) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "initial_delay": policy.backoff.initial.total_seconds(),
        "multiplier": policy.backoff.multiplier,
        "max_delay": max(policy.backoff.max.total_seconds(), policy.backoff.initial.total_seconds()),
    }


def routing_from_topology(topology: Topology, agent: Agent) -> dict[str, Any]:
    """Return the ``AgentSettings`` fields the topology determines for ``agent``.

    The agent reads the *admitted* topic of each event type it consumes and writes the *proposed* topic
    of each it produces; compensation requests come from the admitted lifecycle topic, its reports go to
    the proposed one. Steps run by this agent give ``ce_step`` names, retry policies and time budgets.
    """
    workflow, namespace = topology.workflow.name, topology.namespace

    def short(event_type: str) -> str:
        return event_type.removeprefix(f"{namespace}.")

    admitted_lifecycle = lifecycle_topic(workflow, Stage.ADMITTED)
    proposed_lifecycle = lifecycle_topic(workflow, Stage.PROPOSED)
    inputs = {}
    for model in agent.consumes:
        if model is CompensationRequested:
            inputs[model.event_type] = admitted_lifecycle
        else:
            inputs[model.event_type] = admitted_topic(workflow, short(model.event_type))
    outputs = {m.event_type: proposed_topic(workflow, short(m.event_type)) for m in agent.produces}
    steps: dict[str, str] = {}
    handlers: dict[str, dict[str, Any]] = {}
    defaults = topology.defaults
    for name, step in topology.steps.items():
        if step.agent != agent.name:
            continue
        event_type = f"{namespace}.{step.on}"
        steps[event_type] = name
        timeout = step.timeout or defaults.timeout
        handlers[event_type] = {
            "retry": _retry(step.retry or defaults.retry),
            "timeout_s": timeout.total_seconds(),
        }
        if step.compensation is not None:
            c = step.compensation
            attempts = c.max_attempts or defaults.compensation_attempts
            policy = TopologyRetry(max_attempts=attempts, backoff=defaults.compensation_backoff)
            handlers[CompensationRequested.event_type] = {
                "retry": _retry(policy),
                "timeout_s": (c.timeout or defaults.compensation_timeout).total_seconds(),
            }
    return {
        "topics": {
            "retry_template": f"{workflow}.{{agent}}.retry.{{tier}}",
            "dead_letter_template": f"{workflow}.{{agent}}.dlq",
        },
        "routing": {
            "inputs": inputs,
            "outputs": outputs,
            "lifecycle": proposed_lifecycle,
            "steps": steps,
            "multi_type_topics": [admitted_lifecycle, proposed_lifecycle],
        },
        "handlers": handlers,
    }


def _settings_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--config") from exc
    if not isinstance(loaded, dict):
        raise click.BadParameter(f"{path}: expected a mapping of settings", param_hint="--config")
    return loaded


def build_settings(
    found: Agent,
    *,
    config: Path | None,
    topology: Path | None,
    overrides: dict[str, Any],
    environ: dict[str, str] | None = None,
) -> AgentSettings:
    """Assemble the agent's settings: topology routing, then the config file, then command-line options."""
    kafka, registry = resolve_stack(environ)
    values: dict[str, Any] = {}
    if topology is not None:
        try:
            loaded = load_topology(topology)
        except TopologyError as exc:
            raise click.ClickException(f"{topology}: {exc}") from exc
        values.update(routing_from_topology(loaded.topology, found))
    values.update(_settings_file(config))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return AgentSettings.model_validate({**values, "kafka": kafka, "registry": registry})
    except ValidationError as exc:
        where = f" ({config})" if config else ""
        raise click.ClickException(f"invalid agent settings{where}:\n{exc}") from exc


@click.group("agent")
def agent() -> None:
    """Run agents (one process per replica; replicas of one agent share its partitions)."""


@agent.command("run")
@click.argument("target", metavar="MODULE:ATTR")
@click.option(
    "--topology",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Take topic names, steps, retries and timeouts from this topology file.",
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of agent settings (routing, retry, batch, topics, telemetry, ...).",
)
@click.option(
    "--delivery",
    type=click.Choice(["exactly_once", "at_least_once"]),
    help="exactly_once (Kafka transactions, default) or at_least_once.",
)
@click.option("--group-id", help="Consumer group (default: the agent's name).")
@click.option("--instance-id", help="Stable replica id (fences a crashed predecessor at once).")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics on this port (0: any free port).",
)
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"])
)
@click.option("--log-format", default="json", show_default=True, type=click.Choice(["json", "text"]))
@click.option(
    "--traces",
    type=click.Choice(["none", "console", "otlp"]),
    help="Where OpenTelemetry spans go: none (default; trace context is propagated either way), "
    "console, or otlp (OTLP/HTTP to --otlp-endpoint).",
)
@click.option(
    "--otlp-endpoint",
    metavar="URL",
    help="OTLP/HTTP traces URL of a collector [default: http://127.0.0.1:4318/v1/traces].",
)
def run(
    target: str,
    topology: Path | None,
    config: Path | None,
    delivery: str | None,
    group_id: str | None,
    instance_id: str | None,
    metrics_port: int | None,
    log_level: str,
    log_format: str,
    traces: str | None,
    otlp_endpoint: str | None,
) -> None:
    """Run one replica of the agent MODULE:ATTR until SIGTERM or Ctrl-C.

    \b
    Example, from the project root with `corps dev up` running:
      corps agent run services.support_agents.triage:agent --topology topology/support.yaml

    On SIGTERM the replica finishes and commits the batch in flight, leaves its consumer group and
    removes itself from the agent registry (`corps agents`).
    """  # noqa: D301 - \\b keeps click from rewrapping the example
    found = load_agent(target)
    overrides: dict[str, Any] = {"delivery": delivery, "group_id": group_id, "instance_id": instance_id}
    settings = build_settings(found, config=config, topology=topology, overrides=overrides)
    given = {"metrics_port": metrics_port, "traces": traces, "otlp_endpoint": otlp_endpoint}
    if any(v is not None for v in given.values()):
        update = {k: v for k, v in given.items() if v is not None}
        try:
            telemetry = TelemetrySettings.model_validate({**settings.telemetry.model_dump(), **update})
        except ValidationError as exc:
            raise click.BadParameter(_first_error(exc), param_hint="--otlp-endpoint") from exc
        settings = settings.model_copy(update={"telemetry": telemetry})
    configure_logging(log_level, json_format=log_format == "json", static={"agent": found.name})
    try:
        provider = tracer_provider(settings.telemetry, service=found.name, version=found.version)
        try:
            asyncio.run(_serve(found, settings, provider))
        finally:
            if provider is not None:
                provider.shutdown()  # exports the spans still batched
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except CorpsError as exc:
        raise click.ClickException(f"agent {found.name} stopped: {exc}") from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    return f"{'.'.join(map(str, error['loc']))}: {error['msg']}"


async def _serve(found: Agent, settings: AgentSettings, provider: TracerProvider | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AgentWorker(found, settings, tracer_provider=provider) as worker:
        where = f", metrics on :{worker.metrics_port}/metrics" if worker.metrics_port else ""
        click.echo(
            f"agent {found.name} {found.version} running as replica {worker.replica_id} "
            f"(group {worker.group_id}, {settings.delivery}{where}); Ctrl-C to stop",
            err=True,
        )
        await worker.run(stop)

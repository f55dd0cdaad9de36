"""``corps demo``: the main job, end to end on real Kafka and a real schema registry.

Stages: bring up (or reuse) the stack; apply the demo topology and its policies; start the orchestrator
and the example agents as separate processes; publish support tickets — most complete, one is denied by
policy, one waits for a human approval that a scripted approver grants, one fails at a step and is
compensated —; wait until every workflow has ended; show the compensated workflow's timeline; replay
the whole log with ``--verify`` and write the HTML audit report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console

from corps.cli._demo_data import DemoTicket, demo_tickets
from corps.cli._demo_watch import LifecycleWatcher
from corps.cli._stack import resolve_stack
from corps.cli._supervise import Supervisor, supervised
from corps.dev import LocalStack, StackConfig, default_cache_dir, default_home
from corps.settings import CorpsSettings
from corps.topology import load_topology, proposed_topic

__all__ = ["demo"]

_AGENTS = ("triage", "refunds", "writer", "sender")
_console = Console(highlight=False)


def _corps(args: Sequence[str], what: str, *, echo: bool = False) -> str:
    """Run ``corps ARGS`` to completion; raise with its output when it fails."""
    env = {**os.environ, "COLUMNS": str(max(_console.width, 150))}
    argv = [sys.executable, "-m", "corps", *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise click.ClickException(
            f"{what} failed (exit {done.returncode}): corps {' '.join(args)}\n{done.stdout}{done.stderr}"
        )
    if echo:  # results on stdout, summaries (e.g. replay's verification verdict) on stderr
        _console.out("\n".join(part.rstrip() for part in (done.stdout, done.stderr) if part.strip()))
    return done.stdout


def _stage(n: int, text: str) -> None:
    _console.rule(f"[bold]{n}. {text}")


def _bring_up_stack() -> None:
    settings = CorpsSettings.from_env(os.environ)
    if settings.kafka is not None and settings.registry is not None:
        _console.print(f"using the cluster at {settings.kafka.bootstrap_servers} (environment)")
        return
    stack = LocalStack(StackConfig(home=default_home(os.environ), cache_dir=default_cache_dir(os.environ)))
    info = stack.up()
    _console.print(
        f"Kafka {info.kafka_version} at {info.bootstrap_servers}, "
        f"Apicurio {info.registry_version} at {info.schema_registry_url}"
    )


def _publish(topology_name: str, tickets: Sequence[DemoTicket], work: Path) -> None:
    lines = [json.dumps(t.cloudevent(), sort_keys=True) for t in tickets]
    path = work / "tickets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _corps(
        [
            "publish",
            "demo.support.TicketOpened",
            str(path),
            "--topic",
            proposed_topic(topology_name, "TicketOpened"),
            "--source",
            "corps://demo/helpdesk",
        ],
        "publishing the tickets",
        echo=True,
    )


@click.command()
@click.option(
    "--topology",
    "topology_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("topology/support.yaml"),
    show_default=True,
    help="The demo choreography.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".corps/demo"),
    show_default=True,
    help="Where logs, the published tickets and the HTML report go.",
)
@click.option("--timeout", type=click.FloatRange(min=10), default=240.0, show_default=True)
def demo(topology_file: Path, work_dir: Path, timeout: float) -> None:
    """Run the whole corps story on a real local stack: choreography, failure, compensation, audit."""
    run_id = uuid.uuid4().hex[:8]
    work = (work_dir / run_id).absolute()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    _stage(1, "Kafka + schema registry")
    _bring_up_stack()
    kafka, registry = resolve_stack()

    _stage(2, "Topology, schemas and policies")
    _corps(["topology", "validate", str(topology_file)], "validating the topology", echo=True)
    _corps(["topology", "apply", "--yes", str(topology_file)], "applying the topology", echo=True)
    policies = sorted(str(p) for p in (topology_file.parent / "policies").glob("*.yaml"))
    if policies:
        _corps(["policy", "apply", *policies], "publishing the policy set", echo=True)

    name = load_topology(topology_file).topology.workflow.name
    tickets = demo_tickets(run_id)

    with supervised(work / "logs") as procs:
        _stage(3, "Orchestrator and agents (separate processes)")
        _start_services(procs, topology_file)
        watcher = LifecycleWatcher(kafka, registry, name, [t.workflow_id for t in tickets])
        _console.print(f"logs in {work / 'logs'}")

        _stage(4, f"Publishing {len(tickets)} support tickets")
        _publish(name, tickets, work)

        _stage(5, "Waiting for every workflow to end")
        outcome = watcher.wait(tickets, timeout_s=timeout, supervisor=procs, approve=_approve)
        _report_outcomes(tickets, outcome)

    compensated = next(t for t in tickets if t.story.startswith("fails"))
    _stage(6, f"Timeline of the compensated workflow {compensated.workflow_id}")
    _corps(
        ["workflow", "show", compensated.workflow_id, "--topology", str(topology_file)],
        "showing the workflow",
        echo=True,
    )

    _stage(7, "Audit replay of the whole log, verified")
    report = work / "report.html"
    _corps(
        ["replay", "--topology", str(topology_file), "--verify", "--format", "html", "--out", str(report)],
        "replaying the log",
        echo=True,
    )
    _console.print(f"\n[bold green]done in {time.monotonic() - started:.0f}s.[/] HTML audit report: {report}")
    _console.print(f"logs: {work / 'logs'}")


def _report_outcomes(tickets: Sequence[DemoTicket], outcome: dict[str, str]) -> None:
    """Print each ticket's outcome beside the expected one; a mismatch fails the demo."""
    wrong = []
    for ticket in tickets:
        got = outcome[ticket.workflow_id]
        ok = got.split(" ", 1)[0] == ticket.expected
        mark = "[green]✓[/]" if ok else f"[red]✗ expected {ticket.expected}[/]"
        _console.print(f"  {ticket.ticket_id:<8} {ticket.story:<42} → {got}  {mark}", soft_wrap=True)
        if not ok:
            wrong.append(ticket.ticket_id)
    if wrong:
        raise click.ClickException(f"outcomes differ from the story for {', '.join(wrong)}")


def _start_services(procs: Supervisor, topology_file: Path) -> None:
    procs.start("orchestrator", ["orchestrator", "run", "--topology", str(topology_file)])
    for agent in _AGENTS:
        procs.start(
            f"agent-{agent}",
            ["agent", "run", f"services.support_agents.{agent}:agent", "--topology", str(topology_file)],
        )


def _approve(ticket: DemoTicket, step: str) -> None:
    _corps(
        ["approve", ticket.workflow_id, step, "--as", "alice", "--reason", "refund checked by the demo"],
        "approving",
        echo=True,
    )

"""Entry point of the ``corps`` command: the root group and its subcommands."""

from __future__ import annotations

import click

from corps import __version__
from corps.cli.acl import acl
from corps.cli.agent import agent
from corps.cli.agents import agents
from corps.cli.approve import approve, reject
from corps.cli.demo import demo
from corps.cli.dev import dev
from corps.cli.dlq import dlq
from corps.cli.orchestrator import orchestrator
from corps.cli.policy import policy
from corps.cli.publish import publish
from corps.cli.replay import replay
from corps.cli.schemas import schemas
from corps.cli.topology import topology
from corps.cli.workflows import workflow, workflows

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corps")
def cli() -> None:
    """corps: event-driven choreography for AI agents on Apache Kafka."""


cli.add_command(dev)
cli.add_command(demo)
cli.add_command(topology)
cli.add_command(schemas)
cli.add_command(publish)
cli.add_command(policy)
cli.add_command(acl)
cli.add_command(agent)
cli.add_command(agents)
cli.add_command(dlq)
cli.add_command(orchestrator)
cli.add_command(workflows)
cli.add_command(workflow)
cli.add_command(replay)
cli.add_command(approve)
cli.add_command(reject)


def main() -> None:
    """Run the ``corps`` command line."""
    cli()

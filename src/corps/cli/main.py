"""Entry point of the ``corps`` command: the root group and its subcommands."""

from __future__ import annotations

import click

from corps import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corps")
def cli() -> None:
    """corps: event-driven choreography for AI agents on Apache Kafka."""


def main() -> None:
    """Run the ``corps`` command line."""
    cli()

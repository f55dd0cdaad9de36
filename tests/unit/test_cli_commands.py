"""The root command resolves every subcommand lazily, by the name it is registered under."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from corps.cli.main import COMMANDS, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_subcommand_resolves_to_its_command(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    assert command.name == name


def test_help_lists_every_subcommand_and_an_unknown_one_is_refused() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0, listed.output
    for name in COMMANDS:
        assert f"  {name} " in listed.output
    unknown = runner.invoke(cli, ["no-such-command"])
    assert unknown.exit_code == 2
    assert "No such command 'no-such-command'" in unknown.output


def test_starting_the_cli_imports_no_subcommand() -> None:
    probe = (
        "import sys, corps.cli.main; "
        "print(sorted(m for m in sys.modules if m.startswith('corps.cli.') and m != 'corps.cli.main'))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"

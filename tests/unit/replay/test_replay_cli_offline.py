"""`corps replay` refuses bad input before it reaches for a broker, and names what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from replay_log import THREE

from corps.cli.main import cli

NOWHERE = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "SCHEMA_REGISTRY_URL": "http://127.0.0.1:1"}


@pytest.fixture
def topology_file(tmp_path: Path) -> Path:
    path = tmp_path / "rp.yaml"
    path.write_text(THREE, encoding="utf-8")
    return path


def replay(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["replay", *args], env=NOWHERE)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--follow", "--verify"], "--follow prints records as they come"),
        (["--follow", "--format", "html"], "--follow prints records as they come"),
        (["--calls", "__file__"], "--calls and --live-calls go with --through"),
        (["--from-time", "last tuesday"], "is not an ISO 8601 time"),
        (["--to-time", "2025-01-01T10:00:00"], "has no time zone"),
        (["--from-offset", "-1"], "x>=0"),
        (["--format", "pdf"], "'pdf' is not one of"),
        (["--through", "no.such.module:agent"], "cannot import 'no.such.module'"),
    ],
)
def test_bad_options_are_usage_errors(topology_file: Path, args: list[str], expected: str) -> None:
    args = [str(topology_file) if a == "__file__" else a for a in args]
    code, output = replay("--topology", str(topology_file), *args)
    assert code == 2
    assert expected in output


def test_a_range_that_cannot_be_is_refused(topology_file: Path) -> None:
    code, output = replay(
        "--topology", str(topology_file), "--from-offset", "3", "--from-time", "2025-01-01T00:00Z"
    )
    assert code == 1
    assert "give --from-offset or --from-time, not both" in output


def test_a_broken_topology_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("workflow: {name: x}\n", encoding="utf-8")
    code, output = replay("--topology", str(broken))
    assert code == 1
    assert "broken.yaml" in output


def test_help_lists_the_options() -> None:
    code, output = replay("--help")
    assert code == 0
    for option in ("--verify", "--through", "--follow", "--from-time", "--tenant", "--reader-schemas"):
        assert option in output

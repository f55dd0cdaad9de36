"""Where the CLI finds Kafka and the registry: the environment first, then the local stack (never started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from corps.cli._stack import StackNotAvailableError, resolve_registry, resolve_stack
from corps.cli.main import cli

SCHEMAS = str(Path(__file__).resolve().parents[3] / "schemas")
LINE = (
    '{"ticket_id": "T-1", "customer": {"customer_id": "c", "name": "A", "email": "a@x"}, '
    '"subject": "s", "body": "b"}\n'
)


def test_environment_wins() -> None:
    kafka, registry = resolve_stack(
        {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "SCHEMA_REGISTRY_URL": "http://r/apis/ccompat/v7"}
    )
    assert kafka.bootstrap_servers == "k:9092"
    assert registry.url == "http://r/apis/ccompat/v7"
    assert resolve_registry({"SCHEMA_REGISTRY_URL": "http://r"}).url == "http://r"


def test_one_variable_without_its_partner() -> None:
    with pytest.raises(
        StackNotAvailableError, match="SCHEMA_REGISTRY_URL is not set but its partner is"
    ) as info:
        resolve_stack({"KAFKA_BOOTSTRAP_SERVERS": "k:9092"})
    assert info.value.missing == ("registry",)


def test_no_local_stack_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(StackNotAvailableError, match="run `corps dev up`") as info:
        resolve_stack({"CORPS_DEV_HOME": str(tmp_path)})
    assert info.value.missing == ("kafka", "registry")
    assert "Kafka and the schema registry" in info.value.message
    with pytest.raises(StackNotAvailableError) as only_registry:
        resolve_registry({"CORPS_DEV_HOME": str(tmp_path)})
    assert only_registry.value.missing == ("registry",)


def test_publish_without_a_stack_exits_4_and_sends_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["publish", "demo.support.TicketOpened", "-", "--schemas", SCHEMAS],
        input=LINE,
        env={"CORPS_DEV_HOME": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": "", "SCHEMA_REGISTRY_URL": ""},
    )
    assert result.exit_code == 4
    assert result.stderr.startswith("error: no cluster configured")
    assert result.stderr.rstrip().endswith("nothing was sent")


def test_register_without_a_registry_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["schemas", "register", SCHEMAS],
        env={"CORPS_DEV_HOME": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": "", "SCHEMA_REGISTRY_URL": ""},
    )
    assert result.exit_code == 3
    assert "schema registry" in result.stderr


def test_empty_input_publishes_nothing_and_succeeds() -> None:
    result = CliRunner().invoke(
        cli, ["publish", "demo.support.TicketOpened", "-", "--schemas", SCHEMAS], input="\n\n"
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == "demo.support.TicketOpened: no events in the input; nothing sent"

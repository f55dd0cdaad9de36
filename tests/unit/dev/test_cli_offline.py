"""`corps dev` paths that need no broker: external-cluster hand-off, empty homes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from corps.cli.main import cli

NO_CLUSTER = {"KAFKA_BOOTSTRAP_SERVERS": None, "SCHEMA_REGISTRY_URL": None}


def test_up_is_not_needed_with_an_external_cluster() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "broker:9092", "SCHEMA_REGISTRY_URL": "http://sr:8081"}
    result = CliRunner().invoke(cli, ["dev", "up"], env=env)
    assert result.exit_code == 0
    assert "not needed" in result.output
    assert "broker:9092" in result.output


def test_half_an_external_cluster_is_an_error() -> None:
    result = CliRunner().invoke(
        cli, ["dev", "up"], env={"KAFKA_BOOTSTRAP_SERVERS": "b:9092", "SCHEMA_REGISTRY_URL": None}
    )
    assert result.exit_code != 0
    assert "SCHEMA_REGISTRY_URL is not set" in result.output


def test_status_json_of_an_empty_home(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dev", "--home", str(tmp_path), "status", "--json"], env=NO_CLUSTER)
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["running"] is False
    assert payload["external"] is False
    for key in ("bootstrap_servers", "schema_registry_url", "kafka_version", "registry_version"):
        assert key in payload


def test_down_of_an_empty_home(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dev", "--home", str(tmp_path), "down"], env=NO_CLUSTER)
    assert result.exit_code == 0
    assert "nothing was running" in result.output


def test_logs_show_the_tail(tmp_path: Path) -> None:
    log = tmp_path / "kafka" / "kafka.log"
    log.parent.mkdir()
    log.write_text("one\ntwo\nthree\n")
    result = CliRunner().invoke(cli, ["dev", "--home", str(tmp_path), "logs", "kafka", "-n", "2"])
    assert result.exit_code == 0
    assert result.output == "two\nthree\n"


def test_logs_without_a_stack_say_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dev", "--home", str(tmp_path), "logs", "registry"])
    assert result.exit_code != 0
    assert "no registry log" in result.output


def test_unknown_service_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["dev", "--home", str(tmp_path), "logs", "zookeeper"])
    assert result.exit_code == 2

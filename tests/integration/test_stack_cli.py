"""`corps dev up | status | down` through the real command line, on a stack of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from corps.dev import LocalStack, StackInfo
from corps.dev.process import is_running

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CORPS = str(Path(sys.executable).with_name("corps"))
_EXTERNAL = ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _EXTERNAL}
    return env | extra


def corps(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CORPS, *args], env=env, capture_output=True, text=True, timeout=110, check=False)


def status_json(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = corps("dev", "status", "--json", env=env)
    return done.returncode, json.loads(done.stdout)


@pytest.fixture
def held_default_ports() -> Iterator[set[int]]:
    """Occupy the provisioner's preferred ports (those still free) so it must pick others."""
    held: set[int] = set()
    with ExitStack() as stack:
        for port in (9092, 9093, 8081):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
                held.add(port)
            except OSError:
                continue  # somebody else holds it: just as good
        yield {9092, 9093, 8081}


def test_up_twice_status_down_keep_data_then_purge(
    scratch_stack: Callable[..., LocalStack], held_default_ports: set[int]
) -> None:
    home = scratch_stack("cli").home
    env = _env(CORPS_DEV_HOME=str(home))

    first = corps("dev", "up", env=env)
    assert first.returncode == 0, first.stderr
    assert "up in" in first.stdout

    code, status = status_json(env)
    assert code == 0
    assert status["running"] is True
    assert status["external"] is False
    assert status["home"] == str(home)
    assert status["kafka_version"] == "4.4.0"
    assert status["registry_version"] == "3.0.9"
    assert status["schema_registry_url"].endswith("/apis/ccompat/v7")
    kafka_port = int(status["bootstrap_servers"].rsplit(":", 1)[1])
    registry_port = int(status["schema_registry_url"].split(":")[2].split("/")[0])
    assert kafka_port not in held_default_ports  # a taken port means another port
    assert registry_port not in held_default_ports
    pids = (status["kafka"]["pid"], status["registry"]["pid"])

    second = corps("dev", "up", env=env)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    code, again = status_json(env)
    assert (again["kafka"]["pid"], again["registry"]["pid"]) == pids  # nothing restarted

    # the addresses status reports really work
    info = StackInfo(
        bootstrap_servers=status["bootstrap_servers"], schema_registry_url=status["schema_registry_url"]
    )
    admin = AdminClient({"bootstrap.servers": info.bootstrap_servers})
    admin.create_topics([NewTopic("kept-across-down", 3, 1)])["kept-across-down"].result(timeout=60)
    config = httpx.get(f"{info.schema_registry_url}/config", timeout=10).json()
    assert config["compatibilityLevel"] == "BACKWARD"

    down = corps("dev", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert "stopped: registry, kafka" in down.stdout
    code, stopped = status_json(env)
    assert code == 1
    assert stopped["running"] is False
    assert not is_running(pids[0], f"kafka@{home}")
    assert not is_running(pids[1], f"registry@{home}")

    # data is kept by `down`: the same ports come back and the topic is still there
    assert corps("dev", "up", env=env).returncode == 0
    code, back = status_json(env)
    assert back["bootstrap_servers"] == status["bootstrap_servers"]
    topics = AdminClient({"bootstrap.servers": info.bootstrap_servers}).list_topics(timeout=30).topics
    assert "kept-across-down" in topics

    purge = corps("dev", "down", "--purge", env=env)
    assert purge.returncode == 0, purge.stderr
    assert not (home / "kafka").exists()
    assert not (home / "state.json").exists()


def test_status_reports_an_external_cluster(stack: StackInfo) -> None:
    env = _env(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers, SCHEMA_REGISTRY_URL=stack.schema_registry_url)
    code, status = status_json(env)
    assert code == 0
    assert status["external"] is True
    assert status["running"] is True
    assert status["bootstrap_servers"] == stack.bootstrap_servers
    assert status["schema_registry_url"] == stack.schema_registry_url

    up = corps("dev", "up", env=env)
    assert up.returncode == 0
    assert "not needed" in up.stdout

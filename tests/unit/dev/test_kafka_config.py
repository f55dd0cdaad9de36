"""The broker's configuration and command line."""

from __future__ import annotations

import base64
from pathlib import Path

from corps.dev.kafka import kafka_command, new_cluster_id, render_server_properties


def _parse(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_single_combined_node_on_loopback() -> None:
    props = _parse(
        render_server_properties(
            host="127.0.0.1", port=19092, controller_port=19093, data_dir=Path("/d/data")
        )
    )
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == "/d/data"


def test_single_node_replication_and_no_auto_create() -> None:
    props = _parse(render_server_properties(host="127.0.0.1", port=1, controller_port=2, data_dir=Path("/d")))
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["auto.create.topics.enable"] == "false"
    assert props["num.partitions"] == "3"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_cluster_ids_look_like_kafkas() -> None:
    ids = {new_cluster_id() for _ in range(500)}
    assert len(ids) == 500
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")  # the storage tool would read it as an option
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_command_line_carries_heap_marker_and_classpath() -> None:
    argv = kafka_command(Path("/j/java"), Path("/lib"), Path("/p.properties"), heap="512m", marker="kafka@/h")
    assert argv[0] == "/j/java"
    assert "-Xmx512m" in argv
    assert "-Dcorps.dev.service=kafka@/h" in argv
    assert argv[argv.index("-cp") + 1] == "/lib/*"
    assert argv[-2:] == ["kafka.Kafka", "/p.properties"]

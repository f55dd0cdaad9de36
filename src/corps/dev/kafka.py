"""The Kafka broker: KRaft combined broker+controller, one node, on the loopback interface."""

from __future__ import annotations

import base64
import logging
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from corps.dev.errors import ServiceStartError

__all__ = [
    "format_storage",
    "is_formatted",
    "kafka_command",
    "new_cluster_id",
    "probe_kafka",
    "render_server_properties",
]

_log = logging.getLogger("corps.dev.kafka")


def new_cluster_id() -> str:
    """Return a fresh KRaft cluster id (a random UUID, URL-safe base64 without padding, like Kafka's).

    Like Kafka's own ``Uuid.randomUuid``, never one starting with ``-``: the storage tool would read it
    as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def render_server_properties(
    *,
    host: str,
    port: int,
    controller_port: int,
    data_dir: Path,
    secure_port: int | None = None,
    sasl_users: Mapping[str, str] | None = None,
) -> str:
    """Render ``server.properties`` for a single combined node.

    Replication factors and ISR minimums are 1 (there is one broker); topics are never auto-created
    (corps creates every topic with an explicit partition count); the first consumer group starts
    rebalancing at once instead of waiting 3 s.

    Secure mode (``secure_port`` and ``sasl_users`` given): a second listener, SASL_PLAINTEXT with
    PLAIN users, and the StandardAuthorizer with ``allow.everyone.if.no.acl.found=false``. There, every
    user but ``admin`` (a super user) gets only what ACLs grant. The PLAINTEXT listener stays for the
    provisioner, the controller and trusted local tools: its clients are ``User:ANONYMOUS``, a super user.
    """
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "3",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
    }
    if secure_port is not None and sasl_users:
        users = " ".join(f'user_{name}="{password}"' for name, password in sorted(sasl_users.items()))
        admin = sasl_users["admin"]
        settings.update(
            {
                "listeners": f"{settings['listeners']},SASL_PLAINTEXT://{host}:{secure_port}",
                "advertised.listeners": f"{settings['advertised.listeners']},SASL_PLAINTEXT://{host}:{secure_port}",
                "listener.security.protocol.map": f"{settings['listener.security.protocol.map']},"
                "SASL_PLAINTEXT:SASL_PLAINTEXT",
                "sasl.enabled.mechanisms": "PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f'username="admin" password="{admin}" {users};'
                ),
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found": "false",
                "super.users": "User:admin;User:ANONYMOUS",
            }
        )
    header = "# Written by `corps dev up`; regenerated on every start."
    lines = [header, *(f"{k}={v}" for k, v in settings.items())]
    return "\n".join(lines) + "\n"


def kafka_command(
    java: Path, lib: Path, properties: Path, *, heap: str, marker: str, main: str = "kafka.Kafka"
) -> list[str]:
    """Return the JVM command line running ``main`` with the broker's jars and ``properties``."""
    return [
        str(java),
        f"-Xmx{heap}",
        "-Xms128m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dcorps.dev.service={marker}",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS",
        "-cp",
        f"{lib}/*",
        main,
        str(properties),
    ]


def is_formatted(data_dir: Path) -> bool:
    """Tell whether the broker's log directory has been formatted already."""
    return (data_dir / "meta.properties").is_file()


def format_storage(
    java: Path, lib: Path, properties: Path, cluster_id: str, *, log_path: Path, timeout: float
) -> None:
    """Format the broker's storage with ``kafka.tools.StorageTool`` (no ``--standalone``: voters are static).

    Raises:
        ServiceStartError: The tool failed; the message holds its output.
    """
    argv = [
        str(java),
        "-Xmx256m",
        "-cp",
        f"{lib}/*",
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(properties),
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceStartError(f"formatting Kafka storage failed: {exc}") from exc
    output = (done.stdout + done.stderr).strip()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n==== corps: {' '.join(argv)}\n{output}\n")
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise ServiceStartError(f"formatting Kafka storage failed (exit {done.returncode}):\n{tail}")


def probe_kafka(bootstrap_servers: str, timeout: float, extra: Mapping[str, str] | None = None) -> int:
    """Do one admin round trip (describe the cluster) and return how many brokers answered.

    Args:
        bootstrap_servers: The cluster.
        timeout: Seconds for the round trip.
        extra: More client configuration (security settings of an external cluster).

    Raises:
        KafkaException: The round trip failed or timed out.
    """
    conf: dict[str, str | int | float | bool] = {**(extra or {}), "bootstrap.servers": bootstrap_servers}
    admin = AdminClient(conf, logger=_log)
    future = admin.describe_cluster(request_timeout=timeout)
    try:
        description = future.result(timeout=timeout + 1)
    except TimeoutError as exc:
        raise KafkaException(f"describe_cluster timed out after {timeout}s") from exc
    return len(description.nodes)

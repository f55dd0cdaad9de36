"""Replay tests on the real broker and registry: provision a topology, write a log the gate wrote.

The log is made by the real (pure) gate + orchestrator pipeline (:class:`LogMaker`), encoded with the
real registry's schema ids, and produced record by record to the topics it names, each on its
partition and with its timestamp, so the broker holds exactly what a running service would have
written (offsets included). Tampering is done afterwards with a plain producer, as an attacker would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from tests.unit.replay.replay_log import THREE, LogMaker, model

from corps.cli.main import cli
from corps.dev import StackInfo
from corps.events import EventCodec, EventModel, RawRecord, SchemaRegistry
from corps.events.lifecycle import EVENTS, PolicyDecision
from corps.orchestrator.topics import TopologyTopics
from corps.settings import RegistrySettings
from corps.topology import (
    Topology,
    desired_topics,
    diff_topics,
    execute_plan,
    parse_topology,
    read_cluster,
    wait_converged,
)


def topology_file(tmp_path: Path, name: str) -> tuple[Path, Topology]:
    """The three-step test topology under a unique workflow name."""
    text = THREE.replace("{name: rp, version: 2}", f"{{name: {name}, version: 2}}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path, parse_topology(text, path).topology


def provision(
    admin: AdminClient,
    registry: SchemaRegistry,
    topology: Topology,
    models: dict[str, type[EventModel]],
    extra: Iterable[tuple[str, type[EventModel]]] = (),
) -> None:
    """Create the topology's topics (plus the state changelog) and register every schema."""
    wanted = desired_topics(topology)
    execute_plan(admin, diff_topics(wanted, read_cluster(admin, wanted)))
    wait_converged(admin, wanted)
    topics = TopologyTopics.of(topology)
    from confluent_kafka.admin import NewTopic

    futures = admin.create_topics(
        [NewTopic(topics.state, topology.topics.partitions, 1, config={"cleanup.policy": "compact"})]
    )
    futures[topics.state].result(30)
    for name, event_model in [*models.items(), *extra]:
        proposed = next(t for t, e in topics.proposed.items() if e == name)
        for topic in (proposed, topics.admitted[name]):
            registry.register(
                topics.subject(topic, event_model.event_type), event_model.schema_ref().canonical
            )
    for lifecycle_model in EVENTS:
        for topic in (topics.lifecycle, topics.lifecycle_proposed):
            registry.register(
                topics.subject(topic, lifecycle_model.event_type), lifecycle_model.schema_ref().canonical
            )
    registry.register(
        topics.subject(topics.decisions, PolicyDecision.event_type), PolicyDecision.schema_ref().canonical
    )


@dataclass
class KafkaLog:
    """A provisioned topology on the stack and the log written to it."""

    stack: StackInfo
    config: dict[str, str]
    file: Path
    topology: Topology
    maker: LogMaker
    registry: SchemaRegistry

    @property
    def name(self) -> str:
        return self.topology.workflow.name

    def write(
        self, records: Iterable[RawRecord] | None = None, *, skip: Callable[[RawRecord], bool] | None = None
    ) -> int:
        """Produce records (default: the whole log) in order, pinned to their partitions and timestamps."""
        producer = Producer({**self.config, "enable.idempotence": True, "linger.ms": 5})
        count = 0
        for raw in self.maker.log if records is None else records:
            if skip is not None and skip(raw):
                continue
            producer.produce(
                raw.topic,
                raw.value,
                raw.key,
                partition=raw.partition,
                headers=list(raw.headers),
                timestamp=raw.timestamp_ms or 0,
            )
            count += 1
        assert producer.flush(30) == 0
        return count

    def plain_produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        partition: int = 0,
    ) -> None:
        """What an attacker with write access does: a plain producer, no gate, no chain."""
        producer = Producer(dict(self.config))
        producer.produce(topic, value, key, partition=partition, headers=headers)
        assert producer.flush(30) == 0

    def records(self, topic: str, wf: str) -> list[RawRecord]:
        return [r for r in self.maker.log if r.topic == topic and r.key == wf.encode()]

    def env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.stack.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": self.stack.schema_registry_url,
        }

    def replay(self, *args: str) -> Result:
        """Run ``corps replay --topology <file> ARGS`` in process."""
        return CliRunner().invoke(cli, ["replay", "--topology", str(self.file), *args], env=self.env())

    def topic(self, short: str) -> str:
        """``A`` -> ``<wf>.A``; ``decisions`` -> ``<wf>.decisions``."""
        return f"{self.name}.{short}"


def make_log(
    stack: StackInfo,
    admin: AdminClient,
    config: dict[str, str],
    tmp_path: Path,
    unique: Callable[[str], str],
    *,
    extra_models: Iterable[tuple[str, type[EventModel]]] = (),
) -> KafkaLog:
    """Provision a fresh topology and return a log maker whose codec uses the real registry."""
    path, topology = topology_file(tmp_path, unique("rp"))
    registry = SchemaRegistry(RegistrySettings(url=stack.schema_registry_url))
    models = {n: model(topology.schema_fullname(n)) for n in topology.events}
    extra = list(extra_models)
    provision(admin, registry, topology, models, extra)
    topics = TopologyTopics.of(topology)
    codec = EventCodec(registry, subject_strategy=topics.subject)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    maker = LogMaker(topology=topology, models=models, codec=codec, t0=t0)
    return KafkaLog(stack, dict(config), path, topology, maker, registry)


def new_id() -> str:
    return str(uuid.uuid4())


def lines(result: Result) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

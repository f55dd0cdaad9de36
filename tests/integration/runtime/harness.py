"""A test bed for agent runtime tests: topics, schemas, publishing, reading back, running a worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from corps.events import Envelope, EventCodec, EventModel, RawRecord, SchemaRegistry
from corps.runtime import Agent
from corps.runtime.settings import AgentSettings, Routing
from corps.runtime.worker import AgentWorker
from corps.settings import KafkaSettings, RegistrySettings

M = TypeVar("M", bound=EventModel)


@dataclass
class Bed:
    """Per-test topics and clients on the session stack."""

    kafka: KafkaSettings
    registry: RegistrySettings
    admin: AdminClient
    unique: Callable[[str], str]
    lifecycle: str = ""
    _codec: EventCodec | None = None
    _producer: Producer | None = None
    created: list[str] = field(default_factory=list)

    @property
    def config(self) -> dict[str, str]:
        return self.kafka.client_config()

    def topic(self, prefix: str, partitions: int = 3, config: dict[str, str] | None = None) -> str:
        name = self.unique(prefix)
        futures = self.admin.create_topics(
            [NewTopic(name, partitions, 1, config=config or {})], request_timeout=30
        )
        futures[name].result(timeout=60)
        self.created.append(name)
        return name

    def routing(
        self, inputs: dict[type[EventModel], str], outputs: dict[type[EventModel], str], **kw: Any
    ) -> Routing:
        """Routing for the given topics; registers every schema on its topic."""
        for model, topic in [*inputs.items(), *outputs.items()]:
            self.register(topic, model)
        return Routing(
            inputs={m.event_type: t for m, t in inputs.items()},
            outputs={m.event_type: t for m, t in outputs.items()},
            lifecycle=self.lifecycle,
            multi_type_topics=frozenset({self.lifecycle}),
            **kw,
        )

    def with_lifecycle(self, partitions: int = 3) -> str:
        from corps.events import lifecycle

        self.lifecycle = self.topic("lifecycle", partitions)
        for model in lifecycle.EVENTS:
            self.register(self.lifecycle, model, multi=True)
        return self.lifecycle

    def register(self, topic: str, model: type[EventModel], *, multi: bool = False) -> int:
        subject = f"{topic}-{model.event_type}" if multi else f"{topic}-value"
        with SchemaRegistry(self.registry) as reg:
            return reg.register(subject, model.schema_ref().canonical)

    def settings(self, routing: Routing, **kw: Any) -> AgentSettings:
        base: dict[str, Any] = {
            "kafka": self.kafka,
            "registry": self.registry,
            "routing": routing,
            "group_id": self.unique("grp"),
            "topics": {
                "retry_template": self.unique("rt") + ".{agent}.retry.{tier}",
                "dead_letter_template": self.unique("dl") + ".{agent}.dlq",
                "registry": self.unique("agents"),
            },
            "batch": {"max_wait_ms": 50},
        }
        base.update(kw)
        return AgentSettings.model_validate(base)

    def _subject(self, topic: str, event_type: str) -> str:
        return f"{topic}-{event_type}" if topic == self.lifecycle else f"{topic}-value"

    @property
    def codec(self) -> EventCodec:
        if self._codec is None:
            self._codec = EventCodec(SchemaRegistry(self.registry), subject_strategy=self._subject)
        return self._codec

    def publish(
        self,
        topic: str,
        payload: EventModel,
        *,
        workflow_id: str | None = None,
        tenant: str = "acme",
        traceparent: str | None = None,
    ) -> Envelope:
        env = Envelope.new(
            payload.event_type,
            tenant=tenant,
            workflow_id=workflow_id or uuid.uuid4().hex,
            source="test",
            traceparent=traceparent,
        )
        record = self.codec.encode(topic, payload, env)
        self.produce_raw(topic, record.key, record.value, record.headers)
        return env

    def produce_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
    ) -> None:
        if self._producer is None:
            conf = {**self.config, "enable.idempotence": True, "linger.ms": 5, "message.max.bytes": 4 << 20}
            self._producer = Producer(conf)
        while True:
            try:
                self._producer.produce(topic, value, key, headers=list(headers))  # type: ignore[arg-type]
                break
            except BufferError:
                self._producer.poll(0.05)
        self._producer.poll(0)

    def close(self) -> None:
        if self._codec is not None:
            self._codec.registry.close()
        self.flush()

    def flush(self) -> None:
        if self._producer is not None:
            assert self._producer.flush(30) == 0

    def read(
        self, topic: str, count: int, timeout_s: float = 60.0, *, settle_s: float = 0.0
    ) -> list[RawRecord]:
        """Read ``topic`` from the start (read_committed) until ``count`` records, then ``settle_s`` more."""
        consumer = Consumer(
            {
                **self.config,
                "group.id": f"reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.queue.backoff.ms": 0,
            }
        )
        try:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            records: list[RawRecord] = []
            deadline = time.monotonic() + timeout_s
            settle_until: float | None = None
            while time.monotonic() < deadline:
                if len(records) >= count:
                    settle_until = settle_until or time.monotonic() + settle_s
                    if time.monotonic() >= settle_until:
                        break
                for message in consumer.consume(1000, 0.2):
                    if message.error() is None:
                        records.append(RawRecord.from_message(message))  # type: ignore[arg-type]
            return records
        finally:
            consumer.close()

    async def aread(
        self, topic: str, count: int, timeout_s: float = 60.0, *, settle_s: float = 0.0
    ) -> list[RawRecord]:
        """:meth:`read` in a thread, so a worker on this event loop keeps running meanwhile."""
        return await asyncio.to_thread(self.read, topic, count, timeout_s, settle_s=settle_s)

    def decode(self, raw: RawRecord, model: type[M]) -> tuple[Envelope, M]:
        event = self.codec.decode(raw, model)
        return event.envelope, event.payload


@contextlib.asynccontextmanager
async def running(agent: Agent, settings: AgentSettings, **kw: Any) -> AsyncIterator[AgentWorker]:
    """Run a worker in a background task; stop it gracefully on exit (re-raising its failure)."""
    stop = asyncio.Event()
    async with AgentWorker(agent, settings, **kw) as worker:
        task = asyncio.create_task(worker.run(stop))
        try:
            yield worker
        finally:
            stop.set()
            await task


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


REPO = Path(__file__).resolve().parents[3]


class AgentProcess:
    """``corps agent run TARGET --config FILE`` in a child process (for kill -9 and SIGTERM tests)."""

    def __init__(self, target: str, settings: AgentSettings, workdir: Path, name: str = "agent") -> None:
        self.config = workdir / f"{name}.yaml"
        dumped = settings.model_dump(mode="json", exclude={"kafka", "registry"})
        self.config.write_text(yaml.safe_dump(dumped), encoding="utf-8")
        self.log_path = workdir / f"{name}.log"
        self.target = target
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": settings.registry.url,
            "PYTHONPATH": str(REPO),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        corps = str(Path(sys.executable).parent / "corps")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(corps),
                    "agent",
                    "run",
                    self.target,
                    "--config",
                    str(self.config),
                    "--log-format",
                    "text",
                ],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def terminate(self, timeout_s: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def wait_running(self, timeout_s: float = 60) -> None:
        """Block until the agent says it runs (its signal handlers are installed by then)."""
        deadline = time.monotonic() + timeout_s
        while "running as replica" not in self.log():
            assert self.alive(), self.log()
            assert time.monotonic() < deadline, f"agent not running after {timeout_s} s:\n{self.log()}"
            time.sleep(0.1)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> AgentProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(30)


def committed(config: dict[str, str], group_id: str, topic: str) -> int:
    """Sum of the group's committed offsets on ``topic`` (the records it has finished).

    Read without ``require_stable``: a killed replica's pending transactional commit does not block it.
    """
    admin = AdminClient(dict(config))
    request = [ConsumerGroupTopicPartitions(group_id)]
    result = admin.list_consumer_group_offsets(request, require_stable=False, request_timeout=10)
    found = result[group_id].result(timeout=30)
    return sum(max(tp.offset, 0) for tp in found.topic_partitions if tp.topic == topic)

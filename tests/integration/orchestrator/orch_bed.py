"""A test bed for the orchestrator on the real broker and registry.

* :func:`provision` applies a four-step topology (unique workflow name) and registers its schemas;
* :class:`StandIn` is the tests' stand-in for agents: a scripted consumer/producer that reacts to
  admitted events the way the topology says (emit the step's output, or StepFailed, or stay silent)
  and answers CompensationRequested (completed or failed). It talks to Kafka only: no fake of Kafka;
* :class:`ServiceThread` runs the orchestrator service in-process; fault tests run the real CLI;
* :class:`Tail` reads a topic read_committed and keeps every record, for counting from the log.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from corps.events import Envelope, EventCodec, EventModel, RawRecord, SchemaRegistry
from corps.events.lifecycle import (
    EVENTS,
    CompensationCompleted,
    CompensationFailed,
    CompensationRequested,
    PolicyDecision,
    StepFailed,
)
from corps.events.model import models_by_type
from corps.orchestrator.service import OrchestratorService
from corps.orchestrator.settings import OrchestratorSettings
from corps.orchestrator.topics import TopologyTopics
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology import (
    Topology,
    TopologyGraph,
    desired_topics,
    diff_topics,
    execute_plan,
    load_topology,
    read_cluster,
    wait_converged,
)

LIFECYCLE = models_by_type(EVENTS)
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:tests:stand-in")

FOUR = """
workflow: {{name: {name}, version: 1}}
namespace: test.four
topics: {{partitions: 3}}
defaults:
  timeout: {timeout}
  retry: {{max_attempts: 1}}
  compensation_timeout: {comp_timeout}
  compensation_attempts: 2
  compensation_backoff: {{initial: 200ms, multiplier: 2, max: 1s}}
agents: {{a1: {{}}, a2: {{}}, a3: {{}}, a4: {{}}}}
events: {{A: {{}}, B: {{}}, C: {{}}, D: {{}}, E: {{}}, UB: {{}}, UC: {{}}, UD: {{}}, UE: {{}}}}
start: [A]
complete: [E]
steps:
  s1: {{agent: a1, on: A, emits: [B], compensation: UB}}
  s2: {{agent: a2, on: B, emits: [C], compensation: UC}}
  s3: {{agent: a3, on: C, emits: [D], compensation: UD}}
  s4: {{agent: a4, on: D, emits: [E], compensation: UE}}
"""


def model(fullname: str) -> type[EventModel]:
    """A one-field event model (``n: string``) for ``namespace.Name``."""
    namespace, _, name = fullname.rpartition(".")
    schema = {
        "type": "record",
        "name": name,
        "namespace": namespace,
        "fields": [{"name": "n", "type": "string", "default": ""}],
    }
    attrs: dict[str, Any] = {
        "__annotations__": {"n": str},
        "n": "",
        "event_type": fullname,
        "schema_version": 1,
        "avro_schema": schema,
        "__module__": __name__,
    }
    return type(name, (EventModel,), attrs)


def write_topology(tmp_path: Path, name: str, *, timeout: str = "60s", comp_timeout: str = "30s") -> Path:
    file = tmp_path / f"{name}.yaml"
    file.write_text(FOUR.format(name=name, timeout=timeout, comp_timeout=comp_timeout), encoding="utf-8")
    return file


def provision(
    admin: AdminClient, registry: RegistrySettings, topology: Topology
) -> dict[str, type[EventModel]]:
    """Create the topology's topics and register every schema on its subjects; return the event models."""
    wanted = desired_topics(topology)
    execute_plan(admin, diff_topics(wanted, read_cluster(admin, wanted)))
    wait_converged(admin, wanted)
    topics = TopologyTopics.of(topology)
    models = {name: model(topology.schema_fullname(name)) for name in topology.events}
    with SchemaRegistry(registry) as client:
        for name, event_model in models.items():
            proposed = next(t for t, e in topics.proposed.items() if e == name)
            for topic in (proposed, topics.admitted[name]):
                client.register(
                    topics.subject(topic, event_model.event_type), event_model.schema_ref().canonical
                )
        for lifecycle_model in EVENTS:
            for topic in (topics.lifecycle, topics.lifecycle_proposed):
                client.register(
                    topics.subject(topic, lifecycle_model.event_type), lifecycle_model.schema_ref().canonical
                )
        client.register(
            topics.subject(topics.decisions, PolicyDecision.event_type), PolicyDecision.schema_ref().canonical
        )
    return models


@dataclass
class Bed:
    """One provisioned topology on the session stack."""

    kafka: KafkaSettings
    registry: RegistrySettings
    file: Path
    topology: Topology
    models: dict[str, type[EventModel]]
    unique: Callable[[str], str]
    _producer: Producer | None = None
    _codec: EventCodec | None = None

    @classmethod
    def make(
        cls,
        admin: AdminClient,
        kafka: KafkaSettings,
        registry: RegistrySettings,
        file: Path,
        unique: Callable[[str], str],
    ) -> Bed:
        topology = load_topology(file).topology
        return cls(kafka, registry, file, topology, provision(admin, registry, topology), unique)

    @property
    def topics(self) -> TopologyTopics:
        return TopologyTopics.of(self.topology)

    @property
    def config(self) -> dict[str, str]:
        return self.kafka.client_config()

    @property
    def codec(self) -> EventCodec:
        if self._codec is None:
            self._codec = EventCodec(SchemaRegistry(self.registry), subject_strategy=self.topics.subject)
        return self._codec

    def settings(self, **overrides: Any) -> OrchestratorSettings:
        values: dict[str, Any] = {
            "kafka": self.kafka,
            "registry": self.registry,
            "instance_id": self.unique("i"),
            "max_wait_ms": 20,
        }
        return OrchestratorSettings.model_validate(values | overrides)

    def start(self, workflow_id: str, *, tenant: str = "acme") -> str:
        """Propose the start event A of a workflow; return its ce_id."""
        event_id = str(uuid.uuid5(_IDS, f"{workflow_id}/start"))
        payload = self.models["A"](n=workflow_id)  # type: ignore[call-arg]
        envelope = Envelope.new(
            payload.event_type, tenant=tenant, workflow_id=workflow_id, event_id=event_id, source="test"
        )
        topic = next(t for t, e in self.topics.proposed.items() if e == "A")
        self.send(self.codec.encode(topic, payload, envelope))
        return event_id

    def send(self, record: Any) -> None:
        if self._producer is None:
            self._producer = Producer({**self.config, "enable.idempotence": True, "linger.ms": 5})
        self._producer.produce(record.topic, record.value, record.key, headers=cast(Any, record.headers))
        self._producer.poll(0)

    def flush(self) -> None:
        if self._producer is not None:
            assert self._producer.flush(30) == 0

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(10)
            self._producer = None
        if self._codec is not None:
            self._codec.registry.close()
            self._codec = None

    def decode_lifecycle(self, raw: RawRecord) -> tuple[Envelope, EventModel]:
        event = self.codec.decode_any(raw, LIFECYCLE)
        return event.envelope, event.payload


@dataclass
class Script:
    """How the stand-in agents behave, per workflow.

    Attributes:
        fail_at: Workflow -> the step that answers with StepFailed.
        silent_at: Workflow -> the step that never answers (the orchestrator's deadline fires).
        failing_compensations: Workflows whose compensations always fail.
    """

    fail_at: dict[str, str] = field(default_factory=dict)
    silent_at: dict[str, str] = field(default_factory=dict)
    failing_compensations: set[str] = field(default_factory=set)


class StandIn:
    """Scripted agents: one consumer of the admitted topics, one idempotent producer of proposed ones."""

    def __init__(self, bed: Bed, script: Script) -> None:
        self.bed = bed
        self.script = script
        self.graph = TopologyGraph.of(bed.topology)
        topics = bed.topics
        self._names = {topic: name for name, topic in topics.admitted.items()}
        self._inputs = [*topics.admitted.values(), topics.lifecycle]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="stand-in", daemon=True)
        self.error: BaseException | None = None
        self.answered = 0

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        try:
            self._loop()
        except BaseException as exc:
            self.error = exc

    def _loop(self) -> None:
        consumer = Consumer(
            {
                **self.bed.config,
                "group.id": self.bed.unique("stand-in"),
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.auto.commit": True,
                "fetch.queue.backoff.ms": 0,
            }
        )
        producer = Producer({**self.bed.config, "enable.idempotence": True, "linger.ms": 2})
        consumer.subscribe(self._inputs)
        try:
            while not self._stop.is_set():
                for message in consumer.consume(500, 0.05):
                    if message.error() is None:
                        self._react(RawRecord.from_message(cast(Any, message)), producer)
                producer.poll(0)
        finally:
            producer.flush(30)
            consumer.close()

    def _react(self, raw: RawRecord, producer: Producer) -> None:
        codec = self.bed.codec
        topics = self.bed.topics
        envelope, data = codec.decode_datum(raw)
        wf = envelope.workflow_id
        outputs: list[tuple[str, EventModel, str, str]] = []
        if raw.topic == topics.lifecycle:
            if envelope.type != CompensationRequested.event_type:
                return
            asked, agent = str(data["step"]), str(data["agent"])
            answer: EventModel
            if wf in self.script.failing_compensations:
                answer = CompensationFailed(
                    step=asked, agent=agent, code="DEPENDENCY_UNAVAILABLE", attempts=1, last_error="bank down"
                )
            else:
                answer = CompensationCompleted(step=asked, agent=agent)
            outputs.append((topics.lifecycle_proposed, answer, asked, f"{envelope.id}/answer"))
        else:
            for step_name in self.graph.consumers.get(self._names[raw.topic], ()):
                step = self.bed.topology.steps[step_name]
                if self.script.silent_at.get(wf) == step_name:
                    continue
                if self.script.fail_at.get(wf) == step_name:
                    failed = StepFailed(
                        step=step_name,
                        agent=step.agent,
                        code="NON_RETRYABLE",
                        attempts=1,
                        last_error="scripted failure",
                        retryable=False,
                    )
                    outputs.append(
                        (topics.lifecycle_proposed, failed, step_name, f"{envelope.id}/{step_name}/failed")
                    )
                    continue
                name = step.emits[0]
                out_topic = next(t for t, e in topics.proposed.items() if e == name)
                payload = self.bed.models[name](n=f"{wf}:{name}")  # type: ignore[call-arg]
                outputs.append((out_topic, payload, step_name, f"{envelope.id}/{step_name}"))
        for topic, payload, step_name, id_seed in outputs:
            out_env = Envelope.new(
                payload.event_type,
                tenant=envelope.tenant,
                workflow_id=wf,
                source="stand-in",
                causation_id=envelope.id,
                step=step_name,
                event_id=str(uuid.uuid5(_IDS, id_seed)),
                time=datetime.now(UTC),
            )
            record = codec.encode(topic, payload, out_env)
            while True:
                try:
                    producer.produce(
                        record.topic, record.value, record.key, headers=cast(Any, record.headers)
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            self.answered += 1


class ServiceThread:
    """The orchestrator service in a thread of the test process (its own event loop)."""

    def __init__(self, bed: Bed, settings: OrchestratorSettings, **kwargs: Any) -> None:
        self.bed = bed
        self.settings = settings
        self.kwargs = kwargs
        self.service: OrchestratorService | None = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="orchestrator", daemon=True)
        self._started = threading.Event()

    def __enter__(self) -> OrchestratorService:
        self._thread.start()
        assert self._started.wait(60), "service did not start"
        if self.error is not None:
            raise self.error
        assert self.service is not None
        assert self.service.ready.wait(60), "no partitions assigned within 60 s"
        return self.service

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self.error = exc
        finally:
            self._started.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with OrchestratorService(self.bed.topology, self.settings, **self.kwargs) as service:
            self.service = service
            self._started.set()
            await service.run(self._stop)


class Tail:
    """Reads every partition of a topic from the beginning (read_committed) and keeps the records."""

    def __init__(self, bed: Bed, topic: str) -> None:
        self.bed = bed
        self.topic = topic
        self.records: list[RawRecord] = []
        self._consumer = Consumer(
            {
                **bed.config,
                "group.id": bed.unique("tail"),
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.queue.backoff.ms": 0,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])

    def poll(self, seconds: float = 0.2) -> list[RawRecord]:
        new = [
            RawRecord.from_message(cast(Any, m))
            for m in self._consumer.consume(10_000, seconds)
            if m.error() is None
        ]
        self.records.extend(new)
        return new

    def until(self, done: Callable[[list[RawRecord]], bool], timeout_s: float = 90.0) -> list[RawRecord]:
        deadline = time.monotonic() + timeout_s
        while not done(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.topic}: condition not met within {timeout_s} s ({len(self.records)} records)"
                )
            self.poll()
        return self.records

    def close(self) -> None:
        self._consumer.close()


def header(raw: RawRecord, name: str) -> str:
    value = raw.header(name)
    return value.decode() if value is not None else ""

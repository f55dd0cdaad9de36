"""Logs for replay unit tests, written by the real gate + orchestrator (the pure Pipeline), no broker.

:class:`LogMaker` proposes events, lets the :class:`~corps.orchestrator.pipeline.Pipeline` decide and
orchestrate them at a chosen time, and keeps every record (proposed and written) with offsets per
topic and partition, as Kafka would. ``records()`` decodes them the way ``corps replay`` does.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from corps.events import Envelope, EventCodec, EventModel, RawRecord, SchemaRegistry
from corps.events.lifecycle import EVENTS, CompensationCompleted, CompensationFailed, StepFailed
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.replay.decode import RecordDecoder
from corps.replay.records import LogRecord
from corps.replay.topics import ReplayTopics
from corps.settings import RegistrySettings
from corps.topology import Topology, parse_topology

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

THREE = """
workflow: {name: rp, version: 2}
namespace: test.rp
topics: {partitions: 2}
defaults:
  timeout: 10s
  retry: {max_attempts: 1}
  compensation_timeout: 5s
  compensation_attempts: 2
  compensation_backoff: {initial: 1s, multiplier: 2, max: 10s}
agents: {a1: {}, a2: {}, a3: {}}
events: {A: {}, B: {}, C: {}, D: {}, UB: {}, UC: {}}
start: [A]
complete: [D]
steps:
  s1: {agent: a1, on: A, emits: [B], compensation: UB}
  s2: {agent: a2, on: B, emits: [C], compensation: UC}
  s3: {agent: a3, on: C, emits: [D], irreversible: true}
"""


def topology_of(text: str = THREE) -> Topology:
    return parse_topology(text, Path("rp.yaml")).topology


def model(fullname: str, fields: dict[str, Any] | None = None) -> type[EventModel]:
    """An event model with a string field ``n`` (and ``extra`` fields with defaults)."""
    namespace, _, name = fullname.rpartition(".")
    avro_fields: list[dict[str, Any]] = [{"name": "n", "type": "string", "default": ""}]
    annotations: dict[str, Any] = {"n": str}
    attrs: dict[str, Any] = {"n": ""}
    for extra, default in (fields or {}).items():
        avro_fields.append({"name": extra, "type": "string", "default": default})
        annotations[extra] = str
        attrs[extra] = default
    schema = {"type": "record", "name": name, "namespace": namespace, "fields": avro_fields}
    attrs.update(
        {
            "__annotations__": annotations,
            "event_type": fullname,
            "schema_version": 1 if not fields else 2,
            "avro_schema": schema,
            "__module__": __name__,
        }
    )
    return type(name, (EventModel,), attrs)


def _id(raw: RawRecord) -> str:
    return (raw.header("ce_id") or b"").decode()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class LogMaker:
    """A topology's log built by the real gate and orchestrator."""

    topology: Topology = field(default_factory=topology_of)
    models: dict[str, type[EventModel]] = field(default_factory=dict)
    log: list[RawRecord] = field(default_factory=list)
    codec: EventCodec | None = None
    """The codec (default: an offline one whose caches hold every schema; no registry call)."""
    t0: datetime = T0

    def __post_init__(self) -> None:
        self.topics = TopologyTopics.of(self.topology)
        self.replay_topics = ReplayTopics.of(self.topology)
        if not self.models:
            self.models = {n: model(self.topology.schema_fullname(n)) for n in self.topology.events}
        if self.codec is None:
            self.codec = self._codec()
        self.pipeline = Pipeline(self.topology, self.codec)
        self._offsets: dict[tuple[str, int], itertools.count[int]] = defaultdict(itertools.count)

    def _codec(self) -> EventCodec:
        registry = SchemaRegistry(RegistrySettings(url="http://registry.invalid:1"))
        codec = EventCodec(registry, subject_strategy=self.topics.subject)
        ids = itertools.count(1)
        for name, event_model in self.models.items():
            schema_id = next(ids)
            proposed = next(t for t, e in self.topics.proposed.items() if e == name)
            for topic in (proposed, self.topics.admitted[name]):
                codec.cache_schema(schema_id, event_model.schema_ref(), topic=topic)
        for lifecycle_model in EVENTS:
            schema_id = next(ids)
            for topic in (self.topics.lifecycle, self.topics.lifecycle_proposed, self.topics.decisions):
                codec.cache_schema(schema_id, lifecycle_model.schema_ref(), topic=topic)
        return codec

    def at(self, seconds: float) -> datetime:
        """The moment ``seconds`` after this log's start."""
        return self.t0 + timedelta(seconds=seconds)

    def cache(self, schema_id: int, event_model: type[EventModel], name: str) -> None:
        """Make another schema (e.g. a v2) known to the codec under ``schema_id``."""
        proposed = next(t for t, e in self.topics.proposed.items() if e == name)
        assert self.codec is not None
        self.codec.cache_schema(schema_id, event_model.schema_ref(), topic=proposed)

    # -- writing ------------------------------------------------------------------------------------

    def _append(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None, headers: Any, ts: datetime
    ) -> RawRecord:
        offset = next(self._offsets[(topic, partition)])
        raw = RawRecord(topic, partition, offset, key, value, list(headers), int(ts.timestamp() * 1000))
        self.log.append(raw)
        return raw

    def write(self, out: OutRecord, ts: datetime) -> RawRecord:
        """Append a record the way Kafka would (next offset of its partition)."""
        return self._append(out.topic, out.partition, out.key, out.value, out.headers, ts)

    def _handle(self, raw: RawRecord, now: datetime) -> None:
        self.pipeline.handle(raw, now)
        self._commit(now)

    def _commit(self, now: datetime) -> None:
        """Write the batch's outputs and changelog records, as the service's transaction does."""
        self.pipeline.tick(now)
        for out in [*self.pipeline.outputs, *self.pipeline.changelog()]:
            self.write(out, now)
        self.pipeline.commit()

    def propose(
        self,
        name: str,
        workflow_id: str,
        seconds: float,
        *,
        step: str | None = None,
        event_id: str | None = None,
        tenant: str = "acme",
        source: str = "test",
        causation_id: str | None = None,
        partition: int = 0,
        payload: EventModel | None = None,
        process_at: float | None = None,
    ) -> RawRecord:
        """Propose a domain event at ``seconds`` and let the gate and orchestrator handle it then."""
        event = payload or self.models[name](n=f"{workflow_id}:{name}")  # type: ignore[call-arg]
        envelope = Envelope.new(
            event.event_type,
            tenant=tenant,
            workflow_id=workflow_id,
            time=self.at(seconds),
            event_id=event_id,
            step=step,
            source=source,
            causation_id=causation_id,
        )
        topic = next(t for t, e in self.topics.proposed.items() if e == name)
        record = self.codec.encode(topic, event, envelope)
        now = self.at(process_at if process_at is not None else seconds)
        raw = self._append(record.topic, partition, record.key, record.value, record.headers, now)
        self._handle(raw, now)
        return raw

    def report(
        self,
        payload: EventModel,
        workflow_id: str,
        seconds: float,
        *,
        causation_id: str | None = None,
        source: str = "test",
        tenant: str = "acme",
        partition: int = 0,
    ) -> RawRecord:
        """Propose a lifecycle report (StepFailed, Compensation*) at ``seconds``."""
        envelope = Envelope.new(
            payload.event_type,
            tenant=tenant,
            workflow_id=workflow_id,
            time=self.at(seconds),
            causation_id=causation_id,
            source=source,
        )
        record = self.codec.encode(self.topics.lifecycle_proposed, payload, envelope)
        raw = self._append(
            record.topic, partition, record.key, record.value, record.headers, self.at(seconds)
        )
        self._handle(raw, self.at(seconds))
        return raw

    def tick(self, seconds: float) -> None:
        """The service's clock reaches ``seconds`` with no record in the batch."""
        self._commit(self.at(seconds))

    # -- scenarios ----------------------------------------------------------------------------------

    def happy(self, wf: str, start: float = 0.0, *, tenant: str = "acme", partition: int = 0) -> None:
        """A → B → C → D: completed (each output names its trigger as its cause)."""
        cause = self.propose("A", wf, start, tenant=tenant, partition=partition, source="client")
        for name, delay, step, agent in (("B", 1, "s1", "a1"), ("C", 2.5, "s2", "a2"), ("D", 3, "s3", "a3")):
            cause = self.propose(
                name,
                wf,
                start + delay,
                step=step,
                tenant=tenant,
                partition=partition,
                source=agent,
                causation_id=_id(cause),
            )

    def compensated(self, wf: str, start: float = 0.0, *, partition: int = 0) -> None:
        """s3 fails after s1, s2: s2 then s1 are compensated."""
        self.propose("A", wf, start, partition=partition, source="client")
        self.propose("B", wf, start + 1, step="s1", partition=partition, source="a1")
        self.propose("C", wf, start + 2, step="s2", partition=partition, source="a2")
        failed = StepFailed(
            step="s3", agent="a3", code="NON_RETRYABLE", attempts=2, last_error="boom", retryable=False
        )
        self.report(failed, wf, start + 3, partition=partition, source="a3")
        for seconds, step, agent in ((start + 4, "s2", "a2"), (start + 5, "s1", "a1")):
            request = self.last(wf, "CompensationRequested")
            self.propose(
                "UC" if step == "s2" else "UB",
                wf,
                seconds - 0.5,
                step=step,
                partition=partition,
                source=agent,
                causation_id=request.header("ce_id").decode(),
            )  # type: ignore[union-attr]
            done = CompensationCompleted(step=step, agent=agent)
            self.report(
                done,
                wf,
                seconds,
                causation_id=request.header("ce_id").decode(),  # type: ignore[union-attr]
                partition=partition,
                source=agent,
            )

    def timed_out(self, wf: str, start: float = 0.0, *, partition: int = 0) -> None:
        """s2 never answers: its deadline fires; s1's compensation times out once, then succeeds."""
        self.propose("A", wf, start, partition=partition, source="client")
        self.propose("B", wf, start + 1, step="s1", partition=partition, source="a1")
        self.tick(
            start + 12.5
        )  # s2's deadline (B's time + 10 s) passed: StepFailed TIMEOUT + compensation of s1
        self.tick(start + 18)  # the compensation's 5 s passed: attempt 1 failed silently, retry in 1 s
        self.tick(start + 19.5)  # retry: CompensationRequested attempt 2
        request = self.last(wf, "CompensationRequested")
        done = CompensationCompleted(step="s1", agent="a1")
        self.report(
            done,
            wf,
            start + 20,
            causation_id=request.header("ce_id").decode(),  # type: ignore[union-attr]
            partition=partition,
            source="a1",
        )

    def failed(self, wf: str, start: float = 0.0, *, partition: int = 0) -> None:
        """s2 fails; s1's compensation fails twice: WorkflowFailed."""
        self.propose("A", wf, start, partition=partition, source="client")
        self.propose("B", wf, start + 1, step="s1", partition=partition, source="a1")
        failed = StepFailed(
            step="s2", agent="a2", code="NON_RETRYABLE", attempts=1, last_error="no", retryable=False
        )
        self.report(failed, wf, start + 2, partition=partition, source="a2")
        request = self.last(wf, "CompensationRequested")
        nope = CompensationFailed(
            step="s1", agent="a1", code="DEPENDENCY_UNAVAILABLE", attempts=3, last_error="bank down"
        )
        self.report(
            nope,
            wf,
            start + 3,
            causation_id=request.header("ce_id").decode(),  # type: ignore[union-attr]
            partition=partition,
            source="a1",
        )
        self.tick(start + 4.5)  # backoff 1 s passed: attempt 2
        request = self.last(wf, "CompensationRequested")
        self.report(
            nope,
            wf,
            start + 5,
            causation_id=request.header("ce_id").decode(),  # type: ignore[union-attr]
            partition=partition,
            source="a1",
        )

    # -- reading ------------------------------------------------------------------------------------

    def last(self, wf: str, short_type: str) -> RawRecord:
        found = [
            r
            for r in self.log
            if r.key == wf.encode()
            and (r.header("ce_type") or b"").endswith(f".{short_type}".encode())
            and r.topic == self.topics.lifecycle
        ]
        return found[-1]

    def records(self, log: list[RawRecord] | None = None) -> list[LogRecord]:
        decoder = RecordDecoder(self.codec)
        return [
            decoder.decode(r.topic, r.partition, r.offset, r.timestamp_ms, r.key, r.value, r.headers)
            for r in (self.log if log is None else log)
        ]

    def by_workflow(self, log: list[RawRecord] | None = None) -> dict[str, list[LogRecord]]:
        grouped: dict[str, list[LogRecord]] = defaultdict(list)
        for record in self.records(log):
            grouped[record.workflow].append(record)
        return dict(grouped)

"""A four-step topology, event models for it, and an offline codec (schema caches warmed, no registry)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from corps.events import Envelope, EventCodec, EventModel, RawRecord, SchemaRegistry
from corps.events.lifecycle import EVENTS
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.settings import RegistrySettings
from corps.topology import Topology, parse_topology

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

FOUR = """
workflow: {name: four, version: 3}
namespace: test.four
topics: {partitions: 3}
defaults:
  timeout: 10s
  retry: {max_attempts: 1}
  compensation_timeout: 5s
  compensation_attempts: 2
  compensation_backoff: {initial: 1s, multiplier: 2, max: 10s}
agents: {a1: {}, a2: {}, a3: {}, a4: {}}
events: {A: {}, B: {}, C: {}, D: {}, E: {}, UB: {}, UC: {}, UD: {}, UE: {}}
start: [A]
complete: [E]
steps:
  s1: {agent: a1, on: A, emits: [B], compensation: UB}
  s2: {agent: a2, on: B, emits: [C], compensation: UC}
  s3: {agent: a3, on: C, emits: [D], compensation: UD}
  s4: {agent: a4, on: D, emits: [E], compensation: UE}
"""


def topology_of(text: str = FOUR) -> Topology:
    return parse_topology(text, Path("four.yaml")).topology


def model(fullname: str) -> type[EventModel]:
    """A one-field event model (``n: string``) for ``namespace.Name``."""
    namespace, _, name = fullname.rpartition(".")
    schema = {
        "type": "record",
        "name": name,
        "namespace": namespace,
        "fields": [{"name": "n", "type": "string", "default": ""}],
    }
    namespace_dict: dict[str, Any] = {
        "__annotations__": {"n": str},
        "n": "",
        "event_type": fullname,
        "schema_version": 1,
        "avro_schema": schema,
        "__module__": __name__,
    }
    return type(name, (EventModel,), namespace_dict)


def models_for(topology: Topology) -> dict[str, type[EventModel]]:
    return {name: model(topology.schema_fullname(name)) for name in topology.events}


def offline_codec(topology: Topology, models: dict[str, type[EventModel]]) -> EventCodec:
    """A codec whose every (topic, schema) is cached: it never calls the (unreachable) registry."""
    topics = TopologyTopics.of(topology)
    registry = SchemaRegistry(RegistrySettings(url="http://registry.invalid:1"))
    codec = EventCodec(registry, subject_strategy=topics.subject)
    ids = itertools.count(1)
    for name, event_model in models.items():
        schema_id = next(ids)
        proposed = next(t for t, e in topics.proposed.items() if e == name)
        for topic in (proposed, topics.admitted[name]):
            codec.cache_schema(schema_id, event_model.schema_ref(), topic=topic)
    for lifecycle_model in EVENTS:
        schema_id = next(ids)
        for topic in (topics.lifecycle, topics.lifecycle_proposed, topics.decisions):
            codec.cache_schema(schema_id, lifecycle_model.schema_ref(), topic=topic)
    return codec


class Proposer:
    """Makes proposed records the way agents and clients would write them."""

    def __init__(self, topology: Topology, codec: EventCodec, models: dict[str, type[EventModel]]) -> None:
        self.topics = TopologyTopics.of(topology)
        self.codec = codec
        self.models = models
        self.offsets = itertools.count()

    def domain(
        self,
        name: str,
        workflow_id: str,
        seconds: float,
        *,
        event_id: str | None = None,
        step: str | None = None,
        partition: int = 1,
        n: str = "",
    ) -> RawRecord:
        payload = self.models[name](n=n)  # type: ignore[call-arg]
        envelope = Envelope.new(
            payload.event_type,
            tenant="acme",
            workflow_id=workflow_id,
            time=T0 + timedelta(seconds=seconds),
            event_id=event_id,
            step=step,
            source="test",
        )
        topic = next(t for t, e in self.topics.proposed.items() if e == name)
        return self._raw(self.codec.encode(topic, payload, envelope), partition)

    def report(
        self,
        payload: EventModel,
        workflow_id: str,
        seconds: float,
        *,
        causation_id: str | None = None,
        event_id: str | None = None,
        partition: int = 1,
    ) -> RawRecord:
        envelope = Envelope.new(
            payload.event_type,
            tenant="acme",
            workflow_id=workflow_id,
            time=T0 + timedelta(seconds=seconds),
            causation_id=causation_id,
            event_id=event_id,
            source="test",
        )
        return self._raw(self.codec.encode(self.topics.lifecycle_proposed, payload, envelope), partition)

    def _raw(self, record: Any, partition: int) -> RawRecord:
        return RawRecord(
            record.topic, partition, next(self.offsets), record.key, record.value, list(record.headers)
        )


def as_raw(out: OutRecord, offset: int = 0) -> RawRecord:
    return RawRecord(out.topic, out.partition, offset, out.key, out.value, list(out.headers))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)

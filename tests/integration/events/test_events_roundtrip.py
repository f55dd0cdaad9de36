"""Every schema, every version, through the real registry and broker: encode, produce, consume, decode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.integration.events.kafka_helpers import read_topic
from tests.unit.events.samples import sample_datum, sample_event

from corps.events import (
    Envelope,
    EventCodec,
    EventModel,
    EventProducer,
    SchemaCatalog,
    SchemaRegistry,
    lifecycle,
    register_subject,
)
from corps.events import demo as demo_models
from corps.settings import KafkaSettings, RegistrySettings

pytestmark = pytest.mark.integration

CATALOG = SchemaCatalog.load(Path(__file__).resolve().parents[3] / "schemas")
MODELS = {m.event_type: m for m in (*lifecycle.EVENTS, *demo_models.EVENTS)}


@pytest.fixture
def registry(registry_url: str) -> Iterator[SchemaRegistry]:
    with SchemaRegistry(RegistrySettings(url=registry_url)) as registry:
        yield registry


@pytest.fixture
def producer(kafka_config: dict[str, str]) -> EventProducer:
    return EventProducer(KafkaSettings(bootstrap_servers=kafka_config["bootstrap.servers"]))


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_every_schema_version_round_trips(
    event_type: str,
    registry: SchemaRegistry,
    producer: EventProducer,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
) -> None:
    subject = CATALOG[event_type]
    topic = create_topic("rt", partitions=2)
    registered = register_subject(registry, f"{topic}-value", subject)
    assert [r.version for r in registered] == [v.version for v in subject.versions]
    assert all(r.created for r in registered)

    writer = EventCodec(registry)
    sent: list[tuple[Envelope, dict[str, object]]] = []
    for ref in subject.versions:
        for seed in range(3):
            datum = sample_datum(dict(ref.schema), seed)
            envelope = Envelope.new(event_type, tenant="acme", source="corps://test")
            producer.send(writer.encode_datum(topic, ref, datum, envelope))
            sent.append((envelope, datum))
    assert producer.flush(30) == 0

    reader = EventCodec(registry)  # a fresh codec: every writer schema comes from the registry
    records = read_topic(kafka_config, topic, len(sent))
    assert len(records) == len(sent)
    by_id = {env.id: (env, datum) for env, datum in sent}
    for record in records:
        decoded_envelope, datum = reader.decode_datum(record)
        envelope, original = by_id[decoded_envelope.id]
        assert decoded_envelope == envelope
        assert datum == original
        assert record.key == envelope.workflow_id.encode()
        assert record.header("content-type") == b"application/avro"
        typed = reader.decode(record, MODELS[event_type])
        assert typed.envelope == envelope
    calls = reader.registry_calls
    for record in records * 3:
        reader.decode(record, MODELS[event_type])
    assert reader.registry_calls == calls  # cached: no registry call per message


@pytest.mark.parametrize(
    "model", sorted(MODELS.values(), key=lambda m: m.event_type), ids=lambda m: m.event_type
)
def test_typed_models_round_trip(
    model: type[EventModel],
    registry: SchemaRegistry,
    producer: EventProducer,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
) -> None:
    topic = create_topic("typed", partitions=1)
    register_subject(registry, f"{topic}-value", CATALOG[model.event_type])
    codec = EventCodec(registry)
    payload = sample_event(model, seed=7)
    envelope = Envelope.new(model.event_type, tenant="acme", workflow_id="wf-typed", causation_id="evt-0")
    producer.send(codec.encode(topic, payload, envelope))
    assert producer.flush(30) == 0
    [record] = read_topic(kafka_config, topic, 1)
    event = EventCodec(registry).decode(record, model)
    assert event.payload == payload
    assert event.envelope == envelope
    assert (event.raw.topic, event.raw.partition, event.raw.key) == (topic, 0, b"wf-typed")

"""Schema evolution on the wire: the v1/v2 reader/writer matrix, unknown ids, and the registry's own rules."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from tests.integration.events.kafka_helpers import read_topic
from tests.unit.events.samples import sample_datum, sample_event

from corps.events import (
    Envelope,
    EventCodec,
    EventProducer,
    SchemaCatalog,
    SchemaRegistry,
    register_subject,
    topic_record_name_strategy,
)
from corps.events.demo import TicketOpened, TicketTriaged
from corps.events.errors import (
    IncompatibleSchemaError,
    SchemaNotRegisteredError,
    SchemaRejectedError,
    UnknownSchemaIdError,
)
from corps.settings import KafkaSettings, RegistrySettings

pytestmark = pytest.mark.integration

CATALOG = SchemaCatalog.load(Path(__file__).resolve().parents[3] / "schemas")


@pytest.fixture
def registry(registry_url: str) -> Iterator[SchemaRegistry]:
    with SchemaRegistry(RegistrySettings(url=registry_url)) as registry:
        yield registry


@pytest.fixture
def producer(kafka_config: dict[str, str]) -> EventProducer:
    return EventProducer(KafkaSettings(bootstrap_servers=kafka_config["bootstrap.servers"]))


# (event type, writer version, reader version) -> readable?
MATRIX = [
    ("demo.support.TicketTriaged", 1, 1, True),
    ("demo.support.TicketTriaged", 1, 2, True),  # v2 reader fills confidence=1.0, summary=None
    ("demo.support.TicketTriaged", 2, 1, True),  # v1 reader skips the new fields
    ("demo.support.TicketTriaged", 2, 2, True),
    ("demo.support.RefundIssued", 1, 1, True),
    ("demo.support.RefundIssued", 1, 2, True),  # int promoted to long, reason defaults to null
    ("demo.support.RefundIssued", 2, 1, False),  # long cannot be read as int: BACKWARD only
    ("demo.support.RefundIssued", 2, 2, True),
]


@pytest.mark.parametrize("event_type", ["demo.support.TicketTriaged", "demo.support.RefundIssued"])
def test_reader_writer_matrix(
    event_type: str,
    registry: SchemaRegistry,
    producer: EventProducer,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
) -> None:
    subject = CATALOG[event_type]
    topic = create_topic("evo", partitions=1)
    register_subject(registry, f"{topic}-value", subject)
    writer = EventCodec(registry)
    written: dict[int, dict[str, object]] = {}
    for ref in subject.versions:
        written[ref.version] = sample_datum(dict(ref.schema), seed=ref.version)
        envelope = Envelope.new(event_type, tenant="acme", extensions={"writer": f"v{ref.version}"})
        producer.send(writer.encode_datum(topic, ref, written[ref.version], envelope))
    assert producer.flush(30) == 0
    records = {int(r.header("ce_writer").decode()[1:]): r for r in read_topic(kafka_config, topic, 2)}  # type: ignore[union-attr]

    reader = EventCodec(registry)
    calls_before = reader.registry_calls
    for etype, writer_version, reader_version, readable in MATRIX:
        if etype != event_type:
            continue
        record = records[writer_version]
        reader_ref = subject.version(reader_version)
        if not readable:
            with pytest.raises(IncompatibleSchemaError, match="amount_cents") as info:
                reader.decode_datum(record, reader_ref)
            assert info.value.raw is record
            continue
        _, datum = reader.decode_datum(record, reader_ref)
        reader_fields = {f["name"]: f for f in reader_ref.schema["fields"]}
        assert set(datum) == set(reader_fields)
        for name, value in datum.items():
            if name in written[writer_version]:
                assert value == written[writer_version][name], name
            else:
                assert value == reader_fields[name]["default"], name
    assert reader.registry_calls - calls_before == 2  # one fetch per writer schema id, then cached


def test_typed_v2_model_reads_v1_events(
    registry: SchemaRegistry,
    producer: EventProducer,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
) -> None:
    topic = create_topic("evo-typed", partitions=1)
    register_subject(registry, f"{topic}-value", CATALOG[TicketTriaged.event_type])
    v1 = CATALOG[TicketTriaged.event_type].version(1)
    datum = sample_datum(dict(v1.schema))
    producer.send(
        EventCodec(registry).encode_datum(topic, v1, datum, Envelope.new(v1.event_type, tenant="a"))
    )
    assert producer.flush(30) == 0
    [record] = read_topic(kafka_config, topic, 1)
    event = EventCodec(registry).decode(record, TicketTriaged)
    assert (event.payload.ticket_id, event.payload.confidence, event.payload.summary) == (
        datum["ticket_id"],
        1.0,
        None,
    )


def test_unknown_schema_id_is_a_typed_error(
    registry: SchemaRegistry, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("unknown-id", partitions=1)
    envelope = Envelope.new(TicketOpened.event_type, tenant="a")
    value = b"\x00" + struct.pack(">I", 987_654_321) + b"\x02x"
    raw_producer = Producer(kafka_config)
    raw_producer.produce(topic, value, envelope.key, headers=envelope.to_headers())
    assert raw_producer.flush(30) == 0
    [record] = read_topic(kafka_config, topic, 1)
    codec = EventCodec(registry)
    with pytest.raises(UnknownSchemaIdError, match="schema id 987654321 unknown to the registry") as info:
        codec.decode(record, TicketOpened)
    assert info.value.raw.value == value
    assert info.value.reason == "unknown-schema-id"


def test_registry_enforces_the_subject_mode(registry: SchemaRegistry, unique: Callable[[str], str]) -> None:
    subject_name = unique("mode") + "-value"
    register_subject(registry, subject_name, CATALOG[TicketTriaged.event_type])
    assert registry.compatibility(subject_name) is CATALOG[TicketTriaged.event_type].compatibility
    v3 = json.loads(CATALOG[TicketTriaged.event_type].latest.canonical)
    v3["fields"].append({"name": "escalated", "type": "boolean"})
    with pytest.raises(SchemaRejectedError, match=subject_name) as info:
        registry.register(subject_name, json.dumps(v3))
    assert info.value.status == 409


def test_register_subject_is_idempotent_and_refuses_out_of_order(
    registry: SchemaRegistry, unique: Callable[[str], str]
) -> None:
    subject = CATALOG[TicketTriaged.event_type]
    name = unique("idem") + "-value"
    first = register_subject(registry, name, subject)
    again = register_subject(registry, name, subject)
    assert [r.created for r in first] == [True, True]
    assert [r.created for r in again] == [False, False]
    assert [(r.schema_id, r.registry_version) for r in first] == [
        (r.schema_id, r.registry_version) for r in again
    ]
    assert registry.versions(name) == [1, 2]

    skipped = unique("order") + "-value"
    registry.register(skipped, subject.version(2).canonical)
    with pytest.raises(SchemaRejectedError, match="v2 is registered but v1 is not"):
        register_subject(registry, skipped, subject)


def test_unregistered_schema_is_refused_before_sending(
    registry: SchemaRegistry, unique: Callable[[str], str]
) -> None:
    codec = EventCodec(registry)
    with pytest.raises(SchemaNotRegisteredError, match="run `corps schemas register`"):
        codec.encode(
            unique("nowhere"), sample_event(TicketOpened), Envelope.new(TicketOpened.event_type, tenant="a")
        )
    auto = EventCodec(registry, auto_register=True)
    record = auto.encode(
        unique("auto"), sample_event(TicketOpened), Envelope.new(TicketOpened.event_type, tenant="a")
    )
    assert record.value[0] == 0


def test_several_event_types_on_one_topic_with_topic_record_names(
    registry: SchemaRegistry,
    producer: EventProducer,
    kafka_config: dict[str, str],
    create_topic: Callable[..., str],
) -> None:
    topic = create_topic("mixed", partitions=1)
    for model in (TicketOpened, TicketTriaged):
        register_subject(
            registry, topic_record_name_strategy(topic, model.event_type), CATALOG[model.event_type]
        )
    codec = EventCodec(registry, subject_strategy=topic_record_name_strategy)
    payloads = [sample_event(TicketOpened), sample_event(TicketTriaged), sample_event(TicketOpened, seed=2)]
    for payload in payloads:
        producer.send(
            codec.encode(topic, payload, Envelope.new(payload.event_type, tenant="a", workflow_id="wf-1"))
        )
    assert producer.flush(30) == 0
    models = {m.event_type: m for m in (TicketOpened, TicketTriaged)}
    decoded = [EventCodec(registry).decode_any(r, models).payload for r in read_topic(kafka_config, topic, 3)]
    assert decoded == payloads
    assert f"{topic}-demo.support.TicketOpened" in [
        s for s in (topic_record_name_strategy(topic, m) for m in models) if registry.versions(s)
    ]

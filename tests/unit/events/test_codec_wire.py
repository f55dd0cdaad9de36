"""The codec without a registry round trip: ids are pre-cached, so any registry call would fail.

The registry URL points at a closed port; every test also asserts that no registry call was made.
Unknown schema ids and real registration are covered by tests/integration/events.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from tests.unit.events.samples import sample_datum, sample_event

from corps.events import Envelope, EventCodec, EventModel, RawRecord, SchemaRef, SchemaRegistry, lifecycle
from corps.events import demo as demo_models
from corps.events.demo import RefundIssued, TicketOpened, TicketTriaged
from corps.events.errors import (
    EnvelopeError,
    EventValidationError,
    IncompatibleSchemaError,
    InvalidEnvelopeError,
    MalformedBodyError,
    RecordError,
    TruncatedBodyError,
    UnexpectedEventTypeError,
    UnknownMagicByteError,
)
from corps.settings import RegistrySettings

ALL_MODELS = (*lifecycle.EVENTS, *demo_models.EVENTS)
V1 = {
    "demo.support.TicketTriaged": 101,
    "demo.support.RefundIssued": 201,
}


def _v1(model: type[EventModel]) -> SchemaRef:
    from tests.unit.events.test_schema_catalog import REPO_SCHEMAS

    from corps.events import SchemaCatalog

    return SchemaCatalog.load(REPO_SCHEMAS)[model.event_type].version(1)


@pytest.fixture
def codec() -> Iterator[EventCodec]:
    registry = SchemaRegistry(RegistrySettings(url="http://127.0.0.1:9/apis/ccompat/v7"))
    codec = EventCodec(registry)
    for number, model in enumerate(ALL_MODELS, start=1):
        codec.cache_schema(number, model.schema_ref(), topic="t")
    yield codec
    assert codec.registry_calls == 0
    registry.close()


def _raw(record: object, **changes: object) -> RawRecord:
    fields = {
        "topic": "t",
        "partition": 0,
        "offset": 5,
        "key": record.key,  # type: ignore[attr-defined]
        "value": record.value,  # type: ignore[attr-defined]
        "headers": list(record.headers),  # type: ignore[attr-defined]
    }
    fields.update(changes)
    return RawRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.event_type)
def test_every_model_round_trips(codec: EventCodec, model: type[EventModel]) -> None:
    payload = sample_event(model)
    envelope = Envelope.new(model.event_type, tenant="acme")
    record = codec.encode("t", payload, envelope)
    event = codec.decode(_raw(record), model)
    assert event.payload == payload
    assert event.envelope == envelope
    assert record.key == envelope.workflow_id.encode()


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_encode_body_is_the_value_encode_writes(codec: EventCodec, model: type[EventModel]) -> None:
    for seed in (1, 2, 3):
        payload = sample_event(model, seed)
        record = codec.encode("t", payload, Envelope.new(model.event_type, tenant="a"))
        assert codec.encode_body("t", payload.schema_ref(), payload.to_avro()) == record.value


def test_wire_format_is_magic_zero_then_big_endian_id(codec: EventCodec) -> None:
    record = codec.encode("t", sample_event(TicketOpened), Envelope.new(TicketOpened.event_type, tenant="a"))
    magic, schema_id = struct.unpack(">bI", record.value[:5])
    assert magic == 0
    assert schema_id == ALL_MODELS.index(TicketOpened) + 1


def test_decode_datum_reads_with_the_writer_schema(codec: EventCodec) -> None:
    payload = sample_event(TicketOpened)
    record = codec.encode("t", payload, Envelope.new(TicketOpened.event_type, tenant="a"))
    envelope, datum = codec.decode_datum(_raw(record))
    assert envelope.type == TicketOpened.event_type
    assert TicketOpened.from_avro(datum) == payload


def test_decode_any_picks_the_model_by_ce_type(codec: EventCodec) -> None:
    record = codec.encode(
        "t", sample_event(TicketTriaged), Envelope.new(TicketTriaged.event_type, tenant="a")
    )
    models = {m.event_type: m for m in ALL_MODELS}
    assert isinstance(codec.decode_any(_raw(record), models).payload, TicketTriaged)
    with pytest.raises(UnexpectedEventTypeError, match=r"no reader for ce_type demo\.support\.TicketTriaged"):
        codec.decode_any(_raw(record), {TicketOpened.event_type: TicketOpened})


def test_v1_written_event_is_read_by_the_v2_model_with_defaults(codec: EventCodec) -> None:
    v1 = _v1(TicketTriaged)
    codec.cache_schema(V1[v1.event_type], v1, topic="old")
    datum = sample_datum(dict(v1.schema))
    record = codec.encode_datum("old", v1, datum, Envelope.new(v1.event_type, tenant="a"))
    event = codec.decode(_raw(record), TicketTriaged)
    assert event.payload.confidence == 1.0
    assert event.payload.summary is None
    assert event.payload.ticket_id == datum["ticket_id"]


def test_v2_written_event_is_read_by_a_v1_reader(codec: EventCodec) -> None:
    payload = sample_event(TicketTriaged)
    record = codec.encode("t", payload, Envelope.new(TicketTriaged.event_type, tenant="a"))
    _, datum = codec.decode_datum(_raw(record), _v1(TicketTriaged))
    assert set(datum) == {"ticket_id", "category", "priority", "needs_refund"}


def test_incompatible_reader_is_a_typed_error(codec: EventCodec) -> None:
    record = codec.encode("t", sample_event(RefundIssued), Envelope.new(RefundIssued.event_type, tenant="a"))
    raw = _raw(record)
    with pytest.raises(IncompatibleSchemaError, match="amount_cents: type_mismatch") as info:
        codec.decode_datum(raw, _v1(RefundIssued))
    assert info.value.raw is raw
    assert info.value.reason == "incompatible-schema"


def _record(codec: EventCodec) -> object:
    return codec.encode("t", sample_event(TicketOpened), Envelope.new(TicketOpened.event_type, tenant="a"))


@pytest.mark.parametrize(
    ("mangle", "error", "reason"),
    [
        (lambda v: b"", UnknownMagicByteError, "unknown-magic-byte"),
        (lambda v: b"\x01" + v[1:], UnknownMagicByteError, "unknown-magic-byte"),
        (lambda v: v[:3], TruncatedBodyError, "truncated-body"),
        (lambda v: v[:-3], TruncatedBodyError, "truncated-body"),
        (lambda v: v + b"\x00\x00", MalformedBodyError, "malformed-body"),
    ],
    ids=["empty", "magic-1", "inside-id", "short-body", "trailing-bytes"],
)
def test_broken_values_are_typed_errors_carrying_the_raw_record(
    codec: EventCodec, mangle: object, error: type[RecordError], reason: str
) -> None:
    record = _record(codec)
    raw = _raw(record, value=mangle(record.value))  # type: ignore[attr-defined, operator]
    with pytest.raises(error) as info:
        codec.decode(raw, TicketOpened)
    assert info.value.raw is raw
    assert info.value.reason == reason
    assert "t[0]@5" in str(info.value)


def test_missing_value_is_unknown_magic(codec: EventCodec) -> None:
    with pytest.raises(UnknownMagicByteError):
        codec.decode(_raw(_record(codec), value=None), TicketOpened)


def test_key_must_be_the_workflow_id(codec: EventCodec) -> None:
    with pytest.raises(EnvelopeError, match="message key is not ce_workflowid"):
        codec.decode(_raw(_record(codec), key=b"someone-else"), TicketOpened)


def test_missing_headers_fail_before_the_body(codec: EventCodec) -> None:
    with pytest.raises(EnvelopeError, match="missing CloudEvents header"):
        codec.decode(_raw(_record(codec), headers=[], value=b"garbage"), TicketOpened)


def test_wrong_model_is_an_unexpected_type(codec: EventCodec) -> None:
    with pytest.raises(UnexpectedEventTypeError, match=r"is not demo\.support\.TicketTriaged"):
        codec.decode(_raw(_record(codec)), TicketTriaged)


def test_ce_type_lying_about_the_schema_is_caught(codec: EventCodec) -> None:
    record = _record(codec)
    headers = [(n, b"demo.support.TicketTriaged" if n == "ce_type" else v) for n, v in record.headers]  # type: ignore[attr-defined]
    with pytest.raises(UnexpectedEventTypeError, match=r"is demo\.support\.TicketOpened"):
        codec.decode(_raw(record, headers=headers), TicketTriaged)


def test_envelope_type_must_match_the_payload(codec: EventCodec) -> None:
    with pytest.raises(InvalidEnvelopeError, match="does not match payload"):
        codec.encode("t", sample_event(TicketOpened), Envelope.new(TicketTriaged.event_type, tenant="a"))


def test_encode_datum_validates_first(codec: EventCodec) -> None:
    ref = TicketOpened.schema_ref()
    with pytest.raises(EventValidationError, match="customer: missing required field") as info:
        codec.encode_datum(
            "t",
            ref,
            {"ticket_id": "x", "subject": "s", "body": "b"},
            Envelope.new(ref.event_type, tenant="a"),
        )
    assert info.value.path == "customer"


def test_prepared_ids_mean_no_registry_calls_for_many_messages(codec: EventCodec) -> None:
    payload = sample_event(TicketOpened)
    for _ in range(1000):
        record = codec.encode("t", payload, Envelope.new(TicketOpened.event_type, tenant="a"))
        codec.decode(_raw(record), TicketOpened)
    assert codec.registry_calls == 0

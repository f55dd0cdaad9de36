"""The compiled Avro writer writes exactly fastavro's bytes, refuses what fastavro refuses, and steps
aside (``None``) for the schema features it does not cover, where the codec falls back to fastavro."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest
from tests.unit.events.samples import sample_event

from corps.events import EventModel, SchemaRef, lifecycle
from corps.events import demo as demo_models
from corps.events.avro_writer import WRITE_ERRORS, compile_writer

ALL_MODELS = (*lifecycle.EVENTS, *demo_models.EVENTS)

EDGE = fastavro.parse_schema(
    {
        "type": "record",
        "name": "Edge",
        "namespace": "test.edge",
        "fields": [
            {"name": "i", "type": "int"},
            {"name": "l", "type": "long"},
            {"name": "f", "type": "float"},
            {"name": "d", "type": "double"},
            {"name": "b", "type": "boolean"},
            {"name": "raw", "type": "bytes"},
            {"name": "s", "type": "string"},
            {"name": "fx", "type": {"type": "fixed", "name": "Three", "size": 3}},
            {"name": "e", "type": {"type": "enum", "name": "Abc", "symbols": ["A", "B", "C"]}},
            {"name": "e_again", "type": "Abc"},
            {"name": "maybe", "type": ["null", "long"]},
            {"name": "maybe_last", "type": ["string", "null"]},
            {
                "name": "items",
                "type": {
                    "type": "array",
                    "items": {"type": "record", "name": "Item", "fields": [{"name": "z", "type": "string"}]},
                },
            },
            {"name": "by_key", "type": {"type": "map", "values": ["null", "Item"]}},
            {"name": "count", "type": "long", "default": 7},
            {"name": "ints", "type": {"type": "array", "items": "int"}, "default": []},
            {"name": "label", "type": "string", "default": "none"},
            {"name": "opt", "type": ["null", "string"], "default": None},
        ],
    }
)


def _fastavro(parsed: Any, datum: Any) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, datum)
    return buf.getvalue()


def _compiled(parsed: Any, datum: Any) -> bytes:
    write = compile_writer(parsed)
    assert write is not None
    out = bytearray()
    write(datum, out)
    return bytes(out)


def _edge(**changes: Any) -> dict[str, Any]:
    datum: dict[str, Any] = {
        "i": 1,
        "l": 2,
        "f": 1.5,
        "d": -2.25e300,
        "b": True,
        "raw": b"\x00\xff",
        "s": "héllo ✓",
        "fx": b"abc",
        "e": "C",
        "e_again": "A",
        "maybe": None,
        "maybe_last": "x",
        "items": [{"z": "q"}, {"z": ""}],
        "by_key": {"k": {"z": "1"}, "n": None},
        "count": 9,
        "ints": (1, -1),
        "label": "l",
        "opt": "o",
    }
    datum.update(changes)
    return datum


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.event_type)
def test_every_repo_schema_compiles_and_writes_fastavros_bytes(model: type[EventModel]) -> None:
    ref = model.schema_ref()
    datum = sample_event(model).to_avro()
    assert ref.writer is not None
    assert _compiled(ref.parsed, datum) == _fastavro(ref.parsed, datum)


INTS = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2**31 - 1, -(2**31), 12345678]
LONGS = [0, -1, 2**63 - 1, -(2**63), 1 << 40, -(1 << 40)]


@pytest.mark.parametrize("number", INTS)
@pytest.mark.parametrize("long", LONGS)
def test_numbers_are_byte_identical(number: int, long: int) -> None:
    datum = _edge(i=number, l=long, maybe=long, f=float(number), d=long / 3, b=number % 2 == 0)
    assert _compiled(EDGE, datum) == _fastavro(EDGE, datum)


@pytest.mark.parametrize(
    "changes",
    [
        {"s": "", "raw": b"", "items": [], "by_key": {}, "ints": []},
        {"s": "x" * 10_000, "raw": bytes(range(256)) * 40},
        {"maybe_last": None, "opt": None, "maybe": 0},
        {"b": False, "e": "B", "items": ({"z": "t"},)},
        {"by_key": {f"k{i}": {"z": str(i)} for i in range(100)}},
    ],
    ids=["empty", "long-strings", "nulls", "false-tuple", "big-map"],
)
def test_strings_blocks_and_unions_are_byte_identical(changes: dict[str, Any]) -> None:
    datum = _edge(**changes)
    assert _compiled(EDGE, datum) == _fastavro(EDGE, datum)


def test_missing_fields_take_their_defaults_like_fastavro() -> None:
    datum = _edge()
    for name in ("count", "ints", "label", "opt", "maybe"):
        del datum[name]
    assert _compiled(EDGE, datum) == _fastavro(EDGE, datum)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("l", 2**63),
        ("l", "7"),
        ("i", 1.5),
        ("f", "x"),
        ("s", 5),
        ("e", "Z"),
        ("raw", "text"),
        ("maybe", "s"),
        ("fx", b"ab"),
        ("items", [{"y": 1}]),
        ("by_key", ["not", "a", "map"]),
        ("s", None),
    ],
)
def test_values_that_do_not_fit_raise_a_write_error(field: str, value: Any) -> None:
    write = compile_writer(EDGE)
    assert write is not None
    with pytest.raises(WRITE_ERRORS):
        write(_edge(**{field: value}), bytearray())


@pytest.mark.parametrize(
    "field",
    [
        {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "u", "type": ["null", "string", "long"]},
        {"name": "u", "type": ["string", "long"]},
        {"name": "u", "type": ["string", "null"], "default": "x"},
        {"name": "a", "type": {"type": "array", "items": "int"}, "default": [1]},
        {"name": "r", "type": "bytes", "default": "\u00ff"},
    ],
    ids=["logical", "three-branches", "no-null", "union-default", "array-default", "bytes-default"],
)
def test_uncovered_schemas_fall_back_to_fastavro(field: dict[str, Any]) -> None:
    schema = {"type": "record", "name": "X", "namespace": "t", "fields": [field]}
    assert compile_writer(fastavro.parse_schema(schema)) is None
    assert SchemaRef("t.X", 1, schema).writer is None


def test_recursive_records_compile() -> None:
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "Node",
            "fields": [{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}],
        }
    )
    datum = {"v": 1, "next": {"v": 2, "next": {"v": 3, "next": None}}}
    assert _compiled(schema, datum) == _fastavro(schema, datum)


def test_the_codec_round_trips_a_schema_left_to_fastavro() -> None:
    from corps.events import Envelope, EventCodec, RawRecord, SchemaRegistry
    from corps.settings import RegistrySettings

    schema = {
        "type": "record",
        "name": "Wide",
        "namespace": "test.wide",
        "fields": [{"name": "u", "type": ["null", "string", "long"]}],
    }
    ref = SchemaRef("test.wide.Wide", 1, schema)
    assert ref.writer is None
    registry = SchemaRegistry(RegistrySettings(url="http://127.0.0.1:9/apis/ccompat/v7"))
    codec = EventCodec(registry)
    codec.cache_schema(3, ref, topic="t")
    for value in (None, "s", 42):
        record = codec.encode_datum("t", ref, {"u": value}, Envelope.new(ref.event_type, tenant="a"))
        assert record.value[5:] == _fastavro(ref.parsed, {"u": value})
        raw = RawRecord("t", 0, 1, record.key, record.value, record.headers)
        assert codec.decode_datum(raw, ref)[1] == {"u": value}
    assert codec.registry_calls == 0
    registry.close()


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.event_type)
def test_to_avro_equals_model_dump(model: type[EventModel]) -> None:
    payload = sample_event(model)
    assert payload.to_avro() == payload.model_dump()

"""The compiled Avro reader gives fastavro's results, and fails on corrupt bodies with the errors the
codec reports as truncated or malformed."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest
from tests.unit.events.samples import sample_event
from tests.unit.events.test_avro_writer import EDGE, _edge, _fastavro

from corps.events import EventModel, lifecycle
from corps.events import demo as demo_models
from corps.events.avro_reader import TRUNCATED, compile_reader

ALL_MODELS = (*lifecycle.EVENTS, *demo_models.EVENTS)


def _fastavro_read(parsed: Any, body: bytes) -> tuple[Any, int]:
    buf = io.BytesIO(body)
    return fastavro.schemaless_reader(buf, parsed, None), buf.tell()


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.event_type)
def test_every_repo_schema_reads_like_fastavro(model: type[EventModel]) -> None:
    ref = model.schema_ref()
    read = compile_reader(ref.parsed)
    assert read is not None
    body = _fastavro(ref.parsed, sample_event(model).to_avro())
    assert read(b"\x00" * 5 + body, 5) == (_fastavro_read(ref.parsed, body)[0], 5 + len(body))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"s": "", "raw": b"", "items": [], "by_key": {}, "ints": []},
        {"s": "ü" * 5000, "l": -(2**63), "i": 2**31 - 1, "maybe": 2**63 - 1, "f": -0.0},
        {"by_key": {f"k{i}": {"z": str(i)} for i in range(100)}, "b": False, "maybe_last": None},
    ],
)
def test_edge_values_read_like_fastavro(changes: dict[str, Any]) -> None:
    read = compile_reader(EDGE)
    assert read is not None
    body = _fastavro(EDGE, _edge(**changes))
    assert read(body, 0) == _fastavro_read(EDGE, body)


def test_blocks_with_byte_sizes_are_read() -> None:
    # Writers may emit a negative count followed by the block's size in bytes (fastavro never does).
    schema = fastavro.parse_schema(
        {"type": "record", "name": "A", "fields": [{"name": "a", "type": {"type": "array", "items": "long"}}]}
    )
    read = compile_reader(schema)
    assert read is not None
    body = bytes([3, 4, 2, 4, 0])  # count -2, size 2, items 1 and 2, end
    assert read(body, 0) == ({"a": [1, 2]}, 5)


def test_every_truncation_is_reported_as_truncated() -> None:
    read = compile_reader(EDGE)
    assert read is not None
    body = _fastavro(EDGE, _edge())
    for cut in range(len(body)):
        with pytest.raises(TRUNCATED):
            read(body[:cut], 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (bytes([1]) + b"x", "negative length"),
        (bytes([0x80] * 11), "varint longer"),
        (bytes([2, 0xFF]), None),  # not UTF-8
    ],
)
def test_corrupt_bodies_raise_value_errors(body: bytes, message: str | None) -> None:
    schema = fastavro.parse_schema(
        {"type": "record", "name": "S", "fields": [{"name": "s", "type": "string"}]}
    )
    read = compile_reader(schema)
    assert read is not None
    with pytest.raises(ValueError, match=message):
        read(body, 0)


def test_bad_enum_union_and_boolean_values_raise_value_errors() -> None:
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "V",
            "fields": [
                {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
                {"name": "u", "type": ["null", "long"]},
                {"name": "b", "type": "boolean"},
            ],
        }
    )
    read = compile_reader(schema)
    assert read is not None
    assert read(bytes([2, 2, 4, 1]), 0) == ({"e": "B", "u": 2, "b": True}, 4)
    for body, message in [
        (bytes([4, 0, 1]), "enum index"),
        (bytes([0, 4, 1]), "union index"),
        (bytes([0, 0, 2]), "boolean byte"),
    ]:
        with pytest.raises(ValueError, match=message):
            read(body, 0)


def test_logical_types_are_left_to_fastavro() -> None:
    schema = {
        "type": "record",
        "name": "T",
        "fields": [{"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}}],
    }
    assert compile_reader(fastavro.parse_schema(schema)) is None

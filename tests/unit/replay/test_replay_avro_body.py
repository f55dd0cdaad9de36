"""Avro bodies read through fastavro's compiled reader equal what its public reader gives."""

from __future__ import annotations

import io

import fastavro
import pytest

from corps.events import SchemaRef
from corps.replay import avro_body
from corps.replay.avro_body import WriterSchema, read_body

V1 = {
    "type": "record",
    "name": "T",
    "namespace": "test.body",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "n", "type": ["null", "long"], "default": None},
    ],
}
V2 = {**V1, "fields": [*V1["fields"], {"name": "level", "type": "string", "default": "low"}]}


def _framed(datum: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(V1), datum)
    return b"\x00\x00\x00\x00\x07" + buf.getvalue()


@pytest.mark.parametrize("fast", [True, False])
def test_both_readers_give_the_same_data_as_written_and_projected(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(avro_body, "_fast", [fast and avro_body._fast[0]])
    writer = WriterSchema(V1)
    value = _framed({"id": "a", "tags": ["x", "y"], "n": 3})
    assert read_body(writer.pair(None), value) == ({"id": "a", "tags": ["x", "y"], "n": 3}, len(value))
    projected, end = read_body(writer.pair(SchemaRef("test.body.T", 2, V2)), value)
    assert projected == {"id": "a", "tags": ["x", "y"], "n": 3, "level": "low"}
    assert end == len(value)
    assert (
        writer.pair(SchemaRef("test.body.T", 1, V1)) is writer.own
    )  # the writer's own schema: no resolution
    with pytest.raises(EOFError):
        read_body(writer.pair(None), value[:-3])

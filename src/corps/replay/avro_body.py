"""Read Avro bodies with a writer schema, optionally resolved onto a reader schema, cheaply per record.

``fastavro.schemaless_reader`` re-parses both schemas into fresh named-schema tables and compares the
writer with the reader on every call: about as much work as reading a small record. A replay reads
millions of records with a handful of schemas, so :class:`WriterSchema` parses each writer schema once
and each (writer, reader) pair once, and reads through fastavro's compiled ``_read_data`` with the
tables kept. That entry point is fastavro's own (what ``schemaless_reader`` calls after parsing), not
its public API: when a fastavro release changes it, :func:`read_body` notices at the first record and
falls back to ``schemaless_reader`` for good (same results, the old speed).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from io import BytesIO
from typing import Any

import fastavro
from fastavro import schemaless_reader

from corps.events import SchemaRef

__all__ = ["WriterSchema", "read_body"]

_impl: Any = importlib.import_module("fastavro._read")  # fastavro's compiled reader (module docstring)
_read_data: Any = getattr(_impl, "_read_data", None)
_default_named_schemas: Any = getattr(_impl, "_default_named_schemas", None)
_parse_schema: Any = getattr(_impl, "parse_schema", None)

_OPTIONS = {
    "return_record_name": False,
    "return_record_name_override": False,
    "return_named_type": False,
    "return_named_type_override": False,
    "handle_unicode_errors": "strict",
}
_fast = [None not in (_read_data, _default_named_schemas, _parse_schema)]


class _Pair:
    """One writer schema with one reader schema (or none), parsed into fastavro's tables once."""

    __slots__ = ("named", "public_reader", "public_writer", "reader", "writer")

    def __init__(self, writer: Mapping[str, Any], reader: Mapping[str, Any] | None) -> None:
        self.public_writer = fastavro.parse_schema(dict(writer))
        self.public_reader = fastavro.parse_schema(dict(reader)) if reader is not None else None
        self.named: Any = None
        self.writer: Any = None
        self.reader: Any = None
        if _fast[0]:
            self.named = _default_named_schemas()
            self.writer = _parse_schema(dict(writer), self.named["writer"])
            if reader is not None:
                self.reader = _parse_schema(dict(reader), self.named["reader"])


class WriterSchema:
    """A writer schema with the reader schemas it was resolved onto (each pair parsed once).

    Args:
        schema: The writer schema (JSON form).
    """

    __slots__ = ("_pairs", "event_type", "own", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self.event_type = _fullname(schema)
        self.own = _Pair(schema, None)
        self._pairs: dict[str, _Pair] = {}

    def pair(self, wanted: SchemaRef | None) -> _Pair:
        """The pair that reads this writer's records as ``wanted`` (``None``: as written)."""
        if wanted is None:
            return self.own
        found = self._pairs.get(wanted.canonical)
        if found is None:
            same = dict(wanted.schema) == self.schema
            found = self._pairs[wanted.canonical] = self.own if same else _Pair(self.schema, wanted.schema)
        return found


def read_body(pair: _Pair, value: bytes, start: int = 5) -> tuple[Any, int]:
    """Read one body from ``value[start:]``; returns the datum and the offset where it ended.

    Raises:
        EOFError: The body ends early.
        Exception: fastavro's assorted errors on corrupt input or a failed resolution.
    """
    buf = BytesIO(value)
    buf.seek(start)
    if _fast[0]:
        try:
            datum = _read_data(buf, pair.writer, pair.named, pair.reader, _OPTIONS)
        except TypeError:
            if buf.tell() != start:
                raise  # the body, not the call: a real decoding error
            _fast[0] = False  # fastavro changed its internal reader: use the public one from now on
            buf.seek(start)
        else:
            return datum, buf.tell()
    datum = schemaless_reader(buf, pair.public_writer, pair.public_reader)
    return datum, buf.tell()


def _fullname(schema: Mapping[str, Any]) -> str:
    name = str(schema.get("name", ""))
    namespace = schema.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"

"""The Avro body of a Confluent wire-format value: writer schemas, reading bodies, resolving versions.

The codec (:mod:`corps.events.codec`) reads the magic byte and the schema id; these read what follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from fastavro import schemaless_reader
from fastavro.read import SchemaResolutionError

from corps.events.avro_reader import TRUNCATED, AvroRead
from corps.events.compatibility import check_pair
from corps.events.errors import IncompatibleSchemaError, MalformedBodyError, TruncatedBodyError
from corps.events.model import SchemaRef
from corps.events.record import RawRecord

__all__ = ["WriterSchema", "fullname", "read_compiled", "read_fastavro", "resolve"]


@dataclass(frozen=True, slots=True)
class WriterSchema:
    """A writer schema as the codec caches it per schema id."""

    parsed: Any
    schema: Mapping[str, Any]
    event_type: str
    read: AvroRead | None  # compiled reader of this schema (None: fastavro)

    @classmethod
    def of(cls, ref: SchemaRef) -> WriterSchema:
        """The writer schema of ``ref`` (with its compiled reader, if any)."""
        return cls(ref.parsed, ref.schema, ref.event_type, ref.reader)


def read_fastavro(raw: RawRecord, value: bytes, writer_parsed: Any, reader_parsed: Any) -> dict[str, Any]:
    """Read the body with fastavro (``reader_parsed``: the reader schema, ``None`` for the writer's).

    Raises:
        TruncatedBodyError, IncompatibleSchemaError, MalformedBodyError: The body cannot be read.
    """
    buf = BytesIO(value)
    buf.seek(5)
    try:
        datum: Any = schemaless_reader(buf, writer_parsed, reader_parsed)
    except EOFError as exc:
        raise TruncatedBodyError(f"{raw.describe()}: Avro body ends early", raw) from exc
    except SchemaResolutionError as exc:
        raise IncompatibleSchemaError(f"{raw.describe()}: {exc}", raw) from exc
    except Exception as exc:  # fastavro raises assorted types on corrupt input
        raise MalformedBodyError(f"{raw.describe()}: corrupt Avro body: {exc!r}", raw) from exc
    if buf.tell() != len(value) or not isinstance(datum, dict):
        raise MalformedBodyError(
            f"{raw.describe()}: {len(value) - buf.tell()} bytes after the Avro body", raw
        )
    return datum


def read_compiled(raw: RawRecord, value: bytes, read: AvroRead) -> dict[str, Any]:
    """Read the body with the writer schema's compiled reader (same results as fastavro)."""
    try:
        datum, end = read(value, 5)
    except TRUNCATED as exc:
        raise TruncatedBodyError(f"{raw.describe()}: Avro body ends early", raw) from exc
    except Exception as exc:  # ValueError for impossible values; anything else is corrupt input too
        raise MalformedBodyError(f"{raw.describe()}: corrupt Avro body: {exc!r}", raw) from exc
    if end != len(value):
        raise MalformedBodyError(f"{raw.describe()}: {len(value) - end} bytes after the Avro body", raw)
    return datum


def resolve(writer: WriterSchema, reader: SchemaRef) -> str | None:
    """Return ``""`` when reader and writer are the same, ``None`` when compatible, else the reason."""
    if dict(writer.schema) == dict(reader.schema):
        return ""
    problems = check_pair(reader.schema, writer.schema)
    if not problems:
        return None
    reasons = "; ".join(f"{path}: {kind}: {message}" for kind, path, _, message in problems)
    return f"{reader.event_type} v{reader.version} cannot read the writer schema: {reasons}"


def fullname(schema: Mapping[str, Any]) -> str:
    """The Avro fullname of a record schema."""
    name = str(schema.get("name", ""))
    namespace = schema.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"

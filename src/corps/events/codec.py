"""Encode and decode corps events: Confluent wire format + CloudEvents binary-mode headers.

The value of a record is ``0x00``, the writer schema id (4 bytes, big-endian) and the Avro body
written by fastavro. Schema ids are resolved once per (topic, schema) when encoding and writer schemas
fetched once per id when decoding; after that no registry request is made per message
(:attr:`EventCodec.registry_calls` stays put). The reader decodes with its own schema version, so
compatible older and newer writers are both readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Generic, TypeVar

from fastavro import schemaless_writer

from corps.events.avro_writer import WRITE_ERRORS
from corps.events.envelope import Envelope
from corps.events.errors import (
    EnvelopeError,
    EventValidationError,
    IncompatibleSchemaError,
    InvalidEnvelopeError,
    MalformedBodyError,
    SchemaNotRegisteredError,
    TruncatedBodyError,
    UnexpectedEventTypeError,
    UnknownMagicByteError,
    UnknownSchemaIdError,
)
from corps.events.model import EventModel, SchemaRef
from corps.events.record import OutgoingRecord, RawRecord
from corps.events.registry import SchemaRegistry
from corps.events.subjects import SubjectNameStrategy, topic_name_strategy
from corps.events.validation import problems
from corps.events.wire_body import WriterSchema, fullname, read_compiled, read_fastavro, resolve

__all__ = ["Event", "EventCodec"]

M = TypeVar("M", bound=EventModel)
_MAGIC = 0
_UNRESOLVED = "\0unresolved"  # sentinel of the resolution cache (real entries are None, "" or a reason)


@dataclass(frozen=True, slots=True)
class Event(Generic[M]):
    """A decoded event: its envelope, its typed payload and the record it came from."""

    envelope: Envelope
    payload: M
    raw: RawRecord


class EventCodec:
    """Turns (envelope, payload) into Kafka records and back.

    Args:
        registry: The schema registry (ids are looked up and writer schemas fetched through it).
        subject_strategy: Maps ``(topic, event_type)`` to a subject; ``<topic>-value`` by default.
        auto_register: Register a writer schema missing from its subject instead of failing. Off by
            default: schemas are registered in order by ``corps schemas register`` or a topology apply.
    """

    def __init__(
        self,
        registry: SchemaRegistry,
        *,
        subject_strategy: SubjectNameStrategy = topic_name_strategy,
        auto_register: bool = False,
    ) -> None:
        self.registry = registry
        self._subject = subject_strategy
        self._auto_register = auto_register
        self._prefixes: dict[tuple[str, SchemaRef], bytes] = {}
        self._writers: dict[int, WriterSchema] = {}
        self._resolutions: dict[tuple[int, SchemaRef], str | None] = {}

    @property
    def registry_calls(self) -> int:
        """Registry calls made so far (constant once every schema in use is cached)."""
        return self.registry.calls

    # -- encoding ---------------------------------------------------------------------------------------

    def encode(self, topic: str, payload: EventModel, envelope: Envelope) -> OutgoingRecord:
        """Encode a typed payload under ``envelope`` for ``topic``.

        Raises:
            InvalidEnvelopeError: ``envelope.type`` is not the payload's event type.
            EventValidationError: The payload does not fit its Avro schema (e.g. an int out of range).
            SchemaNotRegisteredError: The schema is not registered in the topic's subject.
            RegistryUnavailableError: The first lookup for this (topic, schema) could not reach the registry.
        """
        return self._encode(topic, payload.schema_ref(), payload.to_avro(), envelope)

    def encode_datum(
        self, topic: str, ref: SchemaRef, datum: Mapping[str, Any], envelope: Envelope
    ) -> OutgoingRecord:
        """Validate a plain dict against ``ref`` and encode it (the path of ``corps publish``).

        Raises:
            EventValidationError: The dict does not match the schema; ``path`` names the field.
            (and as :meth:`encode`)
        """
        self.validate(ref, datum)
        return self._encode(topic, ref, datum, envelope)

    @staticmethod
    def validate(ref: SchemaRef, datum: Mapping[str, Any]) -> None:
        """Check a dict against a schema without encoding it.

        Raises:
            EventValidationError: The dict does not match; the message names the field and the type.
        """
        found = problems(ref.parsed, datum)
        if found:
            path = found[0].split(":", 1)[0]
            raise EventValidationError("; ".join(found), event_type=ref.event_type, path=path)

    def prepare(self, topic: str, ref: SchemaRef) -> int:
        """Resolve (and cache) the schema id used for ``ref`` on ``topic``; return it."""
        return int.from_bytes(self._prefix(topic, ref)[1:5], "big")

    def cache_schema(self, schema_id: int, ref: SchemaRef, *, topic: str | None = None) -> None:
        """Record that ``schema_id`` is ``ref`` (and, with ``topic``, that ``ref`` is written with it there).

        Warms the caches without a registry call, e.g. from ids returned by :func:`register_subject`.
        """
        self._writers[schema_id] = WriterSchema.of(ref)
        if topic is not None:
            self._prefixes[(topic, ref)] = bytes([_MAGIC]) + schema_id.to_bytes(4, "big")

    def encode_body(self, topic: str, ref: SchemaRef, datum: Mapping[str, Any]) -> bytes:
        """The record value alone (Confluent frame + Avro body) of a datum already known to fit ``ref``.

        For writers that build their own headers (the orchestrator's events).

        Raises:
            EventValidationError: The datum does not fit the schema after all.
            (and the registry errors of :meth:`encode`)
        """
        prefix = self._prefixes.get((topic, ref)) or self._prefix(topic, ref)
        return self._body(prefix, ref, datum)

    def _encode(
        self, topic: str, ref: SchemaRef, datum: Mapping[str, Any], envelope: Envelope
    ) -> OutgoingRecord:
        if envelope.type != ref.event_type:
            raise InvalidEnvelopeError(
                f"envelope type {envelope.type} does not match payload {ref.event_type}"
            )
        prefix = self._prefixes.get((topic, ref)) or self._prefix(topic, ref)
        return OutgoingRecord(topic, envelope.key, self._body(prefix, ref, datum), envelope.to_headers())

    @staticmethod
    def _body(prefix: bytes, ref: SchemaRef, datum: Mapping[str, Any]) -> bytes:
        write = ref.writer
        try:
            if write is not None:  # compiled for this schema: the same bytes as fastavro, faster
                out = bytearray(prefix)
                write(datum, out)
                value = bytes(out)
            else:
                buf = BytesIO()
                buf.write(prefix)
                schemaless_writer(buf, ref.parsed, datum)
                value = buf.getvalue()
        except WRITE_ERRORS as exc:
            raise EventValidationError(
                f"{ref.event_type}: cannot encode: {exc}", event_type=ref.event_type
            ) from exc
        return value

    def _prefix(self, topic: str, ref: SchemaRef) -> bytes:
        cached = self._prefixes.get((topic, ref))
        if cached is not None:
            return cached
        subject = self._subject(topic, ref.event_type)
        try:
            schema_id, _ = self.registry.lookup(subject, ref.canonical)
        except SchemaNotRegisteredError as exc:
            if not self._auto_register:
                raise SchemaNotRegisteredError(
                    f"{ref.event_type} v{ref.version} is not registered in subject {subject}; "
                    "run `corps schemas register` (or apply the topology)",
                    status=exc.status,
                    code=exc.code,
                ) from exc
            schema_id = self.registry.register(subject, ref.canonical)
        prefix = bytes([_MAGIC]) + schema_id.to_bytes(4, "big")
        self._prefixes[(topic, ref)] = prefix
        self._writers.setdefault(schema_id, WriterSchema.of(ref))
        return prefix

    # -- decoding ---------------------------------------------------------------------------------------

    def decode(self, raw: RawRecord, model: type[M]) -> Event[M]:
        """Decode a record into ``model``, reading with the model's schema version.

        Raises:
            EnvelopeError: Missing or garbled CloudEvents headers, or the key is not the workflow id.
            UnexpectedEventTypeError: ``ce_type`` is not ``model.event_type``.
            DecodeError: One of its leaves (magic byte, schema id, truncated, malformed, incompatible).
            RegistryUnavailableError: A new writer schema could not be fetched (retriable, not poison).
        """
        envelope = self.envelope(raw)
        if envelope.type != model.event_type:
            raise UnexpectedEventTypeError(
                f"{raw.describe()}: ce_type {envelope.type} is not {model.event_type}", raw
            )
        datum = self._read(raw, envelope, model.schema_ref())
        try:
            return Event(envelope, model.from_avro(datum), raw)
        except EventValidationError as exc:
            raise MalformedBodyError(f"{raw.describe()}: {exc}", raw) from exc

    def decode_any(self, raw: RawRecord, models: Mapping[str, type[EventModel]]) -> Event[EventModel]:
        """Decode a record into the model its ``ce_type`` names among ``models``.

        Raises:
            UnexpectedEventTypeError: ``ce_type`` is not among ``models``.
            (and as :meth:`decode`)
        """
        envelope = self.envelope(raw)
        model = models.get(envelope.type)
        if model is None:
            raise UnexpectedEventTypeError(f"{raw.describe()}: no reader for ce_type {envelope.type}", raw)
        datum = self._read(raw, envelope, model.schema_ref())
        try:
            return Event(envelope, model.from_avro(datum), raw)
        except EventValidationError as exc:
            raise MalformedBodyError(f"{raw.describe()}: {exc}", raw) from exc

    def decode_datum(
        self, raw: RawRecord, reader: SchemaRef | None = None
    ) -> tuple[Envelope, dict[str, Any]]:
        """Decode a record into a plain dict, with ``reader`` or else the writer's own schema."""
        envelope = self.envelope(raw)
        return envelope, self._read(raw, envelope, reader)

    def envelope(self, raw: RawRecord) -> Envelope:
        """Read and check the envelope of a record (headers, and the key against the workflow id)."""
        envelope = Envelope.from_headers(raw.headers, raw)
        if raw.key != envelope.workflow_id.encode():
            raise EnvelopeError(
                f"{raw.describe()}: message key is not ce_workflowid {envelope.workflow_id!r}", raw
            )
        return envelope

    def writer_schema(self, schema_id: int) -> Mapping[str, Any]:
        """Return the writer schema of ``schema_id`` (fetched once, then cached)."""
        return self._writer(schema_id, None).schema

    def _read(self, raw: RawRecord, envelope: Envelope, reader: SchemaRef | None) -> dict[str, Any]:
        value = raw.value
        if not value or value[0] != _MAGIC:
            raise UnknownMagicByteError(f"{raw.describe()}: value does not start with magic byte 0", raw)
        if len(value) < 5:
            raise TruncatedBodyError(f"{raw.describe()}: value ends inside the schema id", raw)
        schema_id = int.from_bytes(value[1:5], "big")
        writer = self._writers.get(schema_id) or self._writer(schema_id, raw)
        if writer.event_type != envelope.type:
            raise UnexpectedEventTypeError(
                f"{raw.describe()}: ce_type {envelope.type} but schema id {schema_id} is {writer.event_type}",
                raw,
            )
        reader_parsed = None
        if reader is not None:
            key = (schema_id, reader)
            problem = self._resolutions.get(key, _UNRESOLVED)
            if problem is _UNRESOLVED:
                problem = self._resolutions[key] = resolve(writer, reader)
            if problem:
                raise IncompatibleSchemaError(f"{raw.describe()}: {problem}", raw)
            if problem is None:
                reader_parsed = reader.parsed
        if reader_parsed is None and writer.read is not None:
            return read_compiled(raw, value, writer.read)
        return read_fastavro(raw, value, writer.parsed, reader_parsed)

    def _writer(self, schema_id: int, raw: RawRecord | None) -> WriterSchema:
        cached = self._writers.get(schema_id)
        if cached is not None:
            return cached
        try:
            schema = self.registry.schema_by_id(schema_id)
        except SchemaNotRegisteredError as exc:
            if raw is None:
                raise
            raise UnknownSchemaIdError(
                f"{raw.describe()}: schema id {schema_id} unknown to the registry", raw
            ) from exc
        writer = WriterSchema.of(SchemaRef(fullname(schema), 0, schema))
        self._writers[schema_id] = writer
        return writer

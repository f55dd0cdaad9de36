"""Decode consumed records into :class:`LogRecord`: envelope from headers, payload with its writer schema.

The fast path of a replay: headers are read without building a validated
:class:`~corps.events.Envelope` (verification does that where it matters), and each payload is read
with the writer schema named by its frame, fetched once per schema id through the
:class:`~corps.events.EventCodec`'s registry and then cached, so a range spanning several schema
versions replays without a registry call per record. With ``readers`` the payloads of those event types
are projected onto a reader schema (Avro schema resolution), as an agent built against that version
would see them. Payloads are shared, not copied: the same value bytes (an event's proposed and admitted
copies) give the same dict, which callers must treat as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from io import BytesIO
from typing import Any, Protocol

import fastavro
from fastavro import schemaless_reader

from corps.events import EventCodec, SchemaRef
from corps.events.errors import RegistryUnavailableError, SchemaNotRegisteredError
from corps.replay.records import Headers, LogRecord

__all__ = ["RecordDecoder"]

_MAGIC = 0
_ATTEMPT = "corps_attempt"
_SEEN_MAX = 200_000


class _Message(Protocol):
    """The part of ``confluent_kafka.Message`` the decoder reads."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | str | None: ...
    def value(self) -> bytes | str | None: ...
    def headers(self) -> list[tuple[str, bytes | None]] | None: ...
    def timestamp(self) -> tuple[int, int]: ...


class _Writer:
    __slots__ = ("event_type", "parsed", "readers", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self.parsed = fastavro.parse_schema(dict(schema))
        self.event_type = _fullname(schema)
        self.readers: dict[str, Any] = {}
        """Reader schema text -> its parsed form, or ``None`` when it is the writer's own schema."""

    def reader(self, wanted: SchemaRef) -> Any:
        if wanted.canonical not in self.readers:
            same = dict(wanted.schema) == self.schema
            self.readers[wanted.canonical] = None if same else wanted.parsed
        return self.readers[wanted.canonical]


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value is not None else None


class RecordDecoder:
    """Turns consumed records into :class:`LogRecord` objects.

    Args:
        codec: Supplies writer schemas by id (one registry call per new id, then cached).
        readers: Event type -> the reader schema to project payloads of that type onto (optional).
        payloads: Decode payloads (off: headers only, for counting and tailing).
    """

    def __init__(
        self,
        codec: EventCodec,
        *,
        readers: Mapping[str, SchemaRef] | None = None,
        payloads: bool = True,
    ) -> None:
        self.codec = codec
        self.readers = dict(readers or {})
        self.payloads = payloads
        self._writers: dict[int, _Writer | str] = {}
        self._seen: dict[bytes, dict[str, Any]] = {}
        """Recently decoded values: an event's copies (proposed, admitted) are decoded once."""

    def from_message(self, message: _Message) -> LogRecord:
        """Decode a ``confluent_kafka.Message`` (without an error)."""
        ts_type, ts = message.timestamp()
        key, value = message.key(), message.value()
        return self.decode(
            message.topic() or "",
            message.partition() or 0,
            message.offset() or 0,
            ts if ts_type else None,
            key.encode() if isinstance(key, str) else key,
            value.encode() if isinstance(value, str) else value,
            message.headers() or [],
        )

    def decode(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp_ms: int | None,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
    ) -> LogRecord:
        """Decode one record; problems are recorded on it, never raised.

        Raises:
            RegistryUnavailableError: A new writer schema could not be fetched (not the record's fault).
        """
        by_name = dict(headers)
        record = self._fast_envelope(topic, partition, offset, timestamp_ms, key, value, headers, by_name)
        problem = None
        if record is None:
            record = LogRecord(topic, partition, offset, timestamp_ms, key, value, headers)
            problem = self._envelope(record, by_name)
        attempt = by_name.get(_ATTEMPT)
        if attempt is not None and attempt.isdigit():
            record.attempt = int(attempt)
        if value is None or len(value) < 5 or value[0] != _MAGIC:
            frame = "value is not Confluent-framed Avro (magic byte 0 + schema id)"
            record.problem = f"{problem}; {frame}" if problem else frame
            return record
        schema_id = int.from_bytes(value[1:5], "big")
        record.schema_id = schema_id
        if self.payloads:
            body = self._payload(record, value, schema_id)
            if body is not None:
                problem = f"{problem}; {body}" if problem else body
        record.problem = problem
        return record

    @staticmethod
    def _fast_envelope(
        topic: str,
        partition: int,
        offset: int,
        timestamp_ms: int | None,
        key: bytes | None,
        value: bytes | None,
        headers: Headers,
        h: Mapping[str, bytes | None],
    ) -> LogRecord | None:
        """The common case in one go: every required header present, UTF-8, the key the workflow id."""
        try:
            workflow = h["ce_workflowid"]
            if key != workflow:
                return None
            time = datetime.fromisoformat(h["ce_time"].decode())  # type: ignore[union-attr]
            record = LogRecord(
                topic,
                partition,
                offset,
                timestamp_ms,
                key,
                value,
                headers,
                h["ce_id"].decode(),  # type: ignore[union-attr]
                h["ce_type"].decode(),  # type: ignore[union-attr]
                h["ce_source"].decode(),  # type: ignore[union-attr]
                time,
                h["ce_tenant"].decode(),  # type: ignore[union-attr]
                workflow.decode(),  # type: ignore[union-attr]
                _text(h.get("ce_causationid")),
                _text(h.get("ce_step")),
            )
        except (KeyError, AttributeError, UnicodeDecodeError, ValueError):
            return None
        if time.tzinfo is None or not (
            record.event_id and record.event_type and record.source and record.tenant and record.workflow_id
        ):
            return None
        return record

    # -- envelope ---------------------------------------------------------------------------------------

    @staticmethod
    def _envelope(record: LogRecord, h: Mapping[str, bytes | None]) -> str | None:
        record.event_id = _text(h.get("ce_id"))
        record.event_type = _text(h.get("ce_type"))
        record.source = _text(h.get("ce_source"))
        record.tenant = _text(h.get("ce_tenant"))
        record.workflow_id = _text(h.get("ce_workflowid"))
        record.causation_id = _text(h.get("ce_causationid"))
        record.step = _text(h.get("ce_step"))
        missing = [
            name
            for name, got in (
                ("ce_id", record.event_id),
                ("ce_type", record.event_type),
                ("ce_source", record.source),
                ("ce_tenant", record.tenant),
                ("ce_workflowid", record.workflow_id),
            )
            if not got
        ]
        problems: list[str] = []
        if missing:
            problems.append(f"missing CloudEvents header(s) {', '.join(missing)}")
        raw_time = h.get("ce_time")
        if raw_time is None:
            problems.append("missing CloudEvents header ce_time")
        else:
            try:
                parsed = datetime.fromisoformat(raw_time.decode())
            except (ValueError, UnicodeDecodeError):
                problems.append(f"ce_time {raw_time!r} is not RFC 3339")
            else:
                if parsed.tzinfo is None:
                    problems.append(f"ce_time {raw_time!r} has no time zone")
                else:
                    record.time = parsed
        if record.workflow_id is not None and record.key != record.workflow_id.encode():
            problems.append(f"message key is not ce_workflowid {record.workflow_id!r}")
        return "; ".join(problems) if problems else None

    # -- payload ----------------------------------------------------------------------------------------

    def _payload(self, record: LogRecord, value: bytes, schema_id: int) -> str | None:
        writer = self._writers.get(schema_id)
        if writer is None:
            writer = self._fetch(schema_id)
        if isinstance(writer, str):
            return writer
        if record.event_type is not None and writer.event_type != record.event_type:
            return f"ce_type {record.event_type} but schema id {schema_id} is {writer.event_type}"
        seen = self._seen.get(value)
        if seen is not None:
            record.data = seen  # the proposed and the admitted copy of an event carry the same bytes
            return None
        wanted = self.readers.get(writer.event_type)
        reader = writer.reader(wanted) if wanted is not None else None
        buf = BytesIO(value)
        buf.seek(5)
        try:
            datum: Any = schemaless_reader(buf, writer.parsed, reader)
        except EOFError:
            return "Avro body ends early"
        except Exception as exc:  # fastavro raises assorted types on corrupt input or bad resolution
            return f"cannot read the Avro body: {exc!r}"
        if buf.tell() != len(value) or not isinstance(datum, dict):
            return f"{len(value) - buf.tell()} bytes after the Avro body"
        record.data = datum
        if len(self._seen) >= _SEEN_MAX:
            self._seen.clear()
        self._seen[value] = datum
        return None

    def _fetch(self, schema_id: int) -> _Writer | str:
        try:
            schema = self.codec.writer_schema(schema_id)
        except RegistryUnavailableError:
            raise
        except SchemaNotRegisteredError:
            found: _Writer | str = f"schema id {schema_id} is unknown to the registry"
        else:
            found = _Writer(schema)
        self._writers[schema_id] = found
        return found


def _fullname(schema: Mapping[str, Any]) -> str:
    name = str(schema.get("name", ""))
    namespace = schema.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"

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

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from corps.events import EventCodec, SchemaRef
from corps.events.errors import RegistryUnavailableError, SchemaNotRegisteredError
from corps.replay.avro_body import WriterSchema, read_body
from corps.replay.records import Headers, LogRecord

__all__ = ["RecordDecoder"]

_MAGIC = 0
_ATTEMPT = "corps_attempt"
_SEEN_MAX = 200_000
_CACHE_MAX = 100_000


class _Message(Protocol):
    """The part of ``confluent_kafka.Message`` the decoder reads."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | str | None: ...
    def value(self) -> bytes | str | None: ...
    def headers(self) -> list[tuple[str, bytes | None]] | None: ...
    def timestamp(self) -> tuple[int, int]: ...


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value is not None else None


class RecordDecoder:
    """Turns consumed records into :class:`LogRecord` objects.

    Args:
        codec: Supplies writer schemas by id (one registry call per new id, then cached).
        readers: Event type -> the reader schema to project payloads of that type onto (optional).
        payloads: Decode payloads (off: headers only, for counting and tailing).
        bodies: Which records need their payload (default: all, when ``payloads``); the others get
            their frame checked (magic byte, a known schema id of the record's type), not their body.
    """

    def __init__(
        self,
        codec: EventCodec,
        *,
        readers: Mapping[str, SchemaRef] | None = None,
        payloads: bool = True,
        bodies: Callable[[LogRecord], bool] | None = None,
    ) -> None:
        self.codec = codec
        self.readers = dict(readers or {})
        self.payloads = payloads
        self.bodies = bodies
        self._writers: dict[int, WriterSchema | str] = {}
        self._seen: dict[bytes, dict[str, Any]] = {}
        """Recently decoded values: an event's copies (proposed, admitted) are decoded once."""
        self._texts: dict[bytes, str] = {}
        """Header values seen (types, sources, tenants, steps repeat): decoded once, shared."""
        self._times: dict[bytes, datetime] = {}
        """``ce_time`` values seen (an event's copies and its decision carry the same one)."""

    def from_message(self, message: _Message) -> LogRecord:
        """Decode a ``confluent_kafka.Message`` (without an error)."""
        ts_type, ts = message.timestamp()
        key, value = message.key(), message.value()
        if isinstance(key, str):
            key = key.encode()
        if isinstance(value, str):
            value = value.encode()
        headers = message.headers() or []
        topic, partition, offset = message.topic() or "", message.partition() or 0, message.offset() or 0
        by_name = dict(headers)
        record = self._fast_envelope(
            topic, partition, offset, ts if ts_type else None, key, value, headers, by_name
        )
        if record is None:
            return self.decode(topic, partition, offset, ts if ts_type else None, key, value, headers)
        return self._finish(record, value, by_name, None)

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
        return self._finish(record, value, by_name, problem)

    def _finish(
        self, record: LogRecord, value: bytes | None, by_name: Mapping[str, bytes | None], problem: str | None
    ) -> LogRecord:
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

    def _text(self, raw: bytes) -> str:
        text = self._texts.get(raw)
        if text is None:
            if len(self._texts) >= _CACHE_MAX:
                self._texts.clear()
            text = self._texts[raw] = raw.decode()
        return text

    def _fast_envelope(
        self,
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
            if key != workflow or not workflow:
                return None
            raw_time: bytes = h["ce_time"]  # type: ignore[assignment]
            time = self._times.get(raw_time)
            if time is None:
                time = datetime.fromisoformat(raw_time.decode())
                if time.tzinfo is None:
                    return None
                if len(self._times) >= _CACHE_MAX:
                    self._times.clear()
                self._times[raw_time] = time
            text = self._text
            event_id: bytes = h["ce_id"]  # type: ignore[assignment]
            event_type: bytes = h["ce_type"]  # type: ignore[assignment]
            source: bytes = h["ce_source"]  # type: ignore[assignment]
            tenant: bytes = h["ce_tenant"]  # type: ignore[assignment]
            if not (event_id and event_type and source and tenant):
                return None
            cause = h.get("ce_causationid")
            step = h.get("ce_step")
            known = self._texts.get  # inlined cache hits: most values repeat
            return LogRecord(
                topic,
                partition,
                offset,
                timestamp_ms,
                key,
                value,
                headers,
                event_id.decode(),
                known(event_type) or text(event_type),
                known(source) or text(source),
                time,
                known(tenant) or text(tenant),
                known(workflow) or text(workflow),
                cause.decode() if cause is not None else None,
                (known(step) or text(step)) if step is not None else None,
            )
        except (KeyError, AttributeError, UnicodeDecodeError, ValueError, TypeError):
            return None

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
        if self.bodies is not None and not self.bodies(record):
            return None  # not needed: the frame was checked, the body is left unread
        seen = self._seen.get(value)
        if seen is not None:
            record.data = seen  # the proposed and the admitted copy of an event carry the same bytes
            return None
        try:
            datum, end = read_body(writer.pair(self.readers.get(writer.event_type)), value)
        except EOFError:
            return "Avro body ends early"
        except Exception as exc:  # fastavro raises assorted types on corrupt input or bad resolution
            return f"cannot read the Avro body: {exc!r}"
        if end != len(value) or not isinstance(datum, dict):
            return f"{len(value) - end} bytes after the Avro body"
        record.data = datum
        if len(self._seen) >= _SEEN_MAX:
            self._seen.clear()
        self._seen[value] = datum
        return None

    def _fetch(self, schema_id: int) -> WriterSchema | str:
        try:
            schema = self.codec.writer_schema(schema_id)
        except RegistryUnavailableError:
            raise
        except SchemaNotRegisteredError:
            found: WriterSchema | str = f"schema id {schema_id} is unknown to the registry"
        else:
            found = WriterSchema(schema)
        self._writers[schema_id] = found
        return found

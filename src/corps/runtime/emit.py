"""Encoding the events a handler emits: the codec's wire format, without a validated Envelope per event.

Every attribute of an output's envelope derives from the validated input envelope or is made here
(ids, time, source), so building and re-validating an :class:`~corps.events.Envelope` per output would
only cost time. :class:`OutputEncoder` writes the same bytes and headers as
``EventCodec.encode(topic, payload, envelope)``; a unit test pins the two together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from typing import NamedTuple

from fastavro import schemaless_writer

from corps.events import EventCodec, EventModel
from corps.runtime.errors import NonRetryableError

__all__ = ["OutputEncoder", "OutputHeaders"]

_SPEC = ("ce_specversion", b"1.0")
_CONTENT_TYPE = ("content-type", b"application/avro")


class OutputHeaders(NamedTuple):
    """The envelope attributes shared by every event emitted for one input (already encoded).

    A named tuple: one is made per handled record, and a frozen dataclass costs several times more.
    """

    time: bytes
    tenant: bytes
    workflow_id: bytes
    causation_id: bytes
    step: bytes | None
    traceparent: bytes | None
    tracestate: bytes | None

    @classmethod
    def of(
        cls,
        *,
        time: datetime,
        tenant: str,
        workflow_id: str,
        causation_id: str,
        step: str | None,
        traceparent: str | None,
        tracestate: str | None,
    ) -> OutputHeaders:
        """Encode the shared attributes once."""
        return cls(
            time=time.astimezone(UTC).isoformat().replace("+00:00", "Z").encode(),
            tenant=tenant.encode(),
            workflow_id=workflow_id.encode(),
            causation_id=causation_id.encode(),
            step=None if step is None else step.encode(),
            traceparent=None if traceparent is None else traceparent.encode(),
            tracestate=None if tracestate is None else tracestate.encode(),
        )


class OutputEncoder:
    """Turns emitted events into ``(value, headers)`` for a topic, with the codec's cached schema ids.

    Args:
        codec: The codec (resolves and caches each (topic, schema) id; may call the registry once).
        source: The CloudEvents source of every emitted event (the agent's name).
    """

    def __init__(self, codec: EventCodec, source: str) -> None:
        self._codec = codec
        self._source = ("ce_source", source.encode())
        self._prefixes: dict[tuple[str, type[EventModel]], tuple[bytes, tuple[str, bytes]]] = {}

    def _prefix(self, topic: str, model: type[EventModel]) -> tuple[bytes, tuple[str, bytes]]:
        found = self._prefixes.get((topic, model))
        if found is None:
            schema_id = self._codec.prepare(topic, model.schema_ref())
            found = (b"\x00" + schema_id.to_bytes(4, "big"), ("ce_type", model.event_type.encode()))
            self._prefixes[(topic, model)] = found
        return found

    def encode(
        self, topic: str, payload: EventModel, event_id: str, shared: OutputHeaders
    ) -> tuple[bytes, list[tuple[str, bytes | None]]]:
        """Return the record value and headers of ``payload`` on ``topic``.

        Raises:
            NonRetryableError: The payload does not fit its Avro schema (e.g. an int out of range).
            SchemaNotRegisteredError: The schema is not registered for the topic (first use only).
        """
        prefix, ce_type = self._prefix(topic, type(payload))
        buf = BytesIO()
        buf.write(prefix)
        try:
            schemaless_writer(buf, payload.schema_ref().parsed, payload.to_avro())
        except (TypeError, ValueError, OverflowError, KeyError, AttributeError) as exc:
            raise NonRetryableError(f"cannot encode {payload.event_type}: {exc}") from exc
        headers: list[tuple[str, bytes | None]] = [
            _SPEC,
            ("ce_id", event_id.encode()),
            self._source,
            ce_type,
            ("ce_time", shared.time),
            _CONTENT_TYPE,
            ("ce_tenant", shared.tenant),
            ("ce_workflowid", shared.workflow_id),
            ("ce_causationid", shared.causation_id),
        ]
        if shared.step is not None:
            headers.append(("ce_step", shared.step))
        if shared.traceparent is not None:
            headers.append(("traceparent", shared.traceparent))
        if shared.tracestate is not None:
            headers.append(("tracestate", shared.tracestate))
        return buf.getvalue(), headers

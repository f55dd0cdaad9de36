"""The runtime's output encoder writes exactly what the codec writes for the same envelope."""

from __future__ import annotations

from datetime import UTC, datetime

from corps.events import Envelope, EventCodec, RawRecord, SchemaRegistry
from corps.events.demo import TicketTriaged
from corps.runtime.emit import OutputEncoder, OutputHeaders
from corps.settings import RegistrySettings


def _codec() -> EventCodec:
    codec = EventCodec(SchemaRegistry(RegistrySettings(url="http://127.0.0.1:9")))  # never called: ids primed
    codec.cache_schema(7, TicketTriaged.schema_ref(), topic="out")
    return codec


def test_same_bytes_and_headers_as_the_codec() -> None:
    codec = _codec()
    payload = TicketTriaged(
        ticket_id="T-1", category="BILLING", priority="HIGH", needs_refund=True, summary="s"
    )
    when = datetime(2025, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    for step, traceparent in [
        ("refund", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        (None, None),
    ]:
        envelope = Envelope(
            id="e-2",
            source="triage",
            type=TicketTriaged.event_type,
            time=when,
            tenant="acme",
            workflow_id="wf-1",
            causation_id="e-1",
            step=step,
            traceparent=traceparent,
        )
        expected = codec.encode("out", payload, envelope)
        shared = OutputHeaders.of(
            time=when,
            tenant="acme",
            workflow_id="wf-1",
            causation_id="e-1",
            step=step,
            traceparent=traceparent,
            tracestate=None,
        )
        value, headers = OutputEncoder(codec, "triage").encode("out", payload, "e-2", shared)
        assert value == expected.value
        assert headers == expected.headers
        decoded = codec.decode(RawRecord("out", 0, 0, b"wf-1", value, headers), TicketTriaged)
        assert decoded.envelope == envelope
        assert decoded.payload == payload

"""The processor hot path, offline: lazy event context, outputs, metrics (schema ids primed, no broker)."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client import generate_latest

from corps.events import Envelope, EventCodec, RawRecord, SchemaRegistry
from corps.events.demo import Customer, TicketOpened, TicketTriaged
from corps.events.lifecycle import StepFailed
from corps.runtime import Agent, EventContext, NonRetryableError, current_context, handler
from corps.runtime.metrics import AgentMetrics
from corps.runtime.processor import Processor, Status
from corps.runtime.settings import AgentSettings
from corps.runtime.tracing import Tracing
from corps.settings import RegistrySettings

SEEN: list[EventContext] = []


@handler
async def triage(ticket: TicketOpened) -> TicketTriaged:
    """Record the context twice (the second read is the cached object), emit one event."""
    SEEN.extend([current_context(), current_context()])
    return TicketTriaged(
        ticket_id=ticket.ticket_id, category="BILLING", priority="NORMAL", needs_refund=False
    )


def _setup() -> tuple[Processor, EventCodec, AgentMetrics]:
    codec = EventCodec(SchemaRegistry(RegistrySettings(url="http://127.0.0.1:9")))
    codec.cache_schema(1, TicketOpened.schema_ref(), topic="in")
    codec.cache_schema(2, TicketTriaged.schema_ref(), topic="out")
    settings = AgentSettings.model_validate(
        {
            "kafka": {"bootstrap_servers": "unused:9092"},
            "registry": {"url": "http://unused"},
            "routing": {
                "inputs": {TicketOpened.event_type: "in"},
                "outputs": {TicketTriaged.event_type: "out"},
            },
        }
    )
    agent = Agent(name="hot", version="1", handlers=[triage])
    metrics = AgentMetrics("hot")
    return Processor(agent, settings, codec, tracing=Tracing("hot"), metrics=metrics), codec, metrics


def _ticket() -> TicketOpened:
    return TicketOpened(
        ticket_id="T-1",
        customer=Customer(customer_id="C-1", name="Ann", email="ann@example.com"),
        subject="s",
        body="b",
        refund_amount_cents=0,
        tags=(),
    )


def test_one_record_in_context_out_and_counted() -> None:
    processor, codec, metrics = _setup()
    SEEN.clear()
    payload = _ticket()
    env = Envelope.new(TicketOpened.event_type, tenant="acme", workflow_id="wf-1", source="test")
    encoded = codec.encode("in", payload, env)
    raw = RawRecord("in", 2, 41, encoded.key, encoded.value, encoded.headers)

    outcome = asyncio.run(processor.process(raw))

    assert outcome.status is Status.HANDLED
    first, second = SEEN
    assert isinstance(first, EventContext)
    assert first is second  # built once per record, on first read
    assert (first.agent, first.event_id, first.workflow_id, first.tenant) == ("hot", env.id, "wf-1", "acme")
    assert (first.topic, first.partition, first.offset, first.attempt) == ("in", 2, 41, 1)
    [out] = outcome.records
    assert (out.topic, out.key) == ("out", b"wf-1")
    headers = dict(out.headers)
    assert headers["ce_causationid"] == env.id.encode()
    assert headers["ce_type"] == TicketTriaged.event_type.encode()
    decoded = codec.decode(RawRecord("out", 0, 0, out.key, out.value, out.headers), TicketTriaged)
    assert decoded.payload.ticket_id == "T-1"

    metrics.flush()
    text = generate_latest(metrics.registry).decode()
    labels = f'agent="hot",event_type="{TicketOpened.event_type}"'
    assert f"corps_events_in_total{{{labels}}} 1.0" in text
    assert f"corps_handler_seconds_count{{{labels}}} 1.0" in text
    assert f'corps_handler_seconds_bucket{{{labels},le="+Inf"}} 1.0' in text
    out_labels = f'agent="hot",event_type="{TicketTriaged.event_type}"'
    assert f"corps_events_out_total{{{out_labels}}} 1.0" in text


CURRENT_SPANS: list[str] = []


@handler
async def fussy(ticket: TicketOpened) -> None:
    """Note the current span's traceparent, then fail for good."""
    sc = trace.get_current_span().get_span_context()
    CURRENT_SPANS.append(f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{sc.trace_flags:02x}")
    CURRENT_SPANS.append(current_context().traceparent)
    raise NonRetryableError(f"no {ticket.ticket_id}")


def test_traced_span_is_current_in_the_handler_and_marks_the_failure() -> None:
    processor, codec, _ = _setup()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    agent = Agent(name="hot", version="1", handlers=[fussy])
    traced = Processor(
        agent, processor.settings, codec, tracing=Tracing("hot", provider), metrics=AgentMetrics("hot")
    )
    codec.cache_schema(3, StepFailed.schema_ref(), topic=processor.settings.routing.lifecycle)
    CURRENT_SPANS.clear()
    env = Envelope.new(
        TicketOpened.event_type,
        tenant="acme",
        workflow_id="wf-2",
        source="test",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    encoded = codec.encode("in", _ticket(), env)

    outcome = asyncio.run(traced.process(RawRecord("in", 0, 7, encoded.key, encoded.value, encoded.headers)))

    assert outcome.status is Status.FAILED
    [report] = outcome.records
    assert (
        codec.decode(
            RawRecord(report.topic, 0, 0, report.key, report.value, report.headers), StepFailed
        ).payload.last_error
        == "NonRetryableError: no T-1"
    )
    [span] = exporter.get_finished_spans()
    assert span.name == f"hot process {TicketOpened.event_type}"
    assert f"{span.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["corps.error.code"] == "NON_RETRYABLE"
    assert span.attributes["corps.workflow_id"] == "wf-2"
    own = f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"
    assert [own, own] == CURRENT_SPANS  # the span is current inside the handler; the context has it too
    assert trace.get_current_span() is trace.INVALID_SPAN  # and no longer current afterwards

"""The processor hot path, offline: lazy event context, outputs, metrics (schema ids primed, no broker)."""

from __future__ import annotations

import asyncio

from prometheus_client import generate_latest

from corps.events import Envelope, EventCodec, RawRecord, SchemaRegistry
from corps.events.demo import Customer, TicketOpened, TicketTriaged
from corps.runtime import Agent, EventContext, current_context, handler
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


def test_one_record_in_context_out_and_counted() -> None:
    processor, codec, metrics = _setup()
    SEEN.clear()
    payload = TicketOpened(
        ticket_id="T-1",
        customer=Customer(customer_id="C-1", name="Ann", email="ann@example.com"),
        subject="s",
        body="b",
        refund_amount_cents=0,
        tags=(),
    )
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

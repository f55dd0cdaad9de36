"""Where an agent hop's CPU goes, per record, in process and without a broker (for G2's detail).

The codec's schema ids are primed (``cache_schema``), so no registry is needed: the figures are pure
processing cost — header validation + Avro decode + model, the handler, output encoding, and the whole
``Processor.process`` (which adds the context, metrics and the runtime's own bookkeeping), also with
tracing on (a span per record, exported to a null exporter in batches).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from corps.events import Envelope, EventCodec, RawRecord, SchemaRegistry
from corps.events.demo import TicketOpened, TicketTriaged
from corps.runtime.emit import OutputEncoder, OutputHeaders
from corps.runtime.metrics import AgentMetrics
from corps.runtime.processor import Processor
from corps.runtime.settings import AgentSettings
from corps.runtime.tracing import Tracing
from corps.settings import RegistrySettings

_N = 20_000


def _us(step: Callable[[], Any], n: int = _N) -> float:
    started = time.process_time()
    for _ in range(n):
        step()
    return round((time.process_time() - started) / n * 1e6, 2)


class _NullExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def profile_us() -> dict[str, float]:
    """Microseconds of CPU per record for each step of an agent hop."""
    from bench.g2_agent_hop import AGENT, ticket, triage

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
    processor = Processor(
        AGENT, settings, codec, tracing=Tracing(AGENT.name), metrics=AgentMetrics(AGENT.name)
    )
    records = []
    for i in range(_N):
        env = Envelope.new(
            TicketOpened.event_type, tenant="acme", workflow_id=f"wf-{i % 1024}", source="bench"
        )
        out = codec.encode("in", ticket(), env)
        records.append(RawRecord("in", 0, i, out.key, out.value, out.headers))
    raw = records[0]
    event = codec.decode(raw, TicketOpened)
    result = asyncio.run(triage(event.payload))
    encoder = OutputEncoder(codec, AGENT.name)
    shared = OutputHeaders.of(
        time=event.envelope.time,
        tenant="acme",
        workflow_id=event.envelope.workflow_id,
        causation_id=event.envelope.id,
        step=None,
        traceparent=None,
        tracestate=None,
    )

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_NullExporter()))
    traced = Processor(
        AGENT, settings, codec, tracing=Tracing(AGENT.name, provider), metrics=AgentMetrics(AGENT.name)
    )

    async def whole(p: Processor = processor) -> float:
        started = time.process_time()
        for r in records:
            await p.process(r)
        return round((time.process_time() - started) / len(records) * 1e6, 2)

    def call_handler() -> None:
        with contextlib.suppress(StopIteration):
            triage(event.payload).send(None)

    figures = {
        "decode_headers_avro_model": _us(lambda: codec.decode(raw, TicketOpened)),
        "handler": _us(call_handler),
        "encode_output": _us(lambda: encoder.encode("out", result, "id", shared)),
        "processor_total": asyncio.run(whole()),
        "processor_total_traced": asyncio.run(whole(traced)),
    }
    provider.shutdown()
    return figures

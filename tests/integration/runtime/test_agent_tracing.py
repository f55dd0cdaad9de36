"""One workflow is one trace across agents: span context travels in the records' traceparent header."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tests.integration.runtime.agents_for_tests import REFUNDS, TRIAGE, ticket
from tests.integration.runtime.harness import Bed, running

from corps.events.demo import RefundIssued, TicketOpened, TicketTriaged

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


async def test_one_trace_across_two_agents(bed: Bed) -> None:
    opened, triaged, refunds = bed.topic("opened"), bed.topic("triaged"), bed.topic("refunds")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    first = bed.settings(bed.routing({TicketOpened: opened}, {TicketTriaged: triaged}))
    second = bed.settings(bed.routing({TicketTriaged: triaged}, {RefundIssued: refunds}))
    traced = bed.publish(
        opened, ticket(1), workflow_id="wf-traced", traceparent=f"00-{TRACE_ID}-{CALLER_SPAN}-01"
    )
    untraced = bed.publish(opened, ticket(2), workflow_id="wf-untraced")
    bed.flush()
    async with (
        running(TRIAGE, first, tracer_provider=provider),
        running(REFUNDS, second, tracer_provider=provider),
    ):
        out = await bed.aread(refunds, 2)
    spans = exporter.get_finished_spans()
    by_workflow: dict[str, list] = {}
    for span in spans:
        by_workflow.setdefault(str(span.attributes["corps.workflow_id"]), []).append(span)
    for workflow in ("wf-traced", "wf-untraced"):
        hop1, hop2 = sorted(by_workflow[workflow], key=lambda s: s.start_time)
        assert hop1.name == f"triage process {TicketOpened.event_type}"
        assert hop2.name == f"refunds process {TicketTriaged.event_type}"
        assert hop1.kind is hop2.kind is SpanKind.CONSUMER
        assert hop1.context.trace_id == hop2.context.trace_id  # one trace across both agents
        assert hop2.parent is not None
        assert hop2.parent.span_id == hop1.context.span_id
    traced_hop1 = min(by_workflow["wf-traced"], key=lambda s: s.start_time)
    assert f"{traced_hop1.context.trace_id:032x}" == TRACE_ID  # continues the caller's trace
    assert f"{traced_hop1.parent.span_id:016x}" == CALLER_SPAN
    # the records themselves carry the trace onward, for whoever reads them next
    for raw in out:
        env, _ = bed.decode(raw, RefundIssued)
        hop2 = next(s for s in by_workflow[env.workflow_id] if s.name.startswith("refunds"))
        assert env.traceparent is not None
        assert env.traceparent.startswith(f"00-{hop2.context.trace_id:032x}-{hop2.context.span_id:016x}-")
    assert {bed.decode(r, RefundIssued)[0].workflow_id for r in out} == {
        traced.workflow_id,
        untraced.workflow_id,
    }

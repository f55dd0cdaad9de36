"""Each agent process serves Prometheus metrics: events in/out, handler latency, retries, lag."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.integration.runtime.agents_for_tests import TRIAGE, ticket
from tests.integration.runtime.harness import Bed, running

from corps.events.demo import TicketOpened, TicketTriaged

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_metrics_endpoint_counts_what_happened(bed: Bed) -> None:
    source, sink = bed.topic("opened"), bed.topic("triaged")
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}), telemetry={"metrics_port": 0}
    )
    for n in range(25):
        bed.publish(source, ticket(n), workflow_id=f"wf-{n}")
    bed.produce_raw(source, b"wf-poison", b"not avro", [])
    bed.flush()
    async with running(TRIAGE, settings) as worker:
        await bed.aread(sink, 25)
        await bed.aread(worker.processor.dead_letter_topic, 1)
        assert worker.metrics_port
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{worker.metrics_port}/metrics")
        await asyncio.sleep(0)
    assert response.status_code == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    labels = (("agent", "triage"), ("event_type", TicketOpened.event_type))
    assert samples[("corps_events_in_total", labels)] == 25
    out_labels = (("agent", "triage"), ("event_type", TicketTriaged.event_type))
    assert samples[("corps_events_out_total", out_labels)] == 25
    assert samples[("corps_handler_seconds_count", labels)] == 25
    assert samples[("corps_dead_letters_total", (("agent", "triage"), ("reason", "bad-envelope")))] == 1
    lag = [v for (name, _), v in samples.items() if name == "corps_consumer_lag"]
    assert lag
    assert all(v >= 0 for v in lag)

"""``--traces otlp``: two agent processes export their spans over OTLP/HTTP; one workflow is one trace.

The collector is a tiny HTTP server in the test that decodes the OTLP protobuf requests for real
(``opentelemetry-proto``), so what is asserted is what a Jaeger / Tempo / OTel Collector would receive.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from tests.integration.runtime.agents_for_tests import ticket
from tests.integration.runtime.harness import AgentProcess, Bed

from corps.events.demo import RefundIssued, TicketOpened, TicketTriaged

pytestmark = [pytest.mark.integration]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
AGENTS = "tests.integration.runtime.agents_for_tests"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, str]


class Collector:
    """Receives ``POST /v1/traces`` (OTLP/HTTP, protobuf, optionally gzip) and keeps the spans."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.receive(self.path, self.headers.get("Content-Type", ""), body)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def receive(self, path: str, content_type: str, body: bytes) -> None:
        assert content_type == "application/x-protobuf"
        self.paths.append(path)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=resource.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            attributes={a.key: a.value.string_value for a in span.attributes},
                        )
                    )


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    c.thread.start()
    try:
        yield c
    finally:
        c.server.shutdown()
        c.server.server_close()


def test_two_agent_processes_export_one_trace_over_otlp(
    bed: Bed, collector: Collector, tmp_path: Path
) -> None:
    opened, triaged, refunds = bed.topic("opened"), bed.topic("triaged"), bed.topic("refunds")
    telemetry = {"traces": "otlp", "otlp_endpoint": collector.endpoint}
    first = bed.settings(bed.routing({TicketOpened: opened}, {TicketTriaged: triaged}), telemetry=telemetry)
    second = bed.settings(bed.routing({TicketTriaged: triaged}, {RefundIssued: refunds}), telemetry=telemetry)
    sent = bed.publish(
        opened, ticket(1), workflow_id="wf-otlp", traceparent=f"00-{TRACE_ID}-{CALLER_SPAN}-01"
    )
    bed.flush()
    with (
        AgentProcess(f"{AGENTS}:TRIAGE", first, tmp_path, "triage") as triage,
        AgentProcess(f"{AGENTS}:REFUNDS", second, tmp_path, "refunds") as refund,
    ):
        triage.wait_running()
        refund.wait_running()
        [out] = bed.read(refunds, 1)
        # SIGTERM: each process shuts its tracer provider down, which exports the spans still batched
        assert triage.terminate() == 0, triage.log()
        assert refund.terminate() == 0, refund.log()
    env, _ = bed.decode(out, RefundIssued)
    assert env.workflow_id == sent.workflow_id
    assert set(collector.paths) == {"/v1/traces"}
    ours = [s for s in collector.spans if s.attributes.get("corps.workflow_id") == "wf-otlp"]
    by_service = {s.service: s for s in ours}
    assert sorted(by_service) == ["refunds", "triage"], collector.spans
    hop1, hop2 = by_service["triage"], by_service["refunds"]
    assert hop1.name == f"triage process {TicketOpened.event_type}"
    assert hop2.name == f"refunds process {TicketTriaged.event_type}"
    assert hop1.trace_id == hop2.trace_id == TRACE_ID  # one trace, the caller's, across both processes
    assert hop1.parent_span_id == CALLER_SPAN
    assert hop2.parent_span_id == hop1.span_id
    assert env.traceparent == f"00-{TRACE_ID}-{hop2.span_id}-01"  # the output carries it onward

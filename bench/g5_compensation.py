"""G5's failure latency: from a proposed StepFailed to the CompensationRequested it causes.

StepFailed reports are sent at a fixed rate, each with its send time in CLOCK_MONOTONIC carried in
``last_error``; a sink in its own process reads the admitted lifecycle topic (read_committed) and
measures until the CompensationRequested: gate, saga, lifecycle write and one transaction.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from io import BytesIO
from multiprocessing.synchronize import Event
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from fastavro import parse_schema, schemaless_reader

from bench.context import BenchContext
from bench.g3_stage import Stage, collect, make_stage
from bench.stats import LatencySummary
from bench.wire import CONSUMER, LATENCY_PRODUCER, SOCKET, THROUGHPUT_PRODUCER
from corps.events import Envelope, EventCodec, EventModel, SchemaRegistry
from corps.events.demo import RefundIssued, TicketOpened, TicketTriaged
from corps.events.lifecycle import CompensationRequested, StepFailed
from corps.orchestrator.topics import TopologyTopics
from corps.settings import RegistrySettings

__all__ = ["RATE", "compensation_latency", "run_compensation_sink"]

RATE = 100.0
_FAILURES_WARMUP_S = 3.0
_FAILURES_S = 15.0
_SPAWN = mp.get_context("spawn")


def run_compensation_sink(
    base: dict[str, str],
    topic: str,
    partitions: int,
    expected: int,
    deadline_s: float,
    ready: Event,
    out: Any,
) -> None:
    """Read CompensationRequested records until ``expected`` measured ones arrived; report latencies."""
    consumer = Consumer(
        {**base, **SOCKET, **CONSUMER, "group.id": f"sink-{topic}", "isolation.level": "read_committed"}
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    consumer.consume(1, 0)
    ready.set()
    schema = parse_schema(dict(CompensationRequested.avro_schema))
    wanted = CompensationRequested.event_type.encode()
    latencies: list[float] = []
    give_up = time.monotonic() + deadline_s
    while len(latencies) < expected and time.monotonic() < give_up:
        messages = consumer.consume(1000, 0) or consumer.consume(1, 0.1)
        now = time.monotonic_ns()
        for message in messages:
            value = message.value()
            if message.error() is not None or value is None:
                continue
            if dict(message.headers() or ()).get("ce_type") != wanted:
                continue
            body = schemaless_reader(BytesIO(value[5:]), schema, None)
            reason = str(body["reason"])  # type: ignore[index,call-overload]
            marker = reason.rpartition("sent_ns=")[2]
            if reason.startswith("NON_RETRYABLE: measured") and marker.isdigit():
                latencies.append((now - int(marker)) / 1e6)
    consumer.close()
    out.put({"latencies_ms": latencies})


class _Proposer:
    """Writes proposed domain events and StepFailed reports of the G3 topology from the bench process."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.topics = TopologyTopics.of(stage.topology)
        self.registry = SchemaRegistry(RegistrySettings(url=stage.ctx.registry_url))
        self.codec = EventCodec(self.registry, subject_strategy=self.topics.subject)
        self.bulk = Producer({**stage.ctx.client_config, **THROUGHPUT_PRODUCER})
        self.paced = Producer({**stage.ctx.client_config, **LATENCY_PRODUCER})

    def send(
        self, producer: Producer, topic: str, payload: EventModel, workflow_id: str, step: str | None
    ) -> None:
        envelope = Envelope.new(
            payload.event_type, tenant="bench", workflow_id=workflow_id, source="bench", step=step
        )
        record = self.codec.encode(topic, payload, envelope)
        while True:
            try:
                producer.produce(record.topic, record.value, record.key, headers=cast(Any, record.headers))
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)

    def prepare(self, workflows: list[str]) -> None:
        """Run every workflow to a completed compensable step (refund), one event type at a time."""
        triaged = TicketTriaged(ticket_id="t", category="BILLING", priority="NORMAL", needs_refund=True)
        events: list[tuple[str, EventModel, str | None]] = [
            ("TicketOpened", TicketOpened.model_validate(_ticket()), None),
            ("TicketTriaged", triaged, "triage"),
            ("RefundIssued", RefundIssued(ticket_id="t", refund_id="r", amount_cents=1250), "refund"),
        ]
        for name, payload, step in events:
            proposed = next(t for t, e in self.topics.proposed.items() if e == name)
            for workflow_id in workflows:
                self.send(self.bulk, proposed, payload, workflow_id, step)
            self.bulk.flush(60)
            _await_count(self.stage, self.topics.admitted[name], len(workflows))

    def fail(self, workflows: list[str], warmup: int, rate: float) -> None:
        """Propose StepFailed for ``draft`` of each workflow at ``rate`` per second."""
        interval, started = 1.0 / rate, time.perf_counter()
        for seq, workflow_id in enumerate(workflows):
            due = started + seq * interval
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            tag = "warmup" if seq < warmup else "measured"
            failed = StepFailed(
                step="draft",
                agent="writer",
                code="NON_RETRYABLE",
                attempts=1,
                last_error=f"{tag} sent_ns={time.monotonic_ns()}",
                retryable=False,
            )
            self.send(self.paced, self.topics.lifecycle_proposed, failed, workflow_id, "draft")
        self.paced.flush(60)

    def close(self) -> None:
        self.registry.close()


def _ticket() -> dict[str, Any]:
    return {
        "ticket_id": "t",
        "customer": {"customer_id": "c", "name": "Ada", "email": "ada@example.com"},
        "subject": "refund please",
        "body": "broken",
        "refund_amount_cents": 1250,
    }


def _await_count(stage: Stage, topic: str, count: int, timeout_s: float = 300.0) -> None:
    consumer = Consumer({**stage.ctx.client_config, **CONSUMER, "group.id": stage.ctx.unique_name("count")})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(stage.partitions)])
    seen, give_up = 0, time.monotonic() + timeout_s
    try:
        while seen < count:
            if time.monotonic() > give_up:
                raise TimeoutError(f"{topic}: {seen} of {count} records within {timeout_s} s")
            stage.check()
            seen += sum(m.error() is None for m in consumer.consume(10_000, 0.2))
    finally:
        consumer.close()


def compensation_latency(ctx: BenchContext) -> tuple[LatencySummary, int, int]:
    """Prepare workflows to a completed compensable step, fail them at :data:`RATE`; return the latencies."""
    stage = make_stage(ctx, "g5comp")
    proposer = _Proposer(stage)
    try:
        stage.start_orchestrator()
        warmup = round(RATE * ctx.scale.seconds(_FAILURES_WARMUP_S))
        measured = round(RATE * ctx.scale.seconds(_FAILURES_S))
        workflows = [f"c-{n}" for n in range(warmup + measured)]
        proposer.prepare(workflows)
        ready = _SPAWN.Event()
        out: Any = _SPAWN.Queue()
        deadline = 120 + (warmup + measured) / RATE
        args = (
            ctx.client_config,
            proposer.topics.lifecycle,
            stage.partitions,
            measured,
            deadline,
            ready,
            out,
        )
        process = _SPAWN.Process(
            target=run_compensation_sink, args=args, name="compensation sink", daemon=True
        )
        process.start()
        if not ready.wait(60):
            raise TimeoutError("compensation sink not ready within 60 s")
        proposer.fail(workflows, warmup, RATE)
        report = collect(stage, process, out, deadline)
    finally:
        proposer.close()
        stage.stop()
    samples: list[float] = report["latencies_ms"]
    if not samples:
        raise RuntimeError("G5: no CompensationRequested arrived")
    return LatencySummary.of(samples), measured, len(samples)

"""G5: what the orchestrator stage costs, and how fast it reacts to a failure.

* ``G5.on_wf_per_s`` vs ``G5.off_wf_per_s`` — the G3 choreography (three exactly-once agents, every
  event through the gate) flat out with the orchestrator stage on (saga, WorkflowStarted/Completed, the
  state changelog) and off (``--gate-only``): the ratio, goal >= 0.85. Two pairs, in the order off, on,
  on, off, each on a fresh copy of the topology; the figures are the sums of workflows over the sums of
  seconds, so load that comes and goes on the machine weighs on both sides alike.
* ``G5.compensation_p50_ms`` / ``_p99_ms`` — from a proposed StepFailed (sent at a fixed rate, its
  send time in CLOCK_MONOTONIC carried in ``last_error``) to the CompensationRequested it causes on the
  admitted lifecycle topic (read_committed): gate, saga, lifecycle write and one transaction.
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
from bench.g3_stage import (
    ORCHESTRATOR_REPLICAS,
    Stage,
    TicketSource,
    await_probe,
    collect,
    make_stage,
    start_sink,
)
from bench.results import Result
from bench.stats import LatencySummary
from bench.wire import CONSUMER, LATENCY_PRODUCER, SOCKET, THROUGHPUT_PRODUCER
from corps.events import Envelope, EventCodec, EventModel, SchemaRegistry
from corps.events.demo import RefundIssued, TicketOpened, TicketTriaged
from corps.events.lifecycle import CompensationRequested, StepFailed
from corps.orchestrator.topics import TopologyTopics
from corps.settings import RegistrySettings

ID = "G5"
TITLE = "orchestrator stage on/off (choreography workflows/s) and StepFailed -> CompensationRequested"
NEEDS: tuple[str, ...] = ()

RATE = 100.0
_WORKFLOWS = 20_000
_FAILURES_WARMUP_S = 3.0
_FAILURES_S = 15.0
_SPAWN = mp.get_context("spawn")


def _throughput(ctx: BenchContext, workflows: int, *, orchestrate: bool, replicas: int) -> tuple[int, float]:
    stage = make_stage(ctx, "g5on" if orchestrate else "g5off")
    try:
        stage.start_orchestrator(orchestrate=orchestrate, replicas=replicas)
        stage.start_agents()
        await_probe(stage, TicketSource(stage, latency=True))
        process, out = start_sink(stage, stage.topic("ReplyDrafted"), "t", workflows, 900)
        started = TicketSource(stage, latency=False).blast(workflows)
        report = collect(stage, process, out, 900)
    finally:
        stage.stop()
    return int(report["received"]), (report["last_ns"] - started) / 1e9


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


def _compensation_latency(ctx: BenchContext) -> tuple[LatencySummary, int, int]:
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


def run(ctx: BenchContext, replicas: int = ORCHESTRATOR_REPLICAS) -> list[Result]:
    """Two on/off pairs of the choreography flat out, then the failure-to-compensation latency.

    ``replicas`` orchestrator processes run in every throughput round, on and off alike.
    """
    workflows = ctx.scale.count(_WORKFLOWS, minimum=2000)
    totals = {True: [0, 0.0], False: [0, 0.0]}
    rounds: list[dict[str, Any]] = []
    for orchestrate in (False, True, True, False):
        done, seconds = _throughput(ctx, workflows, orchestrate=orchestrate, replicas=replicas)
        totals[orchestrate][0] += done
        totals[orchestrate][1] += seconds
        rounds.append({"orchestrator": orchestrate, "workflows": done, "wf_per_s": round(done / seconds, 1)})
    on = totals[True][0] / totals[True][1]
    off = totals[False][0] / totals[False][1]
    summary, sent, received = _compensation_latency(ctx)
    common = {
        "workflows_per_run": workflows,
        "rounds": rounds,
        "partitions": ctx.partitions,
        "orchestrator_replicas": replicas,
    }
    latency_detail = {
        **summary.as_detail(),
        "rate_failures_per_s": RATE,
        "sent": sent,
        "received": received,
        "setup": "StepFailed(draft) proposed after triage + refund completed; measured to the admitted "
        "CompensationRequested(refund); orchestrator its own process (corps CLI), sink read_committed",
    }
    return [
        Result(
            id="G5.off_wf_per_s",
            label="choreography flat out, orchestrator off (gate only)",
            value=round(off),
            unit="wf/s",
            detail=common,
        ),
        Result(
            id="G5.on_wf_per_s",
            label="choreography flat out, orchestrator on",
            value=round(on),
            unit="wf/s",
            baseline_id="G5.off_wf_per_s",
            goal_ratio=0.85,
            detail=common,
        ),
        Result(
            id="G5.compensation_p50_ms",
            label="StepFailed -> CompensationRequested p50",
            value=round(summary.p50_ms, 3),
            unit="ms",
            detail=latency_detail,
        ),
        Result(
            id="G5.compensation_p99_ms",
            label="StepFailed -> CompensationRequested p99",
            value=round(summary.p99_ms, 3),
            unit="ms",
            detail={"from": "the G5.compensation_p50_ms run"},
        ),
    ]

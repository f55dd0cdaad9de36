"""G6: `corps replay` — read, decode with writer schemas, fold into timelines — vs raw consume (B2).

The log is the one a running gate + orchestrator writes: a fresh copy of the demo support topology
(``topology/support.yaml``, its own workflow name, the run's partition count) and workflows run through
the real pipeline (:class:`corps.orchestrator.pipeline.Pipeline`, the service's gate and orchestrator
without the Kafka loop): every proposed event, its admitted copy, a hash-chained decision per event,
WorkflowStarted / WorkflowCompleted — 19 records a workflow on 17 topics, produced with their
timestamps. TicketTriaged and RefundIssued are written with their v1 schemas, while the topology reads
v2.

Figures (each the median of 3 passes after a warm-up pass; a pass is timed from its first batch to the
built timelines, like B2 from its first batch to its last record):

* ``G6.replay_msgs_per_s`` — :meth:`corps.replay.Replayer.run` over every topic a replay reads by
  default: each record's envelope read from its headers and its payload decoded with its writer's
  schema (cached per id) where the fold needs it (decisions, lifecycle events: no payloads are kept),
  the others' frames checked, then folded into per-workflow timelines (statuses, steps, decisions,
  durations); vs ``B2.msgs_per_s`` (goal >= 0.40), and vs raw passes over the same topics alternated
  with it (``G6.replay_paired``: load-robust).
* ``G6.replay_workers_msgs_per_s`` — the same replay with ``workers=2``: partition groups read and
  folded in two spawned processes, merged in partition order (timed from the call: process start-up
  included); goal >= 0.40 of B2.
* ``G6.replay_projected_msgs_per_s`` — the TicketTriaged and RefundIssued topics only (every record
  written v1), decoded *with schema resolution* onto the v2 the topology declares, payloads kept (a
  replay that keeps no payloads would leave these bodies unread); goal >= 0.25 of B2.
* ``G6.verify_msgs_per_s`` — one pass of ``--verify`` (chains recomputed, every workflow re-derived by the
  orchestrator's own code, decisions re-taken) over a log of its own of 100,000 records (full scale);
  for scale, no goal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from bench.context import BenchContext
from bench.results import Result
from bench.wire import CONSUMER, THROUGHPUT_PRODUCER, consumer_config
from corps.events import (
    Envelope,
    EventCodec,
    EventModel,
    RawRecord,
    SchemaCatalog,
    SchemaRegistry,
    register_subject,
)
from corps.events.demo import Customer, ReplyDrafted, ReplySent, TicketOpened
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.replay import Replayer, ReplayOptions, topology_readers
from corps.replay.reader import Span
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology import (
    Topology,
    desired_topics,
    diff_topics,
    execute_plan,
    load_topology,
    read_cluster,
    schema_subjects,
    wait_converged,
)

ID = "G6"
TITLE = "corps replay: decode with writer schemas + fold into timelines vs raw consume (B2)"
NEEDS: tuple[str, ...] = ("B2",)

REPO = Path(__file__).resolve().parents[1]
_EVENTS = 1_000_000
_PER_WORKFLOW = 19
_PASSES = 3
_VERIFY_EVENTS = 100_000
_COMMIT_EVERY = 200
_WORKERS = 2  # the benchmark machine's cores
_TENANTS = ("acme", "globex", "initech", "umbrella", "hooli")


def _stage(ctx: BenchContext) -> tuple[Topology, Path, SchemaCatalog]:
    """A fresh copy of the support topology: created topics, every schema version registered."""
    workdir = Path(tempfile.mkdtemp(prefix="corps-g6-"))
    name = ctx.unique_name("g6").lower()
    text = (REPO / "topology" / "support.yaml").read_text(encoding="utf-8")
    text = text.replace("name: support", f"name: {name}", 1).replace(
        "partitions: 6", f"partitions: {ctx.partitions}", 1
    )
    file = workdir / f"{name}.yaml"
    file.write_text(text, encoding="utf-8")
    topology = load_topology(file).topology
    wanted = desired_topics(topology)
    execute_plan(ctx.admin, diff_topics(wanted, read_cluster(ctx.admin, wanted)))
    wait_converged(ctx.admin, wanted)
    catalog = SchemaCatalog.load(REPO / "schemas")
    with SchemaRegistry(RegistrySettings(url=ctx.registry_url)) as registry:
        for subject_name, subject in schema_subjects(topology, catalog):
            register_subject(registry, subject_name, subject)
    return topology, file, catalog


class _Writer:
    """Runs workflows through the real pipeline and produces everything it reads and writes."""

    def __init__(self, ctx: BenchContext, topology: Topology, catalog: SchemaCatalog) -> None:
        self.topology = topology
        self.topics = TopologyTopics.of(topology)
        self.registry = SchemaRegistry(RegistrySettings(url=ctx.registry_url))
        self.codec = EventCodec(self.registry, subject_strategy=self.topics.subject)
        self.pipeline = Pipeline(topology, self.codec)
        self.producer = Producer({**ctx.client_config, **THROUGHPUT_PRODUCER})
        self.partitions = topology.topics.partitions
        self.v1 = {
            "TicketTriaged": catalog["demo.support.TicketTriaged"].version(1),
            "RefundIssued": catalog["demo.support.RefundIssued"].version(1),
        }
        self.proposed = {e: t for t, e in self.topics.proposed.items() if e is not None}
        self.t0 = datetime.now(UTC) - timedelta(hours=1)
        self.count = 0

    def _produce(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None, headers: Any, ms: int
    ) -> None:
        while True:
            try:
                self.producer.produce(topic, value, key, partition=partition, headers=headers, timestamp=ms)
                break
            except BufferError:
                self.producer.poll(0.01)
        self.count += 1

    def _step(
        self,
        name: str,
        datum: Any,
        wf: str,
        partition: int,
        at: datetime,
        step: str | None,
        source: str,
        cause: str | None,
    ) -> str:
        fullname = self.topology.schema_fullname(name)
        envelope = Envelope.new(
            fullname,
            tenant=_TENANTS[partition % len(_TENANTS)],
            workflow_id=wf,
            time=at,
            source=source,
            step=step,
            causation_id=cause,
        )
        topic = self.proposed[name]
        if isinstance(datum, EventModel):
            record = self.codec.encode(topic, datum, envelope)
        else:
            record = self.codec.encode_datum(topic, self.v1[name], datum, envelope)
        ms = int(at.timestamp() * 1000)
        self._produce(topic, partition, record.key, record.value, record.headers, ms)
        raw = RawRecord(topic, partition, 0, record.key, record.value, record.headers, ms)
        self.pipeline.handle(raw, at)
        return envelope.id

    def workflow(self, seq: int) -> None:
        wf = f"wf-{seq:09d}"
        partition = seq % self.partitions
        at = self.t0 + timedelta(milliseconds=seq)
        ticket = f"T-{seq}"
        opened = TicketOpened(
            ticket_id=ticket,
            customer=Customer(customer_id=f"C-{seq % 977}", name="Ann Example", email="ann@example.com"),
            subject="Refund for order 1234",
            body="It arrived broken.",
            refund_amount_cents=1250,
            tags=("billing",),
        )
        cause = self._step("TicketOpened", opened, wf, partition, at, None, "helpdesk", None)
        triaged = {"ticket_id": ticket, "category": "BILLING", "priority": "NORMAL", "needs_refund": True}
        cause = self._step(
            "TicketTriaged",
            triaged,
            wf,
            partition,
            at + timedelta(milliseconds=40),
            "triage",
            "triage",
            cause,
        )
        refund = {"ticket_id": ticket, "refund_id": f"R-{seq}", "amount_cents": 1250, "currency": "EUR"}
        cause = self._step(
            "RefundIssued", refund, wf, partition, at + timedelta(milliseconds=90), "refund", "refunds", cause
        )
        draft = ReplyDrafted(ticket_id=ticket, body="We refunded 12.50 EUR.", model="small")
        cause = self._step(
            "ReplyDrafted", draft, wf, partition, at + timedelta(milliseconds=400), "draft", "writer", cause
        )
        sent = ReplySent(ticket_id=ticket, channel="EMAIL", message_id=f"M-{seq}")
        self._step(
            "ReplySent", sent, wf, partition, at + timedelta(milliseconds=450), "send", "sender", cause
        )

    def flush_pipeline(self) -> None:
        out: list[OutRecord] = self.pipeline.outputs
        for record in out:
            ms = _header_ms(record)
            self._produce(record.topic, record.partition, record.key, record.value, record.headers, ms)
        self.pipeline.commit()
        self.producer.poll(0)

    def close(self) -> None:
        remaining = self.producer.flush(120)
        self.registry.close()
        if remaining:
            raise RuntimeError(f"G6: {remaining} records not delivered")


def _header_ms(record: OutRecord) -> int:
    for name, value in record.headers:
        if name == "ce_time" and value is not None:
            return int(datetime.fromisoformat(value.decode()).timestamp() * 1000)
    return 0


def _fill(ctx: BenchContext, topology: Topology, catalog: SchemaCatalog, workflows: int) -> tuple[int, float]:
    writer = _Writer(ctx, topology, catalog)
    started = time.perf_counter()
    try:
        for seq in range(workflows):
            writer.workflow(seq)
            if seq % _COMMIT_EVERY == _COMMIT_EVERY - 1:
                writer.flush_pipeline()
        writer.flush_pipeline()
    finally:
        writer.close()
    return writer.count, time.perf_counter() - started


def _raw_pass(ctx: BenchContext, spans: list[Span]) -> tuple[int, float]:
    """Read the spans like B2 (fresh consumer, assign, count records without error)."""
    consumer = Consumer(
        {**consumer_config(ctx.client_config, ctx.unique_name("g6raw")), "isolation.level": "read_committed"}
    )
    wanted = sum(s.size for s in spans)
    try:
        consumer.assign([TopicPartition(s.topic, s.partition, s.start) for s in spans if s.size])
        remaining, first_at, after_first = wanted, 0.0, 0
        deadline = time.perf_counter() + 600
        while remaining > 0:
            messages = consumer.consume(min(remaining, 5000), 1.0)
            for message in messages:
                if message.error() is None:
                    remaining -= 1
            if messages and not first_at:
                first_at, after_first = time.perf_counter(), remaining
            if time.perf_counter() > deadline:
                raise TimeoutError(f"G6 raw pass: {remaining} records not read after 600 s")
        return after_first, time.perf_counter() - first_at
    finally:
        consumer.close()


def _replay_pass(replayer: Replayer, options: ReplayOptions, spans: list[Span]) -> tuple[int, float, Any]:
    """One replay; returns (records after the first batch, seconds from the first batch to the timelines)."""
    first: list[float] = []
    seen = [0]

    def on_batch(n: int) -> None:
        if not first:
            first.append(time.perf_counter())
            seen.append(n)
        seen[0] += n

    report = replayer.run(options, spans=spans, on_batch=on_batch)
    elapsed = time.perf_counter() - first[0]
    return report.records - seen[1], elapsed, report


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def run(ctx: BenchContext) -> list[Result]:
    """Fill a topology's log through the real pipeline, then time replays against raw passes."""
    workflows = max(50, ctx.scale.count(_EVENTS) // _PER_WORKFLOW)
    kafka = KafkaSettings(bootstrap_servers=ctx.bootstrap_servers)
    registry = RegistrySettings(url=ctx.registry_url)
    topology, _, catalog = _stage(ctx)
    topics = TopologyTopics.of(topology)
    try:
        produced, fill_s = _fill(ctx, topology, catalog, workflows)
        with Replayer(topology, kafka, registry) as replayer:
            plain = ReplayOptions(keep_data=False)
            spans = replayer.plan(plain)
            total = sum(s.size for s in spans)
            projected_topics = tuple(
                t
                for e in ("TicketTriaged", "RefundIssued")
                for t in (topics.admitted[e], _proposed(topics, e))
            )
            projected = ReplayOptions(  # payloads kept: every v1 body really is resolved onto v2
                topics=projected_topics, keep_data=True, readers=topology_readers(topology, REPO / "schemas")
            )
            parallel = dataclasses.replace(plain, workers=_WORKERS)
            projected_spans = replayer.plan(projected)
            replay_rates, raw_rates, proj_rates, proj_raw_rates, par_rates = [], [], [], [], []
            _replay_pass(replayer, plain, spans)  # warm-up: writer schemas fetched once per id
            _replay_pass(replayer, projected, projected_spans)
            statuses: dict[str, int] = {}
            for _ in range(_PASSES):
                raw_rates.append(_rate(*_raw_pass(ctx, spans)))
                count, seconds, report = _replay_pass(replayer, plain, spans)
                replay_rates.append(_rate(count, seconds))
                statuses = {k: v for k, v in report.by_status().items() if v}
                proj_raw_rates.append(_rate(*_raw_pass(ctx, projected_spans)))
                count, seconds, _ = _replay_pass(replayer, projected, projected_spans)
                proj_rates.append(_rate(count, seconds))
                started = time.perf_counter()  # workers: timed from the call (process start-up included)
                par_report = replayer.run(parallel, spans=spans)
                par_rates.append(_rate(par_report.records, time.perf_counter() - started))
            registry_calls = replayer.codec.registry_calls
    finally:
        _drop_topics(ctx, topology)
    verified, verify_s = _verify_pass(ctx, kafka, registry)
    verification = verified.verification
    common = {
        "workflows": workflows,
        "records": total,
        "records_produced": produced,
        "fill_s": round(fill_s, 1),
        "partitions": ctx.partitions,
        "topics": len({s.topic for s in spans}),
        "statuses": statuses,
        "registry_calls_total": registry_calls,
        "consumer": dict(CONSUMER),
    }
    replay = statistics.median(replay_rates)
    proj = statistics.median(proj_rates)
    par = statistics.median(par_rates)
    return [
        Result(
            id="G6.replay_msgs_per_s",
            label="replay: writer-schema decode + timeline fold",
            value=round(replay),
            unit="msgs/s",
            baseline_id="B2.msgs_per_s",
            goal_ratio=0.40,
            detail={
                **common,
                "pass_msgs_per_s": [round(r) for r in replay_rates],
                "statistic": f"median of {_PASSES} passes after a warm-up pass",
            },
        ),
        Result(
            id="G6.replay_paired",
            label="replay vs raw passes over the same topics, alternated",
            value=round(replay),
            unit="msgs/s",
            ratio=round(replay / statistics.median(raw_rates), 3),
            goal_ratio=0.40,
            detail={
                "raw_msgs_per_s": [round(r) for r in raw_rates],
                "corps_msgs_per_s": [round(r) for r in replay_rates],
            },
        ),
        Result(
            id="G6.replay_workers_msgs_per_s",
            label=f"replay in {_WORKERS} worker processes (partition groups, merged; start-up included)",
            value=round(par),
            unit="msgs/s",
            baseline_id="B2.msgs_per_s",
            goal_ratio=0.40,
            detail={
                "workers": _WORKERS,
                "pass_msgs_per_s": [round(r) for r in par_rates],
                "vs_one_process": round(par / replay, 2) if replay else None,
                "statistic": f"median of {_PASSES} passes, each timed from the call to the built timelines",
            },
        ),
        Result(
            id="G6.replay_projected_msgs_per_s",
            label="replay with reader != writer schema (v1 records read as v2)",
            value=round(proj),
            unit="msgs/s",
            baseline_id="B2.msgs_per_s",
            goal_ratio=0.25,
            detail={
                "records": sum(s.size for s in projected_spans),
                "topics": list(projected_topics),
                "pass_msgs_per_s": [round(r) for r in proj_rates],
                "raw_msgs_per_s": [round(r) for r in proj_raw_rates],
                "paired_ratio": round(proj / statistics.median(proj_raw_rates), 3),
            },
        ),
        Result(
            id="G6.verify_msgs_per_s",
            label="replay --verify: chains + re-derived state + re-taken decisions (one pass)",
            value=round(verified.records / verify_s) if verify_s > 0 else 0,
            unit="msgs/s",
            detail={
                "records": verified.records,
                "seconds": round(verify_s, 1),
                "ok": verification.ok if verification else None,
                "counts": dict(verification.counts) if verification else {},
            },
        ),
    ]


def _verify_pass(ctx: BenchContext, kafka: KafkaSettings, registry: RegistrySettings) -> tuple[Any, float]:
    """One ``--verify`` replay of a log of its own (at most 100,000 records at full scale)."""
    topology, _, catalog = _stage(ctx)
    try:
        _fill(ctx, topology, catalog, max(20, ctx.scale.count(_VERIFY_EVENTS) // _PER_WORKFLOW))
        with Replayer(topology, kafka, registry) as replayer:
            started = time.perf_counter()
            report = replayer.run(ReplayOptions(keep_data=False, verify=True))
            return report, time.perf_counter() - started
    finally:
        _drop_topics(ctx, topology)


def _proposed(topics: TopologyTopics, event: str) -> str:
    return next(t for t, e in topics.proposed.items() if e == event)


def _drop_topics(ctx: BenchContext, topology: Topology) -> None:
    names = [spec.name for spec in desired_topics(topology)]
    for future in ctx.admin.delete_topics(names, operation_timeout=30).values():
        with contextlib.suppress(KafkaException):  # already gone: nothing to clean up
            future.result(timeout=60)

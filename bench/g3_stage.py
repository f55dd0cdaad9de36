"""The stage G3 and G5 run on: a 3-step choreography, its processes, a ticket source and a sink.

``TicketOpened -> triage -> TicketTriaged -> refunds -> RefundIssued -> writer -> ReplyDrafted`` on the
demo support events. Every process is the real thing started the way an operator starts it: ``corps
orchestrator run --topology FILE`` (gate + orchestrator, or ``--gate-only``) and ``corps agent run
bench.g3_agents:<AGENT> --topology FILE`` (exactly-once agents), each its own OS process. The source
writes proposed TicketOpened records from the bench process; the sink, in its own process, reads the
admitted ReplyDrafted topic (read_committed). A workflow id is ``<tag>-<seq>-<send ns>`` (tag ``p``
probe, ``w`` warm-up, ``m`` measured; CLOCK_MONOTONIC, shared by the machine's processes), so the sink
measures end-to-end latency without any clock synchronisation.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from bench.context import BenchContext
from bench.wire import CONSUMER, LATENCY_PRODUCER, SOCKET, THROUGHPUT_PRODUCER
from corps.events import Envelope, EventCodec, SchemaCatalog, SchemaRegistry, register_subject
from corps.events.demo import Customer, TicketOpened
from corps.settings import RegistrySettings
from corps.topology import (
    Topology,
    admitted_topic,
    desired_topics,
    diff_topics,
    execute_plan,
    load_topology,
    proposed_topic,
    read_cluster,
    schema_subjects,
    wait_converged,
)

__all__ = [
    "AGENTS",
    "ORCHESTRATOR_REPLICAS",
    "Stage",
    "TicketSource",
    "await_probe",
    "collect",
    "make_stage",
    "run_sink",
    "start_sink",
]

REPO = Path(__file__).resolve().parents[1]
CORPS = Path(sys.executable).with_name("corps")
AGENTS = ("TRIAGE", "REFUNDS", "WRITER")
ORCHESTRATOR_REPLICAS = 1
"""Orchestrator processes of a stage (one consumer group, sharing the partitions). G3 and G5 use the
same count for every run, so G5's on/off ratio compares like with like. 1, by measurement on the
2-core machine: a second replica did not raise G5 on/off nor G3 (every core is already busy)."""
AGENT_BATCH_WAIT_MS = 5
AGENT_CONFIG = f"""
batch: {{max_wait_ms: {AGENT_BATCH_WAIT_MS}}}
# Back-to-back transactions meet CONCURRENT_TRANSACTIONS; librdkafka's default 100 ms retry backoff
# then dominates a hop's latency (the orchestrator service sets the same).
producer_config: {{retry.backoff.ms: 5, retry.backoff.max.ms: 100}}
"""
_SPAWN = mp.get_context("spawn")

TOPOLOGY = """
workflow: {{name: {name}, version: 1}}
namespace: demo.support
topics: {{partitions: {partitions}}}
defaults:
  timeout: 10m
  retry: {{max_attempts: 1}}
  compensation_timeout: 10m
agents: {{triage: {{}}, refunds: {{}}, writer: {{}}}}
events:
  TicketOpened: {{}}
  TicketTriaged: {{version: 2}}
  RefundIssued: {{version: 2}}
  RefundReversed: {{}}
  ReplyDrafted: {{}}
start: [TicketOpened]
complete: [ReplyDrafted]
steps:
  triage: {{agent: triage, on: TicketOpened, emits: [TicketTriaged], side_effects: false}}
  refund: {{agent: refunds, on: TicketTriaged, emits: [RefundIssued], compensation: RefundReversed}}
  draft: {{agent: writer, on: RefundIssued, emits: [ReplyDrafted], side_effects: false}}
"""


@dataclass
class Stage:
    """A provisioned topology and the processes running it."""

    ctx: BenchContext
    topology: Topology
    file: Path
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.topology.workflow.name

    @property
    def partitions(self) -> int:
        return self.topology.topics.partitions

    def topic(self, event: str, *, proposed: bool = False) -> str:
        return proposed_topic(self.name, event) if proposed else admitted_topic(self.name, event)

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.ctx.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": self.ctx.registry_url,
        }

    def _spawn(self, label: str, args: list[str], program: Path = CORPS) -> None:
        log = (self.workdir / f"{label}.log").open("ab")
        self.processes[label] = subprocess.Popen(
            [str(program), *args], env=self._env(), cwd=REPO, stdout=log, stderr=log
        )

    def start_python(self, label: str, args: list[str]) -> None:
        """Start ``python ARGS`` (this interpreter) as a process of the stage, logging to ``label``.log."""
        self._spawn(label, args, Path(sys.executable))

    def start_orchestrator(self, *, orchestrate: bool = True, replicas: int = ORCHESTRATOR_REPLICAS) -> None:
        """Start ``replicas`` orchestrator processes (one consumer group: they share the partitions)."""
        for replica in range(replicas):
            args = ["orchestrator", "run", "--topology", str(self.file), "--log-level", "warning"]
            args += ["--instance-id", self.ctx.unique_name("orch")]
            if not orchestrate:
                args.append("--gate-only")
            self._spawn("orchestrator" if replica == 0 else f"orchestrator-{replica}", args)

    def start_agents(self) -> None:
        config = self.workdir / "agent.yaml"
        config.write_text(AGENT_CONFIG, encoding="utf-8")
        for agent in AGENTS:
            args = ["agent", "run", f"bench.g3_agents:{agent}", "--topology", str(self.file)]
            args += ["--config", str(config), "--group-id", self.ctx.unique_name(agent.lower())]
            args += ["--instance-id", self.ctx.unique_name("i"), "--log-level", "warning"]
            self._spawn(agent.lower(), args)

    def check(self) -> None:
        """Raise when a process of the stage has died."""
        for label, process in self.processes.items():
            code = process.poll()
            if code is not None:
                tail = (self.workdir / f"{label}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{label} exited with {code}:\n{tail}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.processes.clear()


def make_stage(ctx: BenchContext, label: str) -> Stage:
    """Write, create and register a fresh copy of the choreography (its own topics and subjects)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"corps-{label}-"))
    name = ctx.unique_name(label).lower()
    file = workdir / f"{name}.yaml"
    file.write_text(TOPOLOGY.format(name=name, partitions=ctx.partitions), encoding="utf-8")
    topology = load_topology(file).topology
    wanted = desired_topics(topology)
    execute_plan(ctx.admin, diff_topics(wanted, read_cluster(ctx.admin, wanted)))
    wait_converged(ctx.admin, wanted)
    catalog = SchemaCatalog.load(REPO / "schemas")
    with SchemaRegistry(RegistrySettings(url=ctx.registry_url)) as registry:
        for subject_name, subject in schema_subjects(topology, catalog):
            register_subject(registry, subject_name, subject)
    return Stage(ctx, topology, file, workdir)


class TicketSource:
    """Writes proposed TicketOpened records (one payload, a fresh envelope per workflow)."""

    def __init__(self, stage: Stage, *, latency: bool) -> None:
        self.topic = stage.topic("TicketOpened", proposed=True)
        preset = LATENCY_PRODUCER if latency else THROUGHPUT_PRODUCER
        self.producer = Producer({**stage.ctx.client_config, **preset})
        registry = SchemaRegistry(RegistrySettings(url=stage.ctx.registry_url))
        payload = TicketOpened(
            ticket_id="t-1",
            customer=Customer(customer_id="c-1", name="Ada", email="ada@example.com"),
            subject="refund please",
            body="my order arrived broken",
            refund_amount_cents=1250,
        )
        template = Envelope.new(payload.event_type, tenant="bench", source="bench")
        self.value = EventCodec(registry).encode(self.topic, payload, template).value
        registry.close()

    def send(self, workflow_id: str) -> None:
        envelope = Envelope.new(
            TicketOpened.event_type, tenant="bench", workflow_id=workflow_id, source="bench"
        )
        while True:
            try:
                self.producer.produce(
                    self.topic, self.value, envelope.key, headers=cast(Any, envelope.to_headers())
                )
                break
            except BufferError:
                self.producer.poll(0.01)
        self.producer.poll(0)

    def paced(self, rate: float, warmup: int, measured: int) -> float:
        """Send at ``rate`` per second; return the worst lag behind schedule in ms."""
        interval, started, worst = 1.0 / rate, time.perf_counter(), 0.0
        for seq in range(warmup + measured):
            due = started + seq * interval
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            else:
                worst = max(worst, now - due)
            self.send(f"{'w' if seq < warmup else 'm'}-{seq}-{time.monotonic_ns()}")
        self.flush()
        return worst * 1000

    def blast(self, count: int, tag: str = "t") -> int:
        """Send ``count`` workflows flat out; return the monotonic ns when the first was sent."""
        started = time.monotonic_ns()
        for seq in range(count):
            self.send(f"{tag}-{seq}-0")
        self.flush()
        return started

    def flush(self) -> None:
        if self.producer.flush(60):
            raise RuntimeError(f"{self.topic}: records left unsent")


def run_sink(
    base: dict[str, str],
    topic: str,
    partitions: int,
    tag: bytes,
    expected: int,
    deadline_s: float,
    ready: Event,
    out: mp.Queue[dict[str, Any]],
) -> None:
    """Read ``topic`` until ``expected`` workflows tagged ``tag`` arrived; report counts, times, latencies.

    The report also holds the sink's own CPU seconds from when it was ready (``cpu_s``).
    """
    consumer = Consumer(
        {**base, **SOCKET, **CONSUMER, "group.id": f"sink-{topic}", "isolation.level": "read_committed"}
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    consumer.consume(1, 0)
    ready.set()
    cpu_started = time.process_time()
    latencies: list[float] = []
    seen: set[bytes] = set()
    duplicates = first_ns = last_ns = probes = 0
    give_up = time.monotonic() + deadline_s
    while len(seen) < expected and time.monotonic() < give_up:
        messages = consumer.consume(1000, 0) or consumer.consume(1, 0.1)
        now = time.monotonic_ns()
        for message in messages:
            key = message.key()
            if message.error() is not None or key is None:
                continue
            found, _, rest = key.partition(b"-")
            if found == b"p":
                probes += 1
                continue
            if key in seen:
                duplicates += 1
                continue
            if found != tag:
                continue
            seen.add(key)
            first_ns = first_ns or now
            last_ns = now
            sent_ns = int(rest.partition(b"-")[2] or 0)
            if sent_ns:
                latencies.append((now - sent_ns) / 1e6)
    consumer.close()
    out.put(
        {
            "received": len(seen),
            "duplicates": duplicates,
            "probes": probes,
            "first_ns": first_ns,
            "last_ns": last_ns,
            "latencies_ms": latencies,
            "cpu_s": time.process_time() - cpu_started,
        }
    )


def start_sink(
    stage: Stage, topic: str, tag: str, expected: int, deadline_s: float
) -> tuple[SpawnProcess, mp.Queue[dict[str, Any]]]:
    """Start :func:`run_sink` in its own process and wait until it is assigned."""
    ready = _SPAWN.Event()
    out: mp.Queue[dict[str, Any]] = _SPAWN.Queue()
    args = (stage.ctx.client_config, topic, stage.partitions, tag.encode(), expected, deadline_s, ready, out)
    process = _SPAWN.Process(target=run_sink, args=args, name=f"sink({topic})", daemon=True)
    process.start()
    if not ready.wait(60):
        raise TimeoutError("sink not ready within 60 s")
    return process, out


def collect(
    stage: Stage, process: SpawnProcess, out: mp.Queue[dict[str, Any]], deadline_s: float
) -> dict[str, Any]:
    """Wait for the sink's report, failing early when a process of the stage dies."""
    give_up = time.monotonic() + deadline_s + 30
    while True:
        try:
            report: dict[str, Any] = out.get(timeout=0.5)
            break
        except queue.Empty:
            stage.check()
            if time.monotonic() > give_up:
                raise TimeoutError(f"sink gave no report within {deadline_s + 30} s") from None
    process.join(10)
    return report


def await_probe(stage: Stage, source: TicketSource, timeout_s: float = 120.0) -> float:
    """Send one probe workflow and wait until it completes the chain; return the seconds it took."""
    topic = stage.topic("ReplyDrafted")
    consumer = Consumer({**stage.ctx.client_config, **CONSUMER, "group.id": stage.ctx.unique_name("probe")})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(stage.partitions)])
    started = time.monotonic()
    source.send(f"p-0-{time.monotonic_ns()}")
    source.flush()
    try:
        while time.monotonic() - started < timeout_s:
            stage.check()
            for message in consumer.consume(100, 0.2):
                if message.error() is None and (message.key() or b"").startswith(b"p-"):
                    return time.monotonic() - started
        raise TimeoutError(
            f"the probe workflow did not complete within {timeout_s} s (logs: {stage.workdir})"
        )
    finally:
        consumer.close()

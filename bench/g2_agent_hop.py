"""G2: one corps agent hop (decode -> trivial handler -> encode -> produce, exactly-once) vs one bare hop.

Both sides drain the same number of preloaded records flat out between two topics, measured at a sink
in its own process from its first record to its last (``relay.Sink``), in the same run. The bare hop is
``relay.relay_throughput(hops=1)`` (consume -> produce bytes unchanged). The agent hop is one replica of
a corps agent (``AgentWorker`` in a spawned process, default settings: Kafka transactions per batch)
whose handler turns a ``TicketOpened`` into a ``TicketTriaged``: per record it validates the CloudEvents
headers, decodes the Avro body into the typed model, calls the handler, encodes the output with a fresh
causal envelope and produces it, and commits the input offsets in the same transaction.

Also here: the idle RSS of an agent process, a per-record CPU profile of the agent's processing (no
broker), and — the evidence for the engine choice — a faust-streaming raw relay hop on the same broker.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.context import BenchContext
from bench.relay import Sink, relay_throughput
from bench.results import Result
from bench.wire import THROUGHPUT_PRODUCER, workflow_key
from corps.events import Envelope, EventCodec, SchemaRegistry, lifecycle
from corps.events.demo import Customer, TicketOpened, TicketTriaged
from corps.runtime import Agent, handler
from corps.settings import RegistrySettings

ID = "G2"
TITLE = "one agent hop (decode -> handler -> encode -> produce, exactly-once) vs one bare relay hop"
NEEDS: tuple[str, ...] = ()

_MESSAGES = 200_000
_SPAWN = mp.get_context("spawn")


@handler
async def triage(ticket: TicketOpened) -> TicketTriaged:
    """The trivial handler: one typed event in, one typed event out."""
    return TicketTriaged(ticket_id=ticket.ticket_id, category="BILLING", priority="NORMAL", needs_refund=True)


AGENT = Agent(name="bench-triage", version="1.0.0", handlers=[triage])


def ticket() -> TicketOpened:
    """The input payload (about 250 bytes of Avro, like the relay's 256-byte values)."""
    return TicketOpened(
        ticket_id="T-000123",
        customer=Customer(customer_id="C-42", name="Ann Example", email="ann@example.com"),
        subject="Refund for order 1234",
        body="x" * 150,
        refund_amount_cents=1250,
        tags=("billing",),
    )


@dataclass
class HopTopics:
    """The topics of one agent-hop run and the agent settings that use them."""

    source: str
    sink: str
    settings: dict[str, Any]
    runtime_topics: list[str]


def make_hop(ctx: BenchContext, delivery: str, label: str) -> HopTopics:
    """Create the source, sink and lifecycle topics, register the schemas, and build agent settings."""
    source, sink, lifecycle_topic = (ctx.create_topic(f"{label}-{t}") for t in ("in", "out", "lifecycle"))
    with SchemaRegistry(RegistrySettings(url=ctx.registry_url)) as registry:
        registry.register(f"{source}-value", TicketOpened.schema_ref().canonical)
        registry.register(f"{sink}-value", TicketTriaged.schema_ref().canonical)
        for model in lifecycle.EVENTS:
            registry.register(f"{lifecycle_topic}-{model.event_type}", model.schema_ref().canonical)
    prefix = ctx.unique_name(label)
    settings = {
        "kafka": {"bootstrap_servers": ctx.bootstrap_servers},
        "registry": {"url": ctx.registry_url},
        "delivery": delivery,
        "group_id": ctx.unique_name(f"{label}-group"),
        "routing": {
            "inputs": {TicketOpened.event_type: source},
            "outputs": {TicketTriaged.event_type: sink},
            "lifecycle": lifecycle_topic,
            "multi_type_topics": [lifecycle_topic],
        },
        "topics": {
            "retry_template": f"{prefix}.retry.{{tier}}",
            "dead_letter_template": f"{prefix}.dlq",
            "registry": f"{prefix}.agents",
        },
    }
    runtime_topics = [*(f"{prefix}.retry.{t}" for t in range(1, 5)), f"{prefix}.dlq", f"{prefix}.agents"]
    return HopTopics(source, sink, settings, runtime_topics)


def preload_events(ctx: BenchContext, topic: str, count: int) -> float:
    """Fill ``topic`` with ``count`` corps events (fresh envelope each, 1,024 workflow ids)."""
    with SchemaRegistry(RegistrySettings(url=ctx.registry_url)) as registry:
        codec = EventCodec(registry)
        producer = Producer({**ctx.client_config, **THROUGHPUT_PRODUCER})
        payload, event_type = ticket(), TicketOpened.event_type
        keys = [workflow_key(i).decode() for i in range(1024)]
        started = time.perf_counter()
        for seq in range(count):
            env = Envelope.new(event_type, tenant="acme", workflow_id=keys[seq & 1023], source="bench")
            record = codec.encode(topic, payload, env)
            while True:
                try:
                    producer.produce(**record.produce_kwargs())
                    break
                except BufferError:
                    producer.poll(0.005)
        if producer.flush(120):
            raise RuntimeError(f"{topic}: preload not fully acknowledged")
        return time.perf_counter() - started


def _agent_main(settings: dict[str, Any], ready: Event, stop: Event) -> None:
    from corps.runtime.settings import AgentSettings
    from corps.runtime.worker import AgentWorker

    async def serve() -> None:
        done = asyncio.Event()
        async with AgentWorker(AGENT, AgentSettings.model_validate(settings)) as worker:
            task = asyncio.create_task(worker.run(done))
            ready.set()
            while not stop.is_set() and not task.done():  # noqa: ASYNC110 - stop is a multiprocessing Event
                await asyncio.sleep(0.05)
            done.set()
            await task

    asyncio.run(serve())


class AgentProcess:
    """One agent replica in a spawned process."""

    def __init__(self, settings: dict[str, Any], name: str = "agent") -> None:
        self.ready, self.stop = _SPAWN.Event(), _SPAWN.Event()
        self.process: SpawnProcess = _SPAWN.Process(
            target=_agent_main, args=(settings, self.ready, self.stop), name=name, daemon=True
        )
        self.process.start()

    def await_ready(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready.wait(0.2):
            if not self.process.is_alive():
                raise RuntimeError(f"agent exited with code {self.process.exitcode} before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError("agent not ready")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kb / 1024

    def cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the agent process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self, timeout_s: float = 30.0) -> None:
        self.stop.set()
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


def cleanup(ctx: BenchContext, names: list[str]) -> None:
    """Delete the runtime's own topics of a run (best effort)."""
    for future in ctx.admin.delete_topics(names, operation_timeout=30).values():
        try:
            future.result(timeout=60)
        except Exception:
            continue


def agent_hop(ctx: BenchContext, delivery: str, messages: int, label: str = "g2") -> dict[str, float]:
    """Preload ``messages`` events, run one agent replica flat out, return throughput at the sink."""
    hop = make_hop(ctx, delivery, label)
    preload_s = preload_events(ctx, hop.source, messages)
    sink = Sink(ctx, hop.sink, ctx.partitions, messages, timed=False, deadline_s=600)
    sink.await_ready()
    agent = AgentProcess(hop.settings)
    try:
        agent.await_ready()
        cpu_before = agent.cpu_s()
        report = sink.collect([agent.process])
        cpu = agent.cpu_s() - cpu_before
    finally:
        agent.close()
        cleanup(ctx, hop.runtime_topics)
    seconds = (int(report["last_ns"]) - int(report["first_ns"])) / 1e9
    received = int(report["received"])
    return {
        "msgs_per_s": received / seconds if seconds > 0 else 0.0,
        "received": received,
        "seconds": round(seconds, 3),
        "preload_s": round(preload_s, 3),
        "agent_cpu_us_per_msg": round(cpu / received * 1e6, 1) if received else 0.0,
    }


def idle_rss(ctx: BenchContext) -> float:
    """RSS of an agent process that is up, subscribed and idle (MiB)."""
    hop = make_hop(ctx, "exactly_once", "g2-idle")
    agent = AgentProcess(hop.settings)
    try:
        agent.await_ready()
        time.sleep(3.0)
        return agent.rss_mb()
    finally:
        agent.close()
        cleanup(ctx, hop.runtime_topics)


def faust_relay(ctx: BenchContext, messages: int) -> float:
    """Throughput of a faust-streaming raw relay hop (bytes in, bytes out) on the same broker."""
    source, sink = ctx.create_topic("g2-faust-in"), ctx.create_topic("g2-faust-out")
    from bench.relay import preload

    preload(ctx, source, messages)
    out = subprocess.run(
        [sys.executable, "-m", "bench.g2_faust_relay", ctx.bootstrap_servers, source, sink, str(messages)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    for line in (out.stdout + out.stderr).splitlines():  # faust routes stdout through its logger
        if "msgs_per_s=" in line:
            return float(line.split("msgs_per_s=", 1)[1].split()[0])
    raise RuntimeError(f"faust relay gave no result (exit {out.returncode}): {out.stderr[-2000:]}")


def run(ctx: BenchContext) -> list[Result]:
    """Bare hop and agent hop, twice each, alternating (same load for both); then RSS, profile, faust."""
    messages = ctx.scale.count(_MESSAGES)
    bare: list[float] = []
    corps: list[dict[str, float]] = []
    for _ in range(2):
        bare.append(relay_throughput(ctx, 1, messages=messages).msgs_per_s)
        corps.append(agent_hop(ctx, "exactly_once", messages))
    rates = [c["msgs_per_s"] for c in corps]
    rss = idle_rss(ctx)
    from bench.g2_profile import profile_us

    profile = profile_us()
    faust_messages = ctx.scale.count(30_000)
    faust = faust_relay(ctx, faust_messages)
    bare_median = statistics.median(bare)
    return [
        Result(
            id="G2.bare_hop_msgs_per_s",
            label="bare relay, one hop (bytes unchanged)",
            value=round(bare_median),
            unit="msgs/s",
            detail={"rounds_msgs_per_s": [round(b) for b in bare], "messages": messages},
        ),
        Result(
            id="G2.agent_hop_msgs_per_s",
            label="corps agent hop (exactly-once)",
            value=round(statistics.median(rates)),
            unit="msgs/s",
            baseline_id="G2.bare_hop_msgs_per_s",
            goal_ratio=0.60,
            detail={
                "rounds": corps,
                "messages": messages,
                "agent": "one replica, AgentWorker defaults (a transaction per <=100 ms commit unit)",
                "profile_us_per_record": profile,
            },
        ),
        Result(
            id="G2.idle_agent_rss_mb",
            label="RSS of an idle agent process",
            value=round(rss, 1),
            unit="MiB",
        ),
        Result(
            id="G2.faust_relay_msgs_per_s",
            label="faust-streaming raw relay hop (why the engine is not faust)",
            value=round(faust),
            unit="msgs/s",
            baseline_id="G2.bare_hop_msgs_per_s",
            detail={"messages": faust_messages, "script": "bench/g2_faust_relay.py"},
        ),
    ]

"""G3: a 3-agent choreography through the gate and the orchestrator vs the bare 3-hop relay.

``TicketOpened -> triage -> refunds -> writer -> ReplyDrafted``: three exactly-once agents (``corps
agent run``), every event through the gate (``corps orchestrator run``: 4 gate passes, a decision and a
chain link per event, WorkflowStarted / WorkflowCompleted, the state changelog), each its own process.

* ``G3.wf_per_s`` — workflows/s flat out (a burst of TicketOpened, counted at the admitted
  ReplyDrafted topic from its first to its last workflow) vs ``B4.msgs_per_s`` (goal >= 50 %; the
  issue's floor is 2,000 workflows/s, reported in ``detail``).
* ``G3.p50_ms`` / ``G3.p99_ms`` — end-to-end latency at a fixed rate vs a bare 3-hop relay measured
  at the same rate in the same module (``G3.relay3_*``), ratio relay/corps. Its ``detail.hops`` splits
  the measured workflows' latency by segment (:func:`hop_breakdown`); ``detail.low_rate`` is the same
  at :data:`LOW_RATE`, where the gate is idle between workflows: the chain's latency without queueing
  behind the gate's transaction in flight.
"""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bench.context import BenchContext
from bench.g3_stage import (
    AGENT_BATCH_WAIT_MS,
    ORCHESTRATOR_REPLICAS,
    Stage,
    TicketSource,
    await_probe,
    collect,
    make_stage,
    start_sink,
)
from bench.relay import relay_latency
from bench.results import RatioMode, Result
from bench.stats import LatencySummary, percentile
from bench.wire import CONSUMER

ID = "G3"
TITLE = "3-agent choreography with gate + orchestrator vs bare 3-hop relay: workflows/s, latency"
NEEDS: tuple[str, ...] = ("B4",)

RATE = 100.0
LOW_RATE = 20.0
"""At 100 wf/s the gate (one transactional loop) is never idle: a record waits for the batch in flight,
and every batch touches every partition of the written topics. At this rate it mostly waits for input."""
FLOOR_WF_PER_S = 2000
_WARMUP_S = 3.0
_DURATION_S = 15.0
_WORKFLOWS = 20_000

SETUP = (
    "TicketOpened.proposed -> gate -> triage -> gate -> refunds -> gate -> writer -> gate -> "
    "ReplyDrafted (admitted); orchestrator stage on (saga, WorkflowStarted/Completed, state changelog); "
    f"agents exactly-once (transactions), batch.max_wait_ms={AGENT_BATCH_WAIT_MS}, producer "
    "retry.backoff.ms=5; every service its own "
    "process (corps CLI); source in the bench process, sink in its own process (read_committed)"
)


def run(ctx: BenchContext) -> list[Result]:
    """Latency at a fixed rate (and the bare relay at the same rate), then throughput flat out."""
    warmup_s, duration_s = ctx.scale.seconds(_WARMUP_S), ctx.scale.seconds(_DURATION_S)
    relay = relay_latency(ctx, 3, rate=RATE, warmup_s=warmup_s, duration_s=duration_s)
    stage = make_stage(ctx, "g3")
    try:
        stage.start_orchestrator()
        stage.start_agents()
        source = TicketSource(stage, latency=True)
        probe_s = await_probe(stage, source)
        final = stage.topic("ReplyDrafted")

        warmup, measured = round(RATE * warmup_s), round(RATE * duration_s)
        deadline = warmup_s + duration_s + 120
        process, out = start_sink(stage, final, "m", measured, deadline)
        lag_ms = source.paced(RATE, warmup, measured)
        latency = collect(stage, process, out, deadline)
        hops = hop_breakdown(stage, "m", latency["received"])
        low_rate = _low_rate(stage, source, final, warmup_s, duration_s, deadline)

        workflows = ctx.scale.count(_WORKFLOWS, minimum=2000)
        process, out = start_sink(stage, final, "t", workflows, 900)
        blast_ns = TicketSource(stage, latency=False).blast(workflows)
        throughput = collect(stage, process, out, 900)
    finally:
        stage.stop()

    seconds = (throughput["last_ns"] - blast_ns) / 1e9
    wf_per_s = throughput["received"] / seconds if seconds > 0 else 0.0
    drain_s = (throughput["last_ns"] - throughput["first_ns"]) / 1e9
    samples: list[float] = latency["latencies_ms"]
    if not samples:
        raise RuntimeError("G3: no measured workflow completed")
    summary = LatencySummary.of(samples)
    common = {
        "setup": SETUP,
        "startup_probe_s": round(probe_s, 2),
        "partitions": ctx.partitions,
        "orchestrator_replicas": ORCHESTRATOR_REPLICAS,
    }
    latency_detail = {
        **common,
        **summary.as_detail(),
        "rate_wf_per_s": RATE,
        "sent": measured,
        "completed": latency["received"],
        "duplicates": latency["duplicates"],
        "source_worst_lag_ms": round(lag_ms, 3),
        "relay_same_rate": relay.summary.as_detail(),
        "hops": hops,
        "low_rate": low_rate,
    }
    relay_detail = {"hops": 3, "rate_msgs_per_s": RATE, **relay.summary.as_detail()}
    return [
        Result(
            id="G3.wf_per_s",
            label="3-agent choreography, gate + orchestrator: workflows/s",
            value=round(wf_per_s),
            unit="wf/s",
            baseline_id="B4.msgs_per_s",
            goal_ratio=0.5,
            detail={
                **common,
                "workflows": workflows,
                "completed": throughput["received"],
                "duplicates": throughput["duplicates"],
                "seconds": round(seconds, 3),
                "sink_first_to_last_s": round(drain_s, 3),
                "floor_wf_per_s": FLOOR_WF_PER_S,
                "floor_met": wf_per_s >= FLOOR_WF_PER_S,
                "statistic": "a burst of TicketOpened; from the first sent to the last ReplyDrafted admitted "
                "(pipeline fill included: every stage is a separate process with its own backlog)",
            },
        ),
        Result(
            id="G3.relay3_p50_ms",
            label=f"bare 3-hop relay latency p50 at {RATE:.0f}/s",
            value=round(relay.summary.p50_ms, 3),
            unit="ms",
            detail=relay_detail,
        ),
        Result(
            id="G3.relay3_p99_ms",
            label=f"bare 3-hop relay latency p99 at {RATE:.0f}/s",
            value=round(relay.summary.p99_ms, 3),
            unit="ms",
            detail={"from": "the G3.relay3_p50_ms run"},
        ),
        Result(
            id="G3.p50_ms",
            label=f"choreography end-to-end latency p50 at {RATE:.0f} wf/s",
            value=round(summary.p50_ms, 3),
            unit="ms",
            baseline_id="G3.relay3_p50_ms",
            ratio_mode=RatioMode.BASELINE_OVER_CORPS,
            goal_ratio=0.5,
            detail=latency_detail,
        ),
        Result(
            id="G3.p99_ms",
            label=f"choreography end-to-end latency p99 at {RATE:.0f} wf/s",
            value=round(summary.p99_ms, 3),
            unit="ms",
            baseline_id="G3.relay3_p99_ms",
            ratio_mode=RatioMode.BASELINE_OVER_CORPS,
            goal_ratio=0.5,
            detail={"from": "the G3.p50_ms run"},
        ),
    ]


def _low_rate(
    stage: Stage, source: TicketSource, final: str, warmup_s: float, duration_s: float, deadline: float
) -> dict[str, Any]:
    """Latency and its segments at :data:`LOW_RATE` (workflows tagged ``l``), warm-up excluded."""
    warmup, measured = round(LOW_RATE * warmup_s / 2), round(LOW_RATE * duration_s)
    process, out = start_sink(stage, final, "l", measured, deadline)
    interval, started = 1.0 / LOW_RATE, time.perf_counter()
    for seq in range(warmup + measured):
        pause = started + seq * interval - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        source.send(f"{'v' if seq < warmup else 'l'}-{seq}-{time.monotonic_ns()}")
    source.flush()
    report = collect(stage, process, out, deadline)
    samples: list[float] = report["latencies_ms"]
    return {
        "rate_wf_per_s": LOW_RATE,
        "sent": measured,
        "completed": report["received"],
        **(LatencySummary.of(samples).as_detail() if samples else {}),
        "hops": hop_breakdown(stage, "l", report["received"]),
    }


_CHAIN = (
    ("TicketOpened", "source", "triage"),
    ("TicketTriaged", "triage", "refunds"),
    ("RefundIssued", "refunds", "writer"),
    ("ReplyDrafted", "writer", "sink"),
)


def hop_breakdown(stage: Stage, tag: str, expected: int, timeout_s: float = 60.0) -> dict[str, Any]:
    """Where the measured workflows' latency goes, segment by segment (ms, p50 / p99).

    Reads every proposed and admitted topic of the chain (read_committed) and takes, per workflow
    tagged ``tag``, the CreateTime of its record on each: the time its writer called ``produce``. A
    segment runs from one writer's ``produce`` to the next one's, so it holds the first writer's
    transaction commit (its records become visible only then), the reader's fetch, its wait for the
    batch in flight and its processing. ``<event>: <agent> -> gate`` ends at the gate's produce,
    ``<event>: gate -> <agent>`` at the agent's. CreateTime has millisecond resolution.
    """
    topics: list[str] = []
    for event, _writer, _reader in _CHAIN:
        topics += [stage.topic(event, proposed=True), stage.topic(event)]
    created: dict[str, dict[bytes, int]] = {topic: {} for topic in topics}
    consumer = Consumer(
        {
            **stage.ctx.client_config,
            **CONSUMER,
            "group.id": stage.ctx.unique_name("hops"),
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t in topics for p in range(stage.partitions)])
    give_up, prefix = time.monotonic() + timeout_s, tag.encode() + b"-"
    quiet_since = time.monotonic()
    try:  # until every topic holds every workflow, or nothing came for 2 s
        while time.monotonic() < give_up and time.monotonic() - quiet_since < 2.0:
            if all(len(seen) >= expected for seen in created.values()):
                break
            messages = consumer.consume(1000, 0.2)
            if messages:
                quiet_since = time.monotonic()
            for message in messages:
                topic, key = message.topic(), message.key()
                if (
                    message.error() is None
                    and topic in created
                    and key is not None
                    and key.startswith(prefix)
                ):
                    created[topic].setdefault(key, message.timestamp()[1])
    finally:
        consumer.close()
    keys = set(created[topics[0]]).intersection(*(created[t] for t in topics[1:]))
    segments: dict[str, dict[str, float]] = {}
    gate_in = agent_in = 0.0
    for index in range(len(topics) - 1):
        event, writer, reader = _CHAIN[index // 2]
        into_gate = index % 2 == 0
        name = f"{event}: {writer} -> gate" if into_gate else f"{event}: gate -> {reader}"
        spans = [float(created[topics[index + 1]][k] - created[topics[index]][k]) for k in keys]
        if not spans:
            break
        p50 = percentile(spans, 50)
        segments[name] = {"p50_ms": p50, "p99_ms": round(percentile(spans, 99), 1)}
        gate_in, agent_in = (gate_in + p50, agent_in) if into_gate else (gate_in, agent_in + p50)
    first_to_last = [float(created[topics[-1]][k] - created[topics[0]][k]) for k in keys]
    return {
        "workflows": len(keys),
        "segments": segments,
        "into_gate_p50_sum_ms": gate_in,
        "into_agents_p50_sum_ms": agent_in,
        "first_to_last_produce_p50_ms": percentile(first_to_last, 50) if first_to_last else None,
        "statistic": "per workflow, CreateTime (produce call) on each proposed/admitted topic; a segment "
        "holds the upstream writer's transaction commit, the reader's fetch, its wait for the batch in "
        "flight and its processing; the rest of the end-to-end latency is the last gate pass's commit "
        "and the sink's fetch",
    }

"""G8: what exactly-once costs — transactional vs at-least-once agent throughput, and what it buys.

Throughput: the G2 agent hop drained flat out with ``delivery=exactly_once`` (one Kafka transaction
per commit unit of at most 100 ms: outputs and input offsets atomically) and with
``delivery=at_least_once`` (idempotent producer, offsets committed after the outputs are acknowledged),
rounds alternated so both see the same machine load. The ratio exactly-once / at-least-once: goal
>= 0.80. On a shared machine the agent's own CPU time per event (``G8.cpu_ratio``, at-least-once /
exactly-once) shows the same cost without the noise of other work.

What it buys: each mode is also killed with SIGKILL while it drains a backlog and restarted
(same group, same ``instance_id``), three times; a ``read_committed`` reader counts the outputs per
input event (``ce_causationid``). At-least-once re-emits what the killed replica had produced since its
last offset commit; exactly-once must re-emit nothing and lose nothing.
This is the measurement behind corps' default (transactions rather than dedupe by event id downstream).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bench.context import BenchContext
from bench.g2_agent_hop import AgentProcess, agent_hop, cleanup, make_hop, preload_events
from bench.results import Result

ID = "G8"
TITLE = "exactly-once vs at-least-once agent throughput (ratio), and duplicates after kill -9"
NEEDS: tuple[str, ...] = ()

_MESSAGES = 200_000
_KILL_MESSAGES = 60_000


class OutputCounter:
    """Reads a topic with read_committed from the start and counts outputs per causing event id."""

    def __init__(self, ctx: BenchContext, topic: str) -> None:
        self.consumer = Consumer(
            {
                **ctx.client_config,
                "group.id": f"g8-count-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.queue.backoff.ms": 0,
            }
        )
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(ctx.partitions)])
        self.causes: Counter[bytes] = Counter()

    def poll(self, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self.consumer.consume(1000, 0.1):
                if message.error() is None:
                    cause = dict(message.headers() or []).get("ce_causationid")
                    self.causes[cause if isinstance(cause, bytes) else b""] += 1
        return len(self.causes)

    def close(self) -> None:
        self.consumer.close()


def kill_and_recover(ctx: BenchContext, delivery: str, messages: int, kills: int = 3) -> dict[str, Any]:
    """SIGKILL the agent ``kills`` times while it drains ``messages``; let a last replica finish; count."""
    hop = make_hop(ctx, delivery, f"g8-kill-{delivery}")
    hop.settings["instance_id"] = f"g8-{uuid.uuid4().hex[:8]}"  # the restart takes over at once
    preload_events(ctx, hop.source, messages)
    counter = OutputCounter(ctx, hop.sink)
    killed_at: list[int] = []
    started = time.monotonic()
    try:
        for k in range(1, kills + 1):
            agent = AgentProcess(hop.settings, f"victim-{k}")
            try:
                agent.await_ready()
                while counter.poll(0.05) < messages * k // (kills + 1):
                    if not agent.process.is_alive():
                        raise RuntimeError("agent died before the kill")
                agent.process.kill()
                agent.process.join(10)
                killed_at.append(len(counter.causes))
            finally:
                if agent.process.is_alive():
                    agent.process.kill()
        last = AgentProcess(hop.settings, "survivor")
        try:
            last.await_ready()
            while counter.poll(0.5) < messages and time.monotonic() - started < 600:
                pass
            counter.poll(2.0)  # anything late
        finally:
            last.close()
    finally:
        counter.close()
        cleanup(ctx, hop.runtime_topics)
    total = sum(counter.causes.values())
    return {
        "inputs": messages,
        "kills": kills,
        "killed_after_distinct_outputs": killed_at,
        "distinct_inputs_with_output": len(counter.causes),
        "outputs": total,
        "duplicates": total - len(counter.causes),
        "lost": messages - len(counter.causes),
        "seconds": round(time.monotonic() - started, 1),
    }


def run(ctx: BenchContext) -> list[Result]:
    """Alternate at-least-once and exactly-once rounds; then the kill -9 runs of both."""
    messages = ctx.scale.count(_MESSAGES)
    alo: list[float] = []
    eos: list[float] = []
    alo_cpu: list[float] = []
    eos_cpu: list[float] = []
    for _ in range(2):
        run_alo = agent_hop(ctx, "at_least_once", messages, "g8-alo")
        run_eos = agent_hop(ctx, "exactly_once", messages, "g8-eos")
        alo.append(run_alo["msgs_per_s"])
        eos.append(run_eos["msgs_per_s"])
        alo_cpu.append(run_alo["agent_cpu_us_per_msg"])
        eos_cpu.append(run_eos["agent_cpu_us_per_msg"])
    kills = ctx.scale.count(_KILL_MESSAGES)
    alo_kill = kill_and_recover(ctx, "at_least_once", kills)
    eos_kill = kill_and_recover(ctx, "exactly_once", kills)
    return [
        Result(
            id="G8.alo_msgs_per_s",
            label="agent hop, at-least-once",
            value=round(statistics.median(alo)),
            unit="msgs/s",
            detail={"rounds_msgs_per_s": [round(r) for r in alo], "messages": messages},
        ),
        Result(
            id="G8.eos_msgs_per_s",
            label="agent hop, exactly-once (transactions)",
            value=round(statistics.median(eos)),
            unit="msgs/s",
            baseline_id="G8.alo_msgs_per_s",
            goal_ratio=0.80,
            detail={"rounds_msgs_per_s": [round(r) for r in eos], "messages": messages},
        ),
        Result(
            id="G8.cpu_ratio",
            label="CPU per event, at-least-once / exactly-once (load-robust view of the same cost)",
            value=round(statistics.median(eos_cpu), 1),
            unit="us/msg",
            ratio=round(statistics.median(alo_cpu) / statistics.median(eos_cpu), 3),
            goal_ratio=0.80,
            detail={"alo_cpu_us_per_msg": alo_cpu, "eos_cpu_us_per_msg": eos_cpu},
        ),
        Result(
            id="G8.alo_duplicates_after_kill9",
            label="at-least-once: duplicate outputs after kill -9 + restart",
            value=alo_kill["duplicates"],
            unit="records",
            detail=alo_kill,
        ),
        Result(
            id="G8.eos_duplicates_after_kill9",
            label="exactly-once: duplicate outputs after kill -9 + restart (read_committed)",
            value=eos_kill["duplicates"],
            unit="records",
            detail=eos_kill,
        ),
    ]

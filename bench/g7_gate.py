"""G7 proper: the policy gate with 20 CEL rules over Kafka vs a bare relay hop (B4), the same run.

A fresh copy of the G3 topology; the 20-rule set of :mod:`bench.g7_policy` (every rule matches every
event, none refuses these tickets) is published under the workflow's name, and ``corps orchestrator
run --gate-only`` (its own OS process, the real CLI) enforces it: decode, envelope checks, dedupe,
policy evaluation at the record timestamp, the admitted record + a hash-chained decision record +
the workflow's changelog record, one Kafka transaction per batch. The source blasts proposed
TicketOpened records from the bench process; the sink (its own process, read_committed) counts them on
the admitted TicketOpened topic. ``G7.gate_rules20_per_s`` = admitted events / seconds from the first
send to the last admission, against ``B4.msgs_per_s`` (goal >= 0.5); ``G7.gate_rules0_per_s`` is the
same gate under an empty published set (what the rules cost on top of the gate itself).
"""

from __future__ import annotations

import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bench.context import BenchContext
from bench.g3_stage import Stage, TicketSource, collect, make_stage, start_sink
from bench.results import Result
from bench.wire import CONSUMER
from corps.policy import PolicyStore

__all__ = ["gate_results"]

_EVENTS = 50_000


def _await_admitted(stage: Stage, source: TicketSource, timeout_s: float = 120.0) -> None:
    """Send one probe ticket and wait until the gate admitted it (the set is loaded, partitions owned)."""
    topic = stage.topic("TicketOpened")
    consumer = Consumer({**stage.ctx.client_config, **CONSUMER, "group.id": stage.ctx.unique_name("probe")})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(stage.partitions)])
    started = time.monotonic()
    source.send(f"p-0-{time.monotonic_ns()}")
    source.flush()
    try:
        while time.monotonic() - started < timeout_s:
            stage.check()
            if any(m.error() is None for m in consumer.consume(100, 0.2)):
                return
        raise TimeoutError(f"G7: the gate admitted no probe within {timeout_s} s")
    finally:
        consumer.close()


def gate_results(ctx: BenchContext) -> list[Result]:
    """The gate flat out with the 20 rules, and with an empty set (what the rules cost on top)."""
    return [_gate(ctx, 20), _gate(ctx, 0)]


def _gate(ctx: BenchContext, rules: int) -> Result:
    """Run the gate with ``rules`` CEL rules flat out."""
    count = ctx.scale.count(_EVENTS, minimum=5000)
    stage = make_stage(ctx, "g7gate")
    try:
        from bench.g7_policy import rule_set  # the same rules (g7_policy imports this module)

        policy_set = rule_set(rules).model_copy(update={"name": stage.name})
        store = PolicyStore(dict(ctx.client_config))
        store.ensure_topic()
        published = store.publish(policy_set).published
        stage.start_orchestrator(orchestrate=False)
        _await_admitted(stage, TicketSource(stage, latency=True))
        process, out = start_sink(stage, stage.topic("TicketOpened"), "t", count, 900)
        started = TicketSource(stage, latency=False).blast(count)
        report = collect(stage, process, out, 900)
    finally:
        stage.stop()
    received = int(report["received"])
    seconds = (report["last_ns"] - started) / 1e9
    rate = received / seconds if seconds > 0 else 0.0
    return Result(
        id=f"G7.gate_rules{rules}_per_s",
        label=f"policy gate over Kafka, {rules} CEL rules (gate-only process)",
        value=round(rate),
        unit="msgs/s",
        baseline_id="B4.msgs_per_s",
        goal_ratio=0.5 if rules else None,
        detail={
            "events": count,
            "admitted": received,
            "duplicates": report["duplicates"],
            "seconds": round(seconds, 3),
            "rules": rules,
            "set_version": str(published.version),
            "partitions": stage.partitions,
            "setup": "corps orchestrator run --gate-only (own process), proposed TicketOpened blasted "
            "from the bench process, admitted topic counted read_committed by a sink process",
        },
    )

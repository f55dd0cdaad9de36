"""B2: raw consume throughput with confluent-kafka, from offset 0 of a filled topic."""

from __future__ import annotations

import statistics
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bench.b1_produce import SHARED_TOPIC
from bench.context import BenchContext
from bench.results import Result
from bench.wire import CONSUMER, FilledTopic, consumer_config, fill_topic

ID = "B2"
TITLE = "raw consume throughput from offset 0 (confluent-kafka, one consumer)"
NEEDS: tuple[str, ...] = ()

_PASS_MESSAGES = 2_000_000
_PASSES = 3
_BATCH = 1000


def _read_pass(ctx: BenchContext, topic: FilledTopic, count: int) -> tuple[float, float]:
    """Read ``count`` records with a fresh consumer; return (msgs/s after the first batch, start-up s)."""
    consumer = Consumer(consumer_config(ctx.client_config, ctx.unique_name("b2")))
    try:
        started = time.perf_counter()
        consumer.assign([TopicPartition(topic.name, p, OFFSET_BEGINNING) for p in range(topic.partitions)])
        remaining = count
        first_at = 0.0
        after_first = 0
        deadline = started + 300
        while remaining > 0:
            # asking for exactly what is left means the last call returns with the last record
            messages = consumer.consume(min(remaining, _BATCH), 1.0)
            for message in messages:
                if message.error() is None:
                    remaining -= 1
            if messages and not first_at:
                first_at = time.perf_counter()
                after_first = remaining
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{topic.name}: {remaining} records not read after 300 s")
        finished = time.perf_counter()
    finally:
        consumer.close()
    return after_first / (finished - first_at), first_at - started


def run(ctx: BenchContext) -> list[Result]:
    """Read the topic B1 filled (or fill one) from offset 0: one warm-up pass, then timed passes.

    Each pass reads the first 2,000,000 records (full scale) across all partitions.

    A pass is a fresh consumer (its own group, ``assign`` of every partition at the beginning) that
    takes up to 1,000 buffered records per call and checks each record's error; its rate is counted
    from the arrival of the first batch to the last record (the start-up is reported separately).
    """
    per_pass = ctx.scale.count(_PASS_MESSAGES)
    shared = ctx.shared.get(SHARED_TOPIC)
    if isinstance(shared, FilledTopic) and shared.messages >= per_pass:
        topic, source = shared, "the topic B1 wrote"
    else:
        name = ctx.create_topic("b2")
        fill_topic(ctx.client_config, name, per_pass)
        topic, source = FilledTopic(name, ctx.partitions, per_pass), "its own topic"
    _read_pass(ctx, topic, per_pass)
    passes = [_read_pass(ctx, topic, per_pass) for _ in range(_PASSES)]
    rates = [rate for rate, _ in passes]
    median = statistics.median(rates)
    detail = {
        "topic": source,
        "messages_per_pass": per_pass,
        "partitions": topic.partitions,
        "pass_msgs_per_s": [round(r) for r in rates],
        "startup_s": [round(s, 3) for _, s in passes],
        "consume_batch": _BATCH,
        "consumer": dict(CONSUMER),
        "statistic": f"median of {_PASSES} passes after one warm-up pass",
    }
    return [
        Result(
            id="B2.msgs_per_s",
            label="raw consume from offset 0",
            value=round(median),
            unit="msgs/s",
            detail=detail,
        )
    ]

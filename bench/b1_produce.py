"""B1: raw produce throughput with confluent-kafka (256-byte values, acks=all, idempotent producer)."""

from __future__ import annotations

import statistics

from bench.context import BenchContext
from bench.results import Result
from bench.wire import THROUGHPUT_PRODUCER, VALUE_BYTES, FilledTopic, new_producer, produce_flat_out

ID = "B1"
TITLE = "raw produce throughput (confluent-kafka, one producer)"
NEEDS: tuple[str, ...] = ()

SHARED_TOPIC = "B1.topic"
"""Key under which B1 leaves its filled topic in ``BenchContext.shared`` (B2 reads it from offset 0)."""

_WARMUP = 1_000_000
_ROUND = 1_000_000
_ROUNDS = 5


def run(ctx: BenchContext) -> list[Result]:
    """Warm up, then time several rounds of ``produce`` + ``flush``; report the median round.

    One producer, one process, unkeyed records (librdkafka's sticky partitioner), every round ends when
    ``flush`` returns with every record acknowledged by the broker (acks=all).
    """
    topic = ctx.create_topic("b1")
    producer, errors = new_producer(ctx.client_config, THROUGHPUT_PRODUCER)
    warmup = ctx.scale.count(_WARMUP)
    per_round = ctx.scale.count(_ROUND)
    warmup_s = produce_flat_out(producer, errors, topic, warmup)
    rates = [per_round / produce_flat_out(producer, errors, topic, per_round) for _ in range(_ROUNDS)]
    ctx.shared[SHARED_TOPIC] = FilledTopic(topic, ctx.partitions, warmup + per_round * _ROUNDS)
    median = statistics.median(rates)
    detail = {
        "producer": {k: v for k, v in THROUGHPUT_PRODUCER.items()},
        "partitions": ctx.partitions,
        "value_bytes": VALUE_BYTES,
        "key": None,
        "warmup_messages": warmup,
        "warmup_s": round(warmup_s, 3),
        "round_messages": per_round,
        "round_msgs_per_s": [round(r) for r in rates],
        "statistic": f"median of {_ROUNDS} rounds; a round is produce() x N then flush() (all acked)",
    }
    return [
        Result(id="B1.msgs_per_s", label="raw produce", value=round(median), unit="msgs/s", detail=detail),
        Result(
            id="B1.mb_per_s",
            label="raw produce (value bytes)",
            value=round(median * VALUE_BYTES / 1e6, 2),
            unit="MB/s",
            detail={"from": "B1.msgs_per_s x 256-byte values (keys/headers/overhead not counted)"},
        ),
    ]

"""B4: a bare 3-hop relay (three processes, each consume -> produce unchanged): throughput and latency."""

from __future__ import annotations

from bench.context import BenchContext
from bench.relay import relay_latency, relay_throughput
from bench.results import Result
from bench.wire import CONSUMER, LATENCY_PRODUCER

ID = "B4"
TITLE = "bare 3-hop relay (3 processes): flat-out throughput, latency at 1,000 msg/s"
NEEDS: tuple[str, ...] = ()

HOPS = 3
RATE = 1000.0
_MESSAGES = 1_000_000
_WARMUP_S = 3.0
_DURATION_S = 15.0


def run(ctx: BenchContext) -> list[Result]:
    """Measure the relay twice on fresh topics: latency at a fixed rate, then throughput flat out."""
    latency = relay_latency(
        ctx, HOPS, rate=RATE, warmup_s=ctx.scale.seconds(_WARMUP_S), duration_s=ctx.scale.seconds(_DURATION_S)
    )
    throughput = relay_throughput(ctx, HOPS, messages=ctx.scale.count(_MESSAGES))
    setup = (
        "t0 -> hop1 -> t1 -> hop2 -> t2 -> hop3 -> t3; each hop a spawned process (own consumer group, "
        "assign all partitions, drain <=500 buffered records, produce value/key/headers unchanged to the "
        "same partition index); source in the bench process, sink in its own process"
    )
    latency_detail = {
        **latency.summary.as_detail(),
        "rate_msgs_per_s": RATE,
        "sent": latency.sent,
        "received": latency.received,
        "duplicates": latency.duplicates,
        "source": latency.source,
        "hop_producer": dict(LATENCY_PRODUCER),
        "hop_consumer": {**CONSUMER, "enable.auto.commit": True},
        "setup": setup,
    }
    throughput_detail = {
        "messages": throughput.messages,
        "received": throughput.received,
        "seconds": round(throughput.seconds, 3),
        "statistic": "records preloaded into t0 (keyed, 1024 workflow ids); all hops start together; "
        "rate counted at the sink from its first record to its last",
        "setup": setup,
    }
    return [
        Result(
            id="B4.msgs_per_s",
            label="bare 3-hop relay throughput",
            value=round(throughput.msgs_per_s),
            unit="msgs/s",
            detail=throughput_detail,
        ),
        Result(
            id="B4.p50_ms",
            label="bare 3-hop relay latency p50",
            value=round(latency.summary.p50_ms, 3),
            unit="ms",
            detail=latency_detail,
        ),
        Result(
            id="B4.p99_ms",
            label="bare 3-hop relay latency p99",
            value=round(latency.summary.p99_ms, 3),
            unit="ms",
            detail={"from": "the B4.p50_ms run"},
        ),
    ]

"""B3: raw one-hop latency: producer (this process) -> topic -> consumer (another process)."""

from __future__ import annotations

from bench.context import BenchContext
from bench.relay import relay_latency
from bench.results import Result
from bench.wire import CONSUMER, LATENCY_PRODUCER

ID = "B3"
TITLE = "raw one-hop latency at 1,000 msg/s (producer -> topic -> consumer process)"
NEEDS: tuple[str, ...] = ()

RATE = 1000.0
_WARMUP_S = 3.0
_DURATION_S = 15.0


def run(ctx: BenchContext) -> list[Result]:
    """Send stamped records at a fixed rate and measure send -> receive at a consumer process."""
    run_ = relay_latency(
        ctx, 0, rate=RATE, warmup_s=ctx.scale.seconds(_WARMUP_S), duration_s=ctx.scale.seconds(_DURATION_S)
    )
    detail = {
        **run_.summary.as_detail(),
        "rate_msgs_per_s": RATE,
        "sent": run_.sent,
        "received": run_.received,
        "duplicates": run_.duplicates,
        "source": run_.source,
        "producer": dict(LATENCY_PRODUCER),
        "consumer": dict(CONSUMER),
        "setup": "producer in the bench process, consumer in a spawned process; send time stamped in "
        "the payload from CLOCK_MONOTONIC just before produce(); latency = receive - send",
    }
    return [
        Result(
            id="B3.p50_ms",
            label="raw one-hop latency p50",
            value=round(run_.summary.p50_ms, 3),
            unit="ms",
            detail=detail,
        ),
        Result(
            id="B3.p99_ms",
            label="raw one-hop latency p99",
            value=round(run_.summary.p99_ms, 3),
            unit="ms",
            detail={"from": "the B3.p50_ms run"},
        ),
    ]

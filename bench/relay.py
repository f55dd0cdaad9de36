"""A bare Kafka relay: N processes, each consuming a topic and producing every record unchanged.

``relay_latency`` and ``relay_throughput`` build ``t0 -> hop 1 -> t1 -> ... -> hop N -> tN`` on fresh
topics, drive it from a source in the calling process and measure at a sink in its own process. With
``hops=0`` the source writes straight into the sink's topic: that is the raw one-hop latency (B3).
Later benchmarks put their own processes (corps agents) between two topics and reuse :func:`run_source`,
:class:`Sink` and :func:`preload` so both sides of a comparison are measured the same way.

Every hop and the sink is a separate OS process (``multiprocessing`` spawn), so no two of them share a
GIL. A hop reads all partitions of its input (``assign``, from the beginning, its own consumer group,
librdkafka auto-commit every 5 s), drains up to 500 buffered records at once without blocking and
otherwise blocks up to 100 ms for the next one, and produces each record unchanged (value, key, headers,
same partition index) with the latency producer preset (acks=all, idempotence, linger.ms=0).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from bench.context import BenchContext
from bench.stats import LatencySummary
from bench.wire import (
    FLAG_MEASURED,
    FLAG_WARMUP,
    LATENCY_PRODUCER,
    consumer_config,
    decode,
    encode,
    fill_topic,
    new_producer,
    producer_config,
    workflow_key,
)

__all__ = [
    "LatencyRun",
    "Sink",
    "ThroughputRun",
    "preload",
    "relay_latency",
    "relay_throughput",
    "run_source",
]

_SPAWN = mp.get_context("spawn")
_READY_TIMEOUT_S = 60.0


def drain(consumer: Consumer, batch: int = 500, block_s: float = 0.1) -> list[Message]:
    """Return what is buffered (up to ``batch``) at once, else block up to ``block_s`` for one record.

    ``Consumer.consume(n, timeout)`` waits for ``n`` records or the full timeout, which would add up to
    the timeout to every latency; this keeps batching when records queue up and reacts at once when not.
    """
    messages: list[Message] = consumer.consume(batch, 0)
    if messages:
        return messages
    message = consumer.poll(block_s)
    return [] if message is None else [message]


def _assign_all(consumer: Consumer, topic: str, partitions: int) -> None:
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])


def _hop_main(
    base: dict[str, str],
    group: str,
    source: str,
    target: str,
    partitions: int,
    ready: Event,
    go: Event,
    stop: Event,
) -> None:
    """Consume ``source`` and produce every record unchanged to ``target`` until ``stop`` is set."""
    consumer = Consumer({**consumer_config(base, group), "enable.auto.commit": True})
    producer = Producer(producer_config(base, LATENCY_PRODUCER))
    _assign_all(consumer, source, partitions)
    drain(consumer, block_s=0.0)
    ready.set()
    go.wait(_READY_TIMEOUT_S)
    produce = producer.produce
    while not stop.is_set():
        for message in drain(consumer):
            partition = message.partition()
            if message.error() is not None or partition is None:
                continue
            while True:
                try:
                    produce(
                        target,
                        message.value(),
                        message.key(),
                        partition=partition,
                        headers=message.headers(),
                    )
                    break
                except BufferError:
                    producer.poll(0.005)
        producer.poll(0)
    producer.flush(10)
    consumer.close()


def _sink_main(
    base: dict[str, str],
    group: str,
    topic: str,
    partitions: int,
    expected: int,
    timed: bool,
    deadline_s: float,
    ready: Event,
    out: mp.Queue[dict[str, Any]],
) -> None:
    """Read ``topic`` until ``expected`` measured records arrived (or the deadline); report via ``out``.

    ``timed``: decode every record and keep its latency (payload send time -> now); otherwise only
    count records and note the arrival time of the first and the last.
    """
    consumer = Consumer(consumer_config(base, group))
    _assign_all(consumer, topic, partitions)
    drain(consumer, block_s=0.0)
    ready.set()
    latencies_ms: list[float] = []
    seen: set[int] = set()
    received = measured = duplicates = 0
    first_ns = last_ns = 0
    give_up = time.monotonic() + deadline_s
    while measured < expected and time.monotonic() < give_up:
        messages = drain(consumer)
        if not messages:
            continue
        now = time.monotonic_ns()
        if not first_ns:
            first_ns = now
        last_ns = now
        for message in messages:
            value = message.value()
            if message.error() is not None or value is None:
                continue
            received += 1
            if not timed:
                measured += 1
                continue
            seq, sent_ns, flag = decode(value)
            if seq in seen:
                duplicates += 1
                continue
            seen.add(seq)
            if flag == FLAG_MEASURED:
                measured += 1
                latencies_ms.append((now - sent_ns) / 1e6)
    consumer.close()
    out.put(
        {
            "received": received,
            "measured": measured,
            "duplicates": duplicates,
            "first_ns": first_ns,
            "last_ns": last_ns,
            "latencies_ms": latencies_ms,
        }
    )


def _start(target: Any, args: tuple[Any, ...], name: str) -> SpawnProcess:
    process = _SPAWN.Process(target=target, args=args, name=name, daemon=True)
    process.start()
    return process


def _await_ready(events: list[Event], processes: list[SpawnProcess]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    for event, process in zip(events, processes, strict=True):
        while not event.wait(0.2):
            if not process.is_alive():
                raise RuntimeError(f"{process.name} exited with code {process.exitcode} before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{process.name} not ready after {_READY_TIMEOUT_S} s")


def _stop(processes: list[SpawnProcess]) -> None:
    for process in processes:
        process.join(15)
        if process.is_alive():
            process.terminate()
            process.join(5)


class Sink:
    """The measuring consumer, in its own process: start it, drive the pipeline, then :meth:`collect`."""

    def __init__(
        self, ctx: BenchContext, topic: str, partitions: int, expected: int, *, timed: bool, deadline_s: float
    ) -> None:
        self._ready = _SPAWN.Event()
        self._out: mp.Queue[dict[str, Any]] = _SPAWN.Queue()
        self._deadline_s = deadline_s
        args = (
            ctx.client_config,
            ctx.unique_name("sink"),
            topic,
            partitions,
            expected,
            timed,
            deadline_s,
            self._ready,
            self._out,
        )
        self.process = _start(_sink_main, args, f"sink({topic})")

    def await_ready(self) -> None:
        """Block until the sink has its partitions assigned and its first fetch issued."""
        _await_ready([self._ready], [self.process])

    def collect(self, watch: list[SpawnProcess] | None = None) -> dict[str, Any]:
        """Wait for the sink's report; fail early if the sink or a watched process dies."""
        give_up = time.monotonic() + self._deadline_s + 30
        while True:
            try:
                report = self._out.get(timeout=0.5)
                break
            except queue.Empty:
                for process in [self.process, *(watch or [])]:
                    if not process.is_alive() and process.exitcode not in (0, None):
                        raise RuntimeError(f"{process.name} died with exit code {process.exitcode}") from None
                if time.monotonic() > give_up:
                    raise TimeoutError(f"sink gave no report within {self._deadline_s + 30} s") from None
        _stop([self.process])
        return report


@contextlib.contextmanager
def _hops(
    ctx: BenchContext, topics: list[str], partitions: int
) -> Iterator[tuple[list[SpawnProcess], Event]]:
    """Run one relay process per consecutive topic pair; yields the processes and their ``go`` event."""
    go, stop = _SPAWN.Event(), _SPAWN.Event()
    ready = [_SPAWN.Event() for _ in topics[1:]]
    processes: list[SpawnProcess] = []
    try:
        for index, (source, target) in enumerate(itertools.pairwise(topics)):
            args = (
                ctx.client_config,
                ctx.unique_name("hop"),
                source,
                target,
                partitions,
                ready[index],
                go,
                stop,
            )
            processes.append(_start(_hop_main, args, f"hop {index + 1} ({source} -> {target})"))
        _await_ready(ready, processes)
        yield processes, go
    finally:
        stop.set()
        go.set()
        _stop(processes)


def run_source(
    base: dict[str, str], topic: str, *, rate: float, warmup: int, measured: int
) -> dict[str, float | int]:
    """Produce ``warmup`` then ``measured`` stamped records to ``topic`` at ``rate`` per second.

    The send time is stamped immediately before ``produce``. Returns the pacing facts: how far behind
    schedule the source fell at worst (so a reader can see whether the rate really was held).
    """
    producer, errors = new_producer(base, LATENCY_PRODUCER)
    interval = 1.0 / rate
    started = time.perf_counter()
    worst_lag = 0.0
    for seq in range(warmup + measured):
        due = started + seq * interval
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        else:
            worst_lag = max(worst_lag, now - due)
        flag = FLAG_WARMUP if seq < warmup else FLAG_MEASURED
        producer.produce(topic, encode(seq, flag), workflow_key(seq))
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or errors.count:
        raise RuntimeError(
            f"{topic}: {remaining} unflushed, {errors.count} failed deliveries ({errors.first})"
        )
    elapsed = time.perf_counter() - started
    return {
        "sent": warmup + measured,
        "achieved_rate": round((warmup + measured) / elapsed, 1),
        "worst_lag_ms": round(worst_lag * 1e3, 3),
    }


def preload(ctx: BenchContext, topic: str, messages: int) -> float:
    """Fill ``topic`` with ``messages`` keyed records (throughput preset); returns the seconds taken."""
    return fill_topic(ctx.client_config, topic, messages, keyed=True)


@dataclass(frozen=True)
class LatencyRun:
    """End-to-end latency of a pipeline at a fixed rate."""

    hops: int
    rate: float
    summary: LatencySummary
    sent: int
    received: int
    duplicates: int
    source: dict[str, float | int]


@dataclass(frozen=True)
class ThroughputRun:
    """Flat-out throughput of a pipeline draining a preloaded backlog."""

    hops: int
    messages: int
    received: int
    seconds: float
    msgs_per_s: float


def _topics(ctx: BenchContext, hops: int, partitions: int) -> list[str]:
    return [ctx.create_topic(f"relay{hops}-t{i}", partitions) for i in range(hops + 1)]


def relay_latency(
    ctx: BenchContext,
    hops: int,
    *,
    rate: float,
    warmup_s: float,
    duration_s: float,
    partitions: int | None = None,
) -> LatencyRun:
    """Measure source -> ``hops`` bare relays -> sink latency at a fixed ``rate`` (records per second)."""
    count = partitions or ctx.partitions
    topics = _topics(ctx, hops, count)
    warmup, measured = round(rate * warmup_s), round(rate * duration_s)
    with _hops(ctx, topics, count) as (processes, go):
        sink = Sink(ctx, topics[-1], count, measured, timed=True, deadline_s=warmup_s + duration_s + 60)
        sink.await_ready()
        go.set()
        source = run_source(ctx.client_config, topics[0], rate=rate, warmup=warmup, measured=measured)
        report = sink.collect(processes)
    latencies: list[float] = report["latencies_ms"]
    if not latencies:
        raise RuntimeError(f"relay of {hops} hops: no measured record reached the sink")
    return LatencyRun(
        hops=hops,
        rate=rate,
        summary=LatencySummary.of(latencies),
        sent=measured,
        received=int(report["measured"]),
        duplicates=int(report["duplicates"]),
        source=source,
    )


def relay_throughput(
    ctx: BenchContext, hops: int, *, messages: int, partitions: int | None = None
) -> ThroughputRun:
    """Preload ``messages`` records, then let ``hops`` relays drain them flat out into the sink.

    All relays and the sink are ready before any relay starts (a shared ``go``), so no hop runs alone
    on an idle machine. Throughput is counted at the sink from its first record to its last.
    """
    if hops < 1:
        raise ValueError("a relay throughput run needs at least one hop")
    count = partitions or ctx.partitions
    topics = _topics(ctx, hops, count)
    preload(ctx, topics[0], messages)
    with _hops(ctx, topics, count) as (processes, go):
        sink = Sink(ctx, topics[-1], count, messages, timed=False, deadline_s=600)
        sink.await_ready()
        go.set()
        report = sink.collect(processes)
    seconds = (int(report["last_ns"]) - int(report["first_ns"])) / 1e9
    received = int(report["received"])
    return ThroughputRun(
        hops=hops,
        messages=messages,
        received=received,
        seconds=seconds,
        msgs_per_s=received / seconds if seconds > 0 else 0.0,
    )

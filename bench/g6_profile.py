"""Per-record CPU of replay's decode + fold, without a broker read (``python -m bench.g6_profile``).

The records are the ones G6 replays: workflows run through the real pipeline (:mod:`bench.g6_replay`'s
writer), captured instead of produced, then turned into ``confluent_kafka.Message`` objects so the
decoder reads them exactly as it reads a consumer's batches. A pass folds them all (arrival order
interleaves partitions like a consumer's batches) and builds the timelines; the figure is CPU time
(``time.thread_time``: this thread only, not librdkafka's) per record, the median of several passes;
then the same records split into partition-group folds as ``--workers`` does (slowest fold, then the
parent's merge). ``--profile`` prints the top of a cProfile of one pass. It needs a schema registry
(the writer encodes through it):
``SCHEMA_REGISTRY_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` of a running stack (``corps dev up``).
"""

from __future__ import annotations

import cProfile
import gc
import os
import pickle
import pstats
import statistics
import time
from typing import Any

import click
from confluent_kafka import Message

from bench.context import SCALES, BenchContext
from bench.g6_replay import _PER_WORKFLOW, REPO, _drop_topics, _stage, _Writer
from corps.replay import Replayer, ReplayOptions, topology_readers
from corps.replay.fold import Fold
from corps.replay.parallel import partition_groups
from corps.replay.reader import Span
from corps.settings import CorpsSettings


class _Capture(_Writer):
    """The G6 writer, keeping the records instead of producing them."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.kept: list[Message] = []

    def _produce(
        self, topic: str, partition: int, key: bytes | None, value: bytes | None, headers: Any, ms: int
    ) -> None:
        offset = self.count
        self.kept.append(
            Message(
                topic=topic,
                partition=partition,
                offset=offset,
                key=key,
                value=value,
                headers=list(headers),
                timestamp=(1, ms),
            )
        )
        self.count += 1


def _capture(ctx: BenchContext, workflows: int) -> tuple[Any, list[Message]]:
    topology, _, catalog = _stage(ctx)
    writer = _Capture(ctx, topology, catalog)
    for seq in range(workflows):
        writer.workflow(seq)
        if seq % 200 == 199:
            writer.flush_pipeline()
    writer.flush_pipeline()
    writer.close()
    by_partition: dict[int, list[Message]] = {}
    for message in writer.kept:
        by_partition.setdefault(message.partition() or 0, []).append(message)
    mixed = [m for group in zip(*by_partition.values(), strict=False) for m in group]
    return topology, mixed


def _split(
    replayer: Replayer, messages: list[Message], options: ReplayOptions, workers: int
) -> tuple[float, float]:
    """CPU (s) of the slowest worker's fold + pickling, and of the parent's unpickling, merge and build."""
    sizes: dict[tuple[str, int], int] = {}
    for m in messages:
        sizes[(m.topic() or "", m.partition() or 0)] = sizes.get((m.topic() or "", m.partition() or 0), 0) + 1
    groups = partition_groups([Span(t, p, 0, n) for (t, p), n in sorted(sizes.items())], workers)
    slowest, payloads = 0.0, []
    gc.disable()
    try:
        for group in groups:
            wanted = {(s.topic, s.partition) for s in group}
            part = [m for m in messages if (m.topic(), m.partition()) in wanted]
            started = time.thread_time()
            fold = Fold(replayer.topology, replayer.topics, replayer.codec, options)
            fold.feed(_batches(part))
            payloads.append(pickle.dumps(fold.states(), protocol=pickle.HIGHEST_PROTOCOL))
            slowest = max(slowest, time.thread_time() - started)
        started = time.thread_time()
        states: dict[int, Any] = {}
        for payload in payloads:
            states.update(pickle.loads(payload))
        Fold(replayer.topology, replayer.topics, replayer.codec, options).merged(states).build()
        return slowest, time.thread_time() - started
    finally:
        gc.enable()


def _batches(messages: list[Message], size: int = 5000) -> list[list[Message]]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]


@click.command()
@click.option("--workflows", default=5000, show_default=True, help="Workflows (19 records each).")
@click.option("--passes", default=5, show_default=True)
@click.option("--profile", "show_profile", is_flag=True, help="Print a cProfile of one pass.")
@click.option("--projected", is_flag=True, help="Read every payload with the topology's reader schemas.")
@click.option("--keep-data/--no-keep-data", default=False, show_default=True)
@click.option("--workers", default=2, show_default=True, help="Also cost a split into this many folds.")
def main(
    workflows: int, passes: int, show_profile: bool, projected: bool, keep_data: bool, workers: int
) -> None:
    """Print replay's CPU microseconds per record (decode + fold + build), offline."""
    settings = CorpsSettings.from_env(os.environ)
    if settings.kafka is None or settings.registry is None:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL (corps dev status)")
    ctx = BenchContext(settings.kafka.client_config(), settings.registry.url, SCALES["small"])
    topology, messages = _capture(ctx, workflows)
    try:
        readers = topology_readers(topology, REPO / "schemas") if projected else {}
        options = ReplayOptions(keep_data=keep_data, readers=readers)
        with Replayer(topology, settings.kafka, settings.registry) as replayer:
            batches = _batches(messages)
            replayer.fold(batches, options)  # warm-up: writer schemas fetched once per id
            costs = []
            for _ in range(passes):
                started = time.thread_time()
                report = replayer.fold(batches, options)
                costs.append((time.thread_time() - started) / len(messages) * 1e6)
            splits = [_split(replayer, messages, options, workers) for _ in range(passes)]
            if show_profile:
                profiler = cProfile.Profile()
                profiler.enable()
                replayer.fold(batches, options)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    finally:
        _drop_topics(ctx, topology)
    click.echo(
        f"{len(messages)} records ({workflows} workflows x ~{_PER_WORKFLOW}), "
        f"{len(report.timelines)} timelines: {statistics.median(costs):.2f} us/record CPU "
        f"(passes {', '.join(f'{c:.2f}' for c in costs)})"
    )
    worker, parent = (statistics.median(x) / len(messages) * 1e6 for x in zip(*splits, strict=True))
    click.echo(
        f"split into {workers} folds (partition groups): slowest fold + pickling {worker:.2f} us/record, "
        f"then the parent's unpickling + merge + build {parent:.2f} us/record: critical path "
        f"{worker + parent:.2f} us/record on {workers} idle cores"
    )


if __name__ == "__main__":
    main()

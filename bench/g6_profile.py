"""Per-record CPU of replay's decode + fold, without a broker read (``python -m bench.g6_profile``).

The records are the ones G6 replays: workflows run through the real pipeline (:mod:`bench.g6_replay`'s
writer), captured instead of produced, then turned into ``confluent_kafka.Message`` objects so the
decoder reads them exactly as it reads a consumer's batches. A pass folds them all (arrival order
interleaves partitions like a consumer's batches) and builds the timelines; the figure is CPU time
(``time.thread_time``: this thread only, not librdkafka's) per record, the median of several passes. ``--profile`` prints the top of a
cProfile of one pass. It needs a schema registry (the writer encodes through it):
``SCHEMA_REGISTRY_URL`` and ``KAFKA_BOOTSTRAP_SERVERS`` of a running stack (``corps dev up``).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import time
from typing import Any

import click
from confluent_kafka import Message

from bench.context import SCALES, BenchContext
from bench.g6_replay import _PER_WORKFLOW, REPO, _drop_topics, _stage, _Writer
from corps.replay import Replayer, ReplayOptions, topology_readers
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


def _batches(messages: list[Message], size: int = 5000) -> list[list[Message]]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]


@click.command()
@click.option("--workflows", default=5000, show_default=True, help="Workflows (19 records each).")
@click.option("--passes", default=5, show_default=True)
@click.option("--profile", "show_profile", is_flag=True, help="Print a cProfile of one pass.")
@click.option("--projected", is_flag=True, help="Read every payload with the topology's reader schemas.")
@click.option("--keep-data/--no-keep-data", default=False, show_default=True)
def main(workflows: int, passes: int, show_profile: bool, projected: bool, keep_data: bool) -> None:
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


if __name__ == "__main__":
    main()

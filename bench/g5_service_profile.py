"""CPU per workflow of the live orchestrator service against a real broker, phase by phase (G3/G5 detail).

``bench.g3_profile`` measures the pipeline alone; this runs the whole service (consume, the
pipeline, the changelog, produce, ``send_offsets_to_transaction``, commit) in this process against
the broker of ``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL``, without agents: the G3
topology's four proposed events per workflow are written one event type at a time (as the agents'
waves arrive at full load) and the service's batches are run until each wave is consumed. It prints
the process CPU per workflow (every thread, librdkafka's included), the Python thread's, the
collector's, the broker's (with ``--kafka-pid``), the split of the service thread's CPU between the
pipeline (gate + orchestrator, ``pipeline_us_per_wf``) and the service loop around it (consume, records
in, produce, offsets, commit: ``loop_us_per_wf``), and the service's own phase timings (wall clock).

    python -m bench.g5_service_profile --workflows 20000 --kafka-pid PID [--gate-only]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from confluent_kafka import Producer

from bench.context import SCALES, BenchContext
from bench.g3_profile import proposals
from bench.g3_stage import make_stage
from corps.events import EventCodec, SchemaRegistry
from corps.orchestrator.heap import HeapPolicy
from corps.orchestrator.service import OrchestratorService
from corps.orchestrator.settings import OrchestratorSettings
from corps.orchestrator.topics import TopologyTopics
from corps.settings import KafkaSettings, RegistrySettings

__all__ = ["profile_service"]


def _cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Split:
    """Thread CPU of the service's steps, and of the pipeline calls within them (the rest is the loop's own).

    Each timed call costs two thread-clock reads (~1 µs per proposed record, counted as pipeline time).
    """

    def __init__(self, service: OrchestratorService) -> None:
        self.step_s = self.pipeline_s = 0.0
        pipeline = service.pipeline
        for name in ("handle", "tick", "changelog", "commit"):
            setattr(pipeline, name, self._timed(getattr(pipeline, name)))

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.thread_time()
            try:
                return call(*args)
            finally:
                self.pipeline_s += time.thread_time() - started

        return timed

    def step(self, service: OrchestratorService) -> None:
        started = time.thread_time()
        try:
            service.step()
        finally:
            self.step_s += time.thread_time() - started


class _GcClock:
    """Thread CPU spent in the cyclic collector (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds, self.collections, self._start = 0.0, 0, 0.0

    def __call__(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.seconds += time.thread_time() - self._start
            self.collections += 1


async def _measure(
    ctx: BenchContext, workflows: int, orchestrate: bool, kafka_pid: int | None
) -> dict[str, Any]:
    stage = make_stage(ctx, "svcprof")
    topics = TopologyTopics.of(stage.topology)
    registry = SchemaRegistry(RegistrySettings(url=ctx.registry_url))
    codec = EventCodec(registry, subject_strategy=topics.subject)
    producer = Producer({**ctx.client_config, "linger.ms": 20})
    settings = OrchestratorSettings(
        kafka=KafkaSettings(bootstrap_servers=ctx.bootstrap_servers),
        registry=RegistrySettings(url=ctx.registry_url),
        orchestrate=orchestrate,
        instance_id=ctx.unique_name("i"),
        policy_set=stage.name,  # as `corps orchestrator run` does by default
    )
    service = OrchestratorService(stage.topology, settings)
    clock = _GcClock()
    totals = dict.fromkeys(("process", "thread", "kafka", "wall"), 0.0)
    await service.start()
    heap = HeapPolicy(settings.gc_threshold, freeze=False, full_every_s=settings.gc_full_every_s)
    heap.enter()  # the threshold run() sets; step() freezes after each batch itself
    gc.callbacks.append(clock)
    try:
        while not service.ready.is_set():
            service.step()
        split = _Split(service)
        ids = [f"t-{n}-0" for n in range(workflows)]
        for seq, records in enumerate(proposals(stage.topology, codec, ids, at=None)):
            for record in records:
                while True:
                    try:
                        producer.produce(
                            record.topic, record.value, record.key, headers=cast(Any, record.headers)
                        )
                        break
                    except BufferError:
                        producer.poll(0.05)
            producer.flush(60)
            if seq == 0:
                clock.seconds, clock.collections = 0.0, 0
                split.step_s = split.pipeline_s = 0.0
                service.stats.seconds = dict.fromkeys(service.stats.seconds, 0.0)
            marks = (time.process_time(), time.thread_time(), _cpu_s(kafka_pid), time.perf_counter())
            while service.stats.records_in < workflows * (seq + 1):
                split.step(service)
            ends = (time.process_time(), time.thread_time(), _cpu_s(kafka_pid), time.perf_counter())
            for key, start, end in zip(totals, marks, ends, strict=True):
                totals[key] += end - start
    finally:
        gc.callbacks.remove(clock)
        heap.exit()
        gc.unfreeze()
        await service.close()
        registry.close()

    def per_wf(seconds: float) -> float:
        return round(seconds / workflows * 1e6, 1)

    return {
        "mode": "orchestrator on" if orchestrate else "gate only",
        "workflows": workflows,
        "process_us_per_wf": per_wf(totals["process"]),
        "python_thread_us_per_wf": per_wf(totals["thread"]),
        "pipeline_us_per_wf": per_wf(split.pipeline_s),
        "loop_us_per_wf": per_wf(split.step_s - split.pipeline_s),
        "gc_us_per_wf": per_wf(clock.seconds),
        "gc_collections": clock.collections,
        "broker_us_per_wf": per_wf(totals["kafka"]) if kafka_pid else None,
        "wf_per_s": round(workflows / totals["wall"], 1),
        "batches": service.stats.batches,
        "phases_us_per_wf": {k: per_wf(v) for k, v in service.stats.seconds.items()},
    }


def profile_service(
    ctx: BenchContext, workflows: int, *, orchestrate: bool, kafka_pid: int | None = None
) -> dict[str, Any]:
    """Run the service over ``workflows`` G3 workflows; return its CPU per workflow and phase timings."""
    return asyncio.run(_measure(ctx, workflows, orchestrate, kafka_pid))


def main() -> None:
    """Print the figures of one run (JSON)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workflows", type=int, default=20_000)
    parser.add_argument("--gate-only", action="store_true")
    parser.add_argument("--kafka-pid", type=int, help="the broker's pid, to count its CPU too")
    args = parser.parse_args()
    ctx = BenchContext(
        {"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"]},
        os.environ["SCHEMA_REGISTRY_URL"],
        SCALES["full"],
    )
    try:
        result = profile_service(
            ctx, args.workflows, orchestrate=not args.gate_only, kafka_pid=args.kafka_pid
        )
    finally:
        ctx.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

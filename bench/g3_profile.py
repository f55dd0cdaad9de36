"""Where the gate + orchestrator's CPU goes per workflow, in process and without a broker (G3/G5 detail).

The G3 choreography's four proposed events per workflow (TicketOpened, TicketTriaged, RefundIssued,
ReplyDrafted, written the way the agents write them: causation id, step, trace context) go through a
:class:`~corps.orchestrator.pipeline.Pipeline` in batches, as the service hands them over: ``handle``
per record, ``tick``, the changelog records, ``commit``. The codec's schema ids are primed, so no
registry is needed. Run ``python -m bench.g3_profile [--cprofile]`` for the figures (µs of CPU per
workflow and per proposed record, orchestrator stage on and off).
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.g3_stage import TOPOLOGY
from corps.events import Envelope, EventCodec, EventModel, OutgoingRecord, RawRecord, SchemaRegistry
from corps.events.demo import Customer, RefundIssued, ReplyDrafted, TicketOpened, TicketTriaged
from corps.events.lifecycle import EVENTS
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.topics import TopologyTopics
from corps.settings import RegistrySettings
from corps.topology import Topology, parse_topology

__all__ = ["profile_us", "proposals"]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_BATCH = 500
_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _topology() -> Topology:
    return parse_topology(TOPOLOGY.format(name="g3p", partitions=3), Path("g3p.yaml")).topology


def _codec(topology: Topology) -> EventCodec:
    topics = TopologyTopics.of(topology)
    codec = EventCodec(
        SchemaRegistry(RegistrySettings(url="http://127.0.0.1:9")), subject_strategy=topics.subject
    )
    ids = itertools.count(1)
    domain: dict[str, type[EventModel]] = {
        "TicketOpened": TicketOpened,
        "TicketTriaged": TicketTriaged,
        "RefundIssued": RefundIssued,
        "ReplyDrafted": ReplyDrafted,
    }
    for name, model in domain.items():
        schema_id = next(ids)
        proposed = next(t for t, e in topics.proposed.items() if e == name)
        for topic in (proposed, topics.admitted[name]):
            codec.cache_schema(schema_id, model.schema_ref(), topic=topic)
    for lifecycle in EVENTS:
        schema_id = next(ids)
        for topic in (topics.lifecycle, topics.lifecycle_proposed, topics.decisions):
            codec.cache_schema(schema_id, lifecycle.schema_ref(), topic=topic)
    return codec


def _payloads() -> list[tuple[str, EventModel, str | None]]:
    customer = Customer(customer_id="c-1", name="Ada", email="ada@example.com")
    opened = TicketOpened(
        ticket_id="t-1", customer=customer, subject="refund please", body="broken", refund_amount_cents=1250
    )
    return [
        ("TicketOpened", opened, None),
        (
            "TicketTriaged",
            TicketTriaged(ticket_id="t-1", category="BILLING", priority="NORMAL", needs_refund=True),
            "triage",
        ),
        ("RefundIssued", RefundIssued(ticket_id="t-1", refund_id="r-t-1", amount_cents=1250), "refund"),
        ("ReplyDrafted", ReplyDrafted(ticket_id="t-1", body="refund r-t-1 issued"), "draft"),
    ]


def proposals(
    topology: Topology, codec: EventCodec, ids: list[str], *, at: datetime | None = _T0
) -> Iterator[list[OutgoingRecord]]:
    """The choreography's proposed records, one list per event in order, each with one record per id.

    Written the way the agents write them (causation id, step, trace context). ``at``: the first
    event's time (the next ones 1 ms apart); ``None``: the time of writing (for a live service, whose
    deadlines run on its clock).
    """
    topics = TopologyTopics.of(topology)
    cause: dict[str, str] = {}
    for seq, (name, payload, step) in enumerate(_payloads()):
        topic = next(t for t, e in topics.proposed.items() if e == name)
        records = []
        for workflow_id in ids:
            envelope = Envelope.new(
                payload.event_type,
                tenant="bench",
                workflow_id=workflow_id,
                source="bench" if step is None else f"corps/agent/{step}",
                time=None if at is None else at + timedelta(milliseconds=seq),
                causation_id=cause.get(workflow_id),
                step=step,
                traceparent=None if step is None else _TRACE,
            )
            cause[workflow_id] = envelope.id
            records.append(codec.encode(topic, payload, envelope))
        yield records


def _batches(topology: Topology, codec: EventCodec, workflows: int) -> list[list[RawRecord]]:
    """Batches of proposed records: each batch one event type of ``_BATCH`` workflows (as at full load)."""
    offsets = itertools.count()
    batches: list[list[RawRecord]] = []
    for first in range(0, workflows, _BATCH):
        ids = [f"t-{n}-0" for n in range(first, min(first + _BATCH, workflows))]
        batches.extend(
            [
                RawRecord(r.topic, hash(r.key) % 3, next(offsets), r.key, r.value, list(r.headers))
                for r in records
            ]
            for records in proposals(topology, codec, ids)
        )
    return batches


def _run(pipeline: Pipeline, batches: list[list[RawRecord]]) -> int:
    out = 0
    for batch in batches:
        now = _T0 + timedelta(seconds=1)
        for raw in batch:
            pipeline.handle(raw, now)
        pipeline.tick(now)
        out += len(pipeline.outputs) + len(pipeline.changelog())
        pipeline.commit()
    return out


def profile_us(workflows: int = 10_000, *, orchestrate: bool = True) -> dict[str, float]:
    """µs of CPU per workflow (four proposed records) and per record through the whole pipeline."""
    topology = _topology()
    codec = _codec(topology)
    batches = _batches(topology, codec, workflows)
    _run(Pipeline(topology, codec, orchestrate=orchestrate), _batches(topology, codec, 500))  # warm up
    pipeline = Pipeline(topology, codec, orchestrate=orchestrate)
    started = time.process_time()
    out = _run(pipeline, batches)
    seconds = time.process_time() - started
    return {
        "us_per_workflow": round(seconds / workflows * 1e6, 1),
        "us_per_record": round(seconds / (workflows * 4) * 1e6, 1),
        "records_out_per_workflow": round(out / workflows, 2),
    }


def main() -> None:
    """Print the figures (and, with ``--cprofile``, the top functions of the orchestrated run)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    for orchestrate in (False, True):
        print(
            "orchestrate" if orchestrate else "gate only  ",
            profile_us(args.workflows, orchestrate=orchestrate),
        )
    if args.cprofile:
        topology = _topology()
        codec = _codec(topology)
        batches = _batches(topology, codec, args.workflows)
        pipeline = Pipeline(topology, codec)
        with cProfile.Profile() as prof:
            _run(pipeline, batches)
        pstats.Stats(prof).sort_stats("tottime").print_stats(35)


if __name__ == "__main__":
    main()

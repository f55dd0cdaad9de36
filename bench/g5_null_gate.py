"""The "null gate" of G5's ceiling: the orchestrator service's Kafka traffic with no corps logic per record.

Started in place of ``corps orchestrator run`` (``python -m bench.g5_null_gate SPEC.json``), it reads
the topology's proposed topics and, one transaction per batch with the batch's offsets exactly like
the service (same consumer and producer configuration, same batching, same heap policy), writes for
each proposed record

* the record, value and headers byte for byte, to its admitted topic (same partition), and one decision
  record of the real size and headers (a prebuilt copy, keyed by the workflow);
* with ``orchestrate``: after TicketOpened a WorkflowStarted, after ReplyDrafted a WorkflowCompleted,
  each with its decision record (prebuilt copies of real ones);

and, per batch, one changelog record per workflow touched, of the real size for that workflow's last
event (gate-only or orchestrated record). Every value is a prebuilt copy of a record the real service
wrote in the same run (:mod:`bench.g5_ceiling` takes them from its topics), so the throughput with
and without the orchestrator's records is what the record design alone allows on this machine.
"""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from corps.orchestrator.clients import check_topics, consumer_config, producer_config
from corps.orchestrator.heap import HeapPolicy
from corps.orchestrator.settings import OrchestratorSettings
from corps.orchestrator.topics import TopologyTopics
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology import load_topology

__all__ = ["EVENTS", "Copy", "Templates", "serve"]

EVENTS = ("TicketOpened", "TicketTriaged", "RefundIssued", "ReplyDrafted")
"""The choreography's proposed events, in workflow order (the index of a template list)."""

Copy = tuple[bytes, list[tuple[str, bytes]]]
"""A prebuilt record: value and headers."""


@dataclass(frozen=True)
class Templates:
    """Copies of real records of one mode (gate-only or orchestrated), per event in :data:`EVENTS` order.

    Attributes:
        decisions: The decision record about each admitted event.
        states: The changelog value after each event.
        started: WorkflowStarted and its decision record (orchestrated only).
        completed: WorkflowCompleted and its decision record (orchestrated only).
    """

    decisions: list[Copy]
    states: list[bytes]
    started: list[Copy]
    completed: list[Copy]

    def to_json(self) -> dict[str, Any]:
        def copy(item: Copy) -> dict[str, Any]:
            return {"value": item[0].hex(), "headers": [[k, v.hex()] for k, v in item[1]]}

        return {
            "decisions": [copy(c) for c in self.decisions],
            "states": [s.hex() for s in self.states],
            "started": [copy(c) for c in self.started],
            "completed": [copy(c) for c in self.completed],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Templates:
        def copy(item: dict[str, Any]) -> Copy:
            return bytes.fromhex(item["value"]), [(k, bytes.fromhex(v)) for k, v in item["headers"]]

        return cls(
            decisions=[copy(c) for c in data["decisions"]],
            states=[bytes.fromhex(s) for s in data["states"]],
            started=[copy(c) for c in data["started"]],
            completed=[copy(c) for c in data["completed"]],
        )


def _plans(
    topics: TopologyTopics, templates: Templates
) -> dict[str, tuple[str, int, list[tuple[str, Copy]]]]:
    """Per proposed topic: its admitted topic, its event's index and the extra records to write."""
    plans: dict[str, tuple[str, int, list[tuple[str, Copy]]]] = {}
    for proposed, event in topics.proposed.items():
        index = EVENTS.index(event) if event in EVENTS else 0
        extra = [(topics.decisions, templates.decisions[index])]
        if templates.started and index == 0:
            extra += [(topics.lifecycle, templates.started[0]), (topics.decisions, templates.started[1])]
        if templates.completed and index == len(EVENTS) - 1:
            extra += [(topics.lifecycle, templates.completed[0]), (topics.decisions, templates.completed[1])]
        plans[proposed] = (topics.admitted[event] if event else topics.lifecycle, index, extra)
    return plans


def serve(spec: dict[str, Any], stop: list[bool]) -> dict[str, int]:
    """Copy proposed records to their outputs until ``stop[0]`` is set; return counters."""
    topology = load_topology(Path(spec["topology"])).topology
    topics = TopologyTopics.of(topology)
    settings = OrchestratorSettings(
        kafka=KafkaSettings(bootstrap_servers=spec["bootstrap_servers"]),
        registry=RegistrySettings(url=spec["registry_url"]),
        orchestrate=spec["orchestrate"],
        instance_id=spec["instance_id"],
    )
    base = settings.kafka.client_config()
    check_topics(base, topology, topics, create=True)
    name = topology.workflow.name
    transactional_id = f"corps-orchestrator.{name}.{settings.instance_id}"
    producer = Producer(producer_config(base, transactional_id, settings))
    producer.init_transactions(60)
    consumer = Consumer(consumer_config(base, f"corps-orchestrator.{name}", transactional_id, settings))
    consumer.subscribe(topics.inputs)
    templates = Templates.from_json(spec["templates"])
    plans, states, state_topic = _plans(topics, templates), templates.states, topics.state
    produce: Any = producer.produce
    heap = HeapPolicy(settings.gc_threshold, freeze=settings.gc_freeze, full_every_s=settings.gc_full_every_s)
    heap.enter()
    counts = {"batches": 0, "records_in": 0, "records_out": 0}
    wait_s, most = settings.max_wait_ms / 1000, settings.max_batch
    message: Any
    try:
        while not stop[0]:
            messages = consumer.consume(most, 0)
            if not messages:
                messages = consumer.consume(1, wait_s)
                if messages and most > 1:
                    messages += consumer.consume(most - 1, 0)
            if not messages:
                continue
            producer.begin_transaction()
            offsets: dict[tuple[str, int], int] = {}
            touched: dict[bytes, tuple[int, bytes]] = {}
            out = 0
            for message in messages:
                if message.error() is not None:
                    continue
                topic, partition, key = message.topic(), message.partition(), message.key()
                offsets[topic, partition] = message.offset() + 1
                admitted, index, extra = plans[topic]
                produce(admitted, message.value(), key, partition=partition, headers=message.headers())
                for target, (value, headers) in extra:
                    produce(target, value, key, partition=partition, headers=headers)
                touched[key] = (partition, states[index])
                out += 1 + len(extra)
            for key, (partition, value) in touched.items():
                produce(state_topic, value, key, partition=partition)
            positions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(60)
            heap.committed()
            counts["batches"] += 1
            counts["records_in"] += len(messages)
            counts["records_out"] += out + len(touched)
    finally:
        heap.exit()
        consumer.close()
    return counts


def main() -> None:
    """Serve the spec file named on the command line until SIGTERM; print the counters."""
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    stop = [False]

    def request_stop(_signum: int, _frame: object) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    counts = serve(spec, stop)
    print(f"null gate stopped: {json.dumps(counts)}", file=sys.stderr)


if __name__ == "__main__":
    main()

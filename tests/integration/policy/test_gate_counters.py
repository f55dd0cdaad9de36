"""Stateful policies in the gate on the real broker, with injected time (the records' timestamps).

* throttle: 80 events of one tenant at 20/s over 4 s, spread round-robin over the topology's 3
  partitions, against ``rate: 5/s, burst: 5`` (split evenly: 5/3 per second on each partition) → the
  tenant as a whole is admitted within the stated tolerance ``[rate x 4 s, rate x 4 s + burst + 1]``;
* budget: ``limit 30 per 1m`` (10 on each of the 3 partitions), events of 10 on partitions 0, 1, 2, 0
  → the fourth in a window is refused, the next window admits again.

Every event is counted on the admitted topic (the agent's input) and in the decision log.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from tests.integration.orchestrator.orch_bed import Bed, ServiceThread, Tail, header

from corps.cli.main import cli
from corps.events import Envelope
from corps.events.lifecycle import PolicyDecision
from corps.policy import PolicyStore, load_policy_files

pytestmark = pytest.mark.integration

POLICIES = """
set: {name}
policies:
  - id: a-rate
    version: 1
    match: {{events: [A]}}
    condition: "event.data.n.startsWith('t')"
    throttle: {{rate: 5, per: 1s, burst: 5, by: [tenant]}}
  - id: a-budget
    version: 1
    match: {{events: [A]}}
    condition: "event.data.n.startsWith('b')"
    budget: {{amount: "10", limit: 30, window: 1m, by: [tenant]}}
"""


def send_at(bed: Bed, producer: Producer, workflow_id: str, tenant: str, n: str, at_ms: int) -> str:
    payload = bed.models["A"](n=n)  # type: ignore[call-arg]
    when = datetime.fromtimestamp(at_ms / 1000, UTC)
    envelope = Envelope.new(
        payload.event_type, tenant=tenant, workflow_id=workflow_id, source="test", time=when
    )
    topic = next(t for t, e in bed.topics.proposed.items() if e == "A")
    record = bed.codec.encode(topic, payload, envelope)
    producer.produce(
        record.topic, record.value, record.key, headers=cast(Any, record.headers), timestamp=at_ms
    )
    return envelope.id


def on_partition(prefix: str, partition: int, partitions: int) -> str:
    """A workflow id the producer's default partitioner (CRC-32 of the key) puts on ``partition``."""
    return next(
        f"{prefix}-{j}" for j in range(1000) if zlib.crc32(f"{prefix}-{j}".encode()) % partitions == partition
    )


def test_throttle_rate_and_budget_window_with_event_time(
    bed: Bed, unique: Callable[[str], str], kafka_config: dict[str, str], tmp_path: Path
) -> None:
    set_name = unique("set")
    file = tmp_path / "counters.yaml"
    file.write_text(POLICIES.format(name=set_name), encoding="utf-8")
    store = PolicyStore(kafka_config)  # the default topic: `corps replay --verify` reads the set there
    store.ensure_topic()
    store.publish(load_policy_files([file]).policy_set)

    minute = (int(datetime.now(UTC).timestamp()) // 60 - 10) * 60_000  # a minute boundary in the past
    producer = Producer({**bed.config, "enable.idempotence": True})
    p = bed.topology.topics.partitions
    assert p == 3
    throttled = [
        send_at(bed, producer, on_partition(f"wf-rate{i}", i % p, p), "acme", f"t{i}", minute + i * 50)
        for i in range(80)
    ]
    budget_times = [minute + 1000, minute + 2000, minute + 3000, minute + 4000, minute + 61_000]
    budgeted = [
        send_at(bed, producer, on_partition(f"wf-budget{n}", part, p), "acme", "b10", at)
        for n, (part, at) in enumerate(zip([0, 1, 2, 0, 1], budget_times, strict=True))
    ]
    assert producer.flush(30) == 0

    admitted = Tail(bed, bed.topics.admitted["A"])
    decisions = Tail(bed, bed.topics.decisions)
    settings = bed.settings(orchestrate=False, policy_set=set_name, policies_topic=store.topic)
    with ServiceThread(bed, settings):
        decisions.until(lambda r: len(r) >= len(throttled) + len(budgeted))
        admitted.poll(1.0)
        decisions.poll(0.5)
    assert len(decisions.records) == len(throttled) + len(budgeted), "one decision per event"

    admitted_ids = [header(r, "ce_id") for r in admitted.records]
    assert len(set(admitted_ids)) == len(admitted_ids), "nothing admitted twice"
    rate_admitted = [i for i in throttled if i in admitted_ids]
    # 80 events over 4.0 s at 5/s with a burst of 5, in total over the 3 partitions: at most 20 refills
    # + the burst + one event (each partition: one per 600 ms, a burst of 5 // 3 = 1 -> 7 each, 21).
    assert 20 <= len(rate_admitted) <= 26, len(rate_admitted)
    admitted_partitions = {r.partition for r in admitted.records}
    assert admitted_partitions == {0, 1, 2}, "the tenant's events were spread over every partition"
    effects = {bed.codec.decode(r, PolicyDecision).payload.decided_event_id: bed.codec.decode(
        r, PolicyDecision).payload.effect for r in decisions.records}  # fmt: skip
    assert [effects[i] for i in budgeted] == ["ALLOW", "ALLOW", "ALLOW", "DENY", "ALLOW"]
    assert [i in admitted_ids for i in budgeted] == [True, True, True, False, True]
    admitted.close()
    decisions.close()

    # `corps replay --verify` re-takes every decision with the topology's P: the split agrees.
    env = {"KAFKA_BOOTSTRAP_SERVERS": bed.kafka.bootstrap_servers, "SCHEMA_REGISTRY_URL": bed.registry.url}
    args = ["replay", "--topology", str(bed.file), "--verify", "--format", "jsonl"]
    replayed = CliRunner().invoke(cli, args, env=env)
    assert replayed.exit_code == 0, replayed.output
    summary = next(json.loads(line) for line in replayed.stdout.splitlines() if '"verification"' in line)
    assert summary["ok"]
    assert summary["counts"]["decisions_reevaluated"] == len(throttled) + len(budgeted)

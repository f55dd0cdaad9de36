"""Stateful policies in the gate on the real broker, with injected time (the records' timestamps).

* throttle: 80 events at 20/s over 4 s against ``rate: 5/s, burst: 5`` → admitted within the stated
  tolerance ``[rate x 4 s, rate x 4 s + burst + 1]``;
* budget: ``limit 30 per 1m``, events of 10 → the fourth in a window is refused, the next window admits
  again.

Every event is counted on the admitted topic (the agent's input) and in the decision log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from confluent_kafka import Producer
from tests.integration.orchestrator.orch_bed import Bed, ServiceThread, Tail, header

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


def test_throttle_rate_and_budget_window_with_event_time(
    bed: Bed, unique: Callable[[str], str], kafka_config: dict[str, str], tmp_path: Path
) -> None:
    set_name = unique("set")
    file = tmp_path / "counters.yaml"
    file.write_text(POLICIES.format(name=set_name), encoding="utf-8")
    store = PolicyStore(kafka_config, topic=unique("policies"))
    store.ensure_topic()
    store.publish(load_policy_files([file]).policy_set)

    minute = (int(datetime.now(UTC).timestamp()) // 60 - 10) * 60_000  # a minute boundary in the past
    producer = Producer({**bed.config, "enable.idempotence": True})
    throttled = [send_at(bed, producer, "wf-rate", "acme", f"t{i}", minute + i * 50) for i in range(80)]
    budget_times = [minute + 1000, minute + 2000, minute + 3000, minute + 4000, minute + 61_000]
    budgeted = [send_at(bed, producer, "wf-budget", "acme", "b10", at) for at in budget_times]
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
    # 80 events over 4.0 s at 5/s with a burst of 5: 20 refills + the burst, within one event.
    assert 20 <= len(rate_admitted) <= 26, len(rate_admitted)
    effects = {bed.codec.decode(r, PolicyDecision).payload.decided_event_id: bed.codec.decode(
        r, PolicyDecision).payload.effect for r in decisions.records}  # fmt: skip
    assert [effects[i] for i in budgeted] == ["ALLOW", "ALLOW", "ALLOW", "DENY", "ALLOW"]
    assert [i in admitted_ids for i in budgeted] == [True, True, True, False, True]
    admitted.close()
    decisions.close()

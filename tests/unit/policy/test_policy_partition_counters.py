"""Throttle and budget counters in the gate are kept per partition of the proposed topics.

What that means, pinned with ``split: none`` (the limit held on each partition; the default even
split is in test_policy_split.py): a tenant spread over two partitions gets the rate on each; a
partition's counters are written to, and restored from, its own changelog partition — so a replica
that takes a partition over continues exactly where the previous one stopped, and several replicas
decide exactly as one; a failed transaction forgets its charges.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from policy_helpers import T0, event, policy_set

from corps.events import EventCodec, RawRecord
from corps.orchestrator.policy import GateContext
from corps.orchestrator.policy import ProposedEvent as GateEvent
from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import PolicyEngine

RATE = """
set: s
policies:
  - id: rate
    version: 1
    throttle: {rate: 2, per: 1m, by: [tenant], split: none}
"""
CONTEXT = GateContext(cast(Any, None), 0, T0)


def gate(tmp_path: Path) -> EnginePolicy:
    return EnginePolicy(PolicyEngine(policy_set(tmp_path, RATE), partitions=3), cast(EventCodec, None))


def proposed(partition: int, seconds: int, tenant: str = "acme") -> GateEvent:
    ev = event("A", {}, tenant=tenant, event_id=f"e-{partition}-{seconds}")
    at_ms = int((T0 + timedelta(seconds=seconds)).timestamp() * 1000)
    raw = RawRecord("p", partition, seconds, b"k", b"\0\0\0\0\1", (), at_ms)
    return GateEvent(ev.envelope, ev.data, "A", raw, "admitted")


def effects(policy: EnginePolicy, events: list[GateEvent]) -> list[str]:
    made = [policy.decide(e, CONTEXT).effect for e in events]
    return [str(m) for m in made]


def test_a_split_none_limit_holds_per_partition(tmp_path: Path) -> None:
    policy = gate(tmp_path)
    run = [proposed(0, 1), proposed(0, 2), proposed(1, 3), proposed(0, 4), proposed(1, 5), proposed(1, 6)]
    assert effects(policy, run) == ["ALLOW", "ALLOW", "ALLOW", "DENY", "ALLOW", "DENY"]


def test_several_replicas_decide_as_one(tmp_path: Path) -> None:
    run = [proposed(p, s) for s, p in enumerate([0, 1, 1, 0, 0, 1, 2, 0, 1, 2, 2, 2], start=1)]
    one = effects(gate(tmp_path), run)
    replicas = {p: gate(tmp_path) for p in (0, 1, 2)}
    many = [effects(replicas[e.raw.partition], [e])[0] for e in run]
    assert many == one
    assert one.count("DENY") == 6


def test_a_partition_taken_over_continues_from_its_changelog(tmp_path: Path) -> None:
    first = gate(tmp_path)
    assert effects(first, [proposed(0, 1), proposed(0, 2), proposed(1, 3)]) == ["ALLOW"] * 3
    written = first.changelog()
    first.commit()
    assert sorted(p for p, _key, _value in written) == [0, 1]
    assert all(b'"partition":' in value for _p, _key, value in written)
    taker = gate(tmp_path)  # a replica assigned partition 0 only restores partition 0's changelog
    assert taker.restore([value for p, _key, value in written if p == 0]) == 1
    assert effects(taker, [proposed(0, 4), proposed(1, 5)]) == ["DENY", "ALLOW"]


def test_a_rolled_back_batch_is_not_charged(tmp_path: Path) -> None:
    policy = gate(tmp_path)
    assert effects(policy, [proposed(0, 1), proposed(0, 2)]) == ["ALLOW", "ALLOW"]
    policy.rollback()
    assert policy.changelog() == []
    assert effects(policy, [proposed(0, 3), proposed(0, 4)]) == ["ALLOW", "ALLOW"]  # read again
    policy.commit()
    assert effects(policy, [proposed(0, 5)]) == ["DENY"]


def test_counters_written_before_partitions_apply_to_every_partition(tmp_path: Path) -> None:
    first = gate(tmp_path)
    effects(first, [proposed(0, 1), proposed(0, 2)])
    legacy = [value.replace(b',"partition":0', b"") for _p, _key, value in first.changelog()]
    taker = gate(tmp_path)
    assert taker.restore(legacy) == 1
    assert effects(taker, [proposed(0, 3), proposed(1, 4)]) == ["DENY", "DENY"]

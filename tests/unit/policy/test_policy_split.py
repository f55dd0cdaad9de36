"""``split: even | none``: a throttle's or budget's limit shared by the P partitions, or held on each.

Counters stay per partition (deterministic, replica-independent, re-checkable by replay); with
``split: even`` (the default) the configured figure bounds the key as a whole — the sum over the
partitions never exceeds it — while ``split: none`` keeps the per-partition meaning and counters keyed
by the workflow are never split. The runs below go through the gate's own policy stage.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from policy_helpers import T0, event, policy_set

from corps.errors import ConfigurationError
from corps.events import EventCodec, RawRecord
from corps.orchestrator.policy import GateContext
from corps.orchestrator.policy import ProposedEvent as GateEvent
from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import PolicyEngine, compile_policy_set
from corps.policy.models import CounterSplit

CONTEXT = GateContext(cast(Any, None), 0, T0)
SECOND_NS = 1_000_000_000


def rule_set(tmp_path: Path, effect: str) -> str:
    return f"set: s\npolicies:\n  - id: lim\n    version: 1\n    {effect}\n"


def gate(tmp_path: Path, effect: str, partitions: int) -> EnginePolicy:
    engine = PolicyEngine(policy_set(tmp_path, rule_set(tmp_path, effect)), partitions=partitions)
    return EnginePolicy(engine, cast(EventCodec, None))


def proposed(
    partition: int, at_ms: int, *, n: int, tenant: str = "acme", workflow: str = "wf-1", amount: int = 0
) -> GateEvent:
    ev = event("A", {"amount": amount}, tenant=tenant, event_id=f"e-{n}", workflow_id=workflow)
    at = T0 + timedelta(milliseconds=at_ms)
    raw = RawRecord("p", partition, n, b"k", b"\0\0\0\0\1", (), int(at.timestamp() * 1000))
    return GateEvent(ev.envelope, ev.data, "A", raw, "admitted")


def generated(seed: int, count: int, partitions: int, span_ms: int) -> list[GateEvent]:
    """``count`` events of one tenant, spread at random over the partitions and ``span_ms``, in time order."""
    rng = random.Random(seed)
    times = sorted(rng.randrange(span_ms) for _ in range(count))
    return [
        proposed(rng.randrange(partitions), t, n=n, amount=rng.randrange(1, 60)) for n, t in enumerate(times)
    ]


def admitted(policy: EnginePolicy, events: list[GateEvent]) -> list[GateEvent]:
    return [e for e in events if policy.decide(e, CONTEXT).effect != "DENY"]


def most_in_a_window(events: list[GateEvent], window_ms: int) -> int:
    """The most events with record timestamps in any half-open window of ``window_ms``."""
    stamps = [cast(int, e.raw.timestamp_ms) for e in events]
    return max((sum(1 for s in stamps if t <= s < t + window_ms) for t in stamps), default=0)


# -- the split constants ----------------------------------------------------------------------------------


def test_throttle_split_p1_vs_p4(tmp_path: Path) -> None:
    body = rule_set(tmp_path, "throttle: {rate: 10, per: 1s, by: [tenant]}")
    one = compile_policy_set(policy_set(tmp_path, body)).policies[0]
    four = compile_policy_set(policy_set(tmp_path, body), partitions=4).policies[0]
    assert (one.period_ns, one.tolerance_ns) == (SECOND_NS // 10, 9 * SECOND_NS // 10)
    assert four.period_ns == 4 * SECOND_NS // 10  # each partition: 2.5 per second
    assert four.tolerance_ns == (10 // 4 - 1) * four.period_ns  # burst 10 -> 2 per partition
    assert four.limit_text == "10 per 1s over 4 partitions"


def test_throttle_split_rounds_the_interval_up_and_keeps_a_burst_of_one(tmp_path: Path) -> None:
    body = rule_set(tmp_path, "throttle: {rate: 3, per: 1s, burst: 2}")
    four = compile_policy_set(policy_set(tmp_path, body), partitions=4).policies[0]
    assert four.period_ns == -(-4 * SECOND_NS // 3)  # 1.333...s rounded up: 4 rates add up to <= 3/s
    assert four.period_ns * 3 >= 4 * SECOND_NS
    assert four.tolerance_ns == 0  # burst 2 // 4 -> at least one event


def test_budget_split_p1_vs_p4(tmp_path: Path) -> None:
    body = rule_set(tmp_path, "budget: {amount: event.data.amount, limit: 1000, window: 1h}")
    one = compile_policy_set(policy_set(tmp_path, body)).policies[0]
    four = compile_policy_set(policy_set(tmp_path, body), partitions=4).policies[0]
    assert (one.budget_limit, one.budget_text) == (1000.0, "1000")
    assert (four.budget_limit, four.budget_text) == (250.0, "250 (1000 over 4 partitions)")
    odd = compile_policy_set(policy_set(tmp_path, body.replace("1000", "1")), partitions=3).policies[0]
    assert odd.budget_limit * 3 <= 1  # never more than the limit in total, even in floating point


@pytest.mark.parametrize("effect", ["throttle: {rate: 10, per: 1s", "budget: {amount: '1', limit: 9"])
def test_none_and_workflow_counters_are_not_split(tmp_path: Path, effect: str) -> None:
    base = compile_policy_set(policy_set(tmp_path, rule_set(tmp_path, effect + "}"))).policies[0]
    for extra in (", split: none}", ", by: [workflow]}", ", by: [tenant, workflow], split: even}"):
        cset = compile_policy_set(policy_set(tmp_path, rule_set(tmp_path, effect + extra)), partitions=4)
        got = cset.policies[0]
        assert (got.period_ns, got.tolerance_ns, got.budget_limit) == (
            base.period_ns,
            base.tolerance_ns,
            base.budget_limit,
        ), extra


def test_split_is_part_of_the_set_content_and_digest(tmp_path: Path) -> None:
    even = policy_set(tmp_path, rule_set(tmp_path, "throttle: {rate: 10}"))
    none = policy_set(tmp_path, rule_set(tmp_path, "throttle: {rate: 10, split: none}"))
    assert even.policies[0].throttle is not None
    assert even.policies[0].throttle.split is CounterSplit.EVEN
    assert even.content()["policies"][0]["throttle"]["split"] == "even"
    assert even.digest != none.digest


def test_content_published_before_split_reads_as_none(tmp_path: Path) -> None:
    content = policy_set(tmp_path, rule_set(tmp_path, "throttle: {rate: 10}")).content()
    del content["policies"][0]["throttle"]["split"]
    legacy = type(policy_set(tmp_path, rule_set(tmp_path, "allow: {}"))).from_content(content, 3)
    assert legacy.policies[0].throttle is not None
    assert legacy.policies[0].throttle.split is CounterSplit.NONE


def test_a_gate_refuses_an_engine_built_for_another_partition_count(tmp_path: Path) -> None:
    engine = PolicyEngine(policy_set(tmp_path, rule_set(tmp_path, "throttle: {rate: 10}")), partitions=2)
    with pytest.raises(ConfigurationError, match="2 partitions, the gate has 3"):
        EnginePolicy(engine, cast(EventCodec, None), partitions=3)
    assert EnginePolicy(None, cast(EventCodec, None), partitions=3).partitions == 3


# -- runs of generated events ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_even_throttle_never_admits_more_than_the_configured_rate_in_total(
    tmp_path: Path, seed: int
) -> None:
    events = generated(seed, 600, partitions=4, span_ms=20_000)  # ~30/s offered against 10/s
    rule = "throttle: {rate: 10, per: 1s, by: [tenant]}"
    even = admitted(gate(tmp_path, rule, 4), events)
    # a single GCRA of 10/s with a burst of 10 admits at most 10 + 10 in any 1 s, 10 + 200 in 20 s
    assert most_in_a_window(even, 1000) <= 20
    assert len(even) <= 10 + 200
    assert len(even) >= 150  # the split still admits most of the rate when the tenant is spread evenly
    per_partition = admitted(gate(tmp_path, rule.replace("}", ", split: none}"), 4), events)
    assert len(per_partition) > 10 + 200  # what `none` allows: up to 4 x the rate
    assert most_in_a_window(per_partition, 1000) > 20


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_even_budget_is_never_overspent_in_total(tmp_path: Path, seed: int) -> None:
    events = generated(seed, 400, partitions=4, span_ms=3 * 3_600_000)  # three 1h windows
    rule = "budget: {amount: event.data.amount, limit: 1000, window: 1h, by: [tenant]}"

    def spent_per_window(policy: EnginePolicy) -> dict[int, int]:
        spent: dict[int, int] = {}
        for e in admitted(policy, events):
            window = cast(int, e.raw.timestamp_ms) // 3_600_000
            spent[window] = spent.get(window, 0) + int(e.data["amount"])
        return spent

    even = spent_per_window(gate(tmp_path, rule, 4))
    assert max(even.values()) <= 1000
    assert min(even.values()) >= 1000 - 4 * 60  # each partition stops within one amount of its 250
    none = spent_per_window(gate(tmp_path, rule.replace("}", ", split: none}"), 4))
    assert max(none.values()) > 1000  # per partition: overspent up to 4 times


def test_split_none_reproduces_the_per_partition_behaviour(tmp_path: Path) -> None:
    events = generated(7, 300, partitions=4, span_ms=10_000)
    none = gate(tmp_path, "throttle: {rate: 10, per: 1s, split: none}", 4)
    alone = {p: gate(tmp_path, "throttle: {rate: 10, per: 1s}", 1) for p in range(4)}
    # each partition on its own, unsplit (P = 1), decides exactly as `none` does over four
    assert [none.decide(e, CONTEXT).effect for e in events] == [
        alone[e.raw.partition].decide(e, CONTEXT).effect for e in events
    ]


def test_a_workflow_counter_keeps_the_full_rate(tmp_path: Path) -> None:
    run = [proposed(2, n, n=n, workflow="wf-9") for n in range(12)]  # one workflow (one partition), 12 ms
    policy = gate(tmp_path, "throttle: {rate: 10, per: 1s, by: [workflow]}", 4)
    assert len(admitted(policy, run)) == 10  # the whole burst of 10, not 10 / 4
    tenant = gate(tmp_path, "throttle: {rate: 10, per: 1s, by: [tenant]}", 4)
    assert len(admitted(tenant, run)) == 2  # a tenant's share on one partition: a burst of 10 // 4


def test_an_even_split_under_admits_a_tenant_on_one_partition(tmp_path: Path) -> None:
    run = [proposed(0, 100 * n, n=n) for n in range(100)]  # 10/s, all on partition 0, for 10 s
    got = admitted(gate(tmp_path, "throttle: {rate: 10, per: 1s}", 4), run)
    assert 20 <= len(got) <= 2 + 25  # about a quarter of the configured rate: the skew caveat

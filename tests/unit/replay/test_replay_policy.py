"""Recorded gate decisions are re-taken: the gate's own checks, and policy sets by their named version."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from replay_log import LogMaker
from test_replay_verify_chain import kinds

from corps.events.lifecycle import PolicyDecision
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import PolicyEngine, compile_policy_set, load_policy_files
from corps.replay.coverage import Coverage
from corps.replay.verification import Verification
from corps.replay.verify import verify_log
from corps.replay.verify_policy import DecisionReevaluator, PolicySetReevaluator

POLICIES = """
set: rp
default_effect: allow
on_error: deny
policies:
  - id: blocked
    version: 3
    match: {events: [A]}
    condition: event.tenant == 'blocked-co'
    deny: {reason: tenant blocked}
  - id: a-rate
    version: 1
    match: {events: [A]}
    throttle: {rate: 2, per: 1m, by: [tenant]}
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "rp.yaml"
    path.write_text(POLICIES, encoding="utf-8")
    return path


def governed(policy_file: Path) -> LogMaker:
    maker = LogMaker()
    partitions = maker.topology.topics.partitions  # 2: the throttle's 2/min is 1/min per partition
    engine = PolicyEngine(load_policy_files([policy_file]).policy_set, partitions=partitions)
    maker.pipeline = Pipeline(maker.topology, maker.codec, policy=EnginePolicy(engine, maker.codec))
    maker.happy("wf-1", tenant="acme")
    maker.propose("A", "wf-2", 5, tenant="blocked-co")
    maker.propose("A", "wf-3", 6, tenant="acme")  # the second A of acme on partition 0 within a minute
    maker.propose("A", "wf-4", 7, tenant="acme", partition=1)  # counters are per partition: its first
    maker.propose("A", "wf-5", 8, tenant="acme")  # the third A of acme on partition 0
    return maker


def reevaluator(policy_file: Path, maker: LogMaker) -> PolicySetReevaluator:
    sets = [load_policy_files([policy_file]).policy_set]
    return PolicySetReevaluator(sets, maker.codec, partitions=maker.topology.topics.partitions)


def verify(maker: LogMaker, reevaluators: list[DecisionReevaluator], log: list | None = None) -> Verification:
    return verify_log(
        maker.by_workflow(log or maker.log),
        topology=maker.topology,
        topics=maker.replay_topics,
        codec=maker.codec,
        coverage=Coverage.everything(maker.replay_topics.roles),
        reevaluators=reevaluators,
    )


def test_policy_decisions_are_re_taken_under_the_named_set(policy_file: Path) -> None:
    maker = governed(policy_file)
    effects = {
        r.workflow: (r.data or {}).get("effect")
        for r in maker.records()
        if r.topic == "rp.decisions" and (r.data or {}).get("sequence") == 0
    }
    assert effects == {"wf-1": "ALLOW", "wf-2": "DENY", "wf-3": "DENY", "wf-4": "ALLOW", "wf-5": "DENY"}
    policy_set = load_policy_files([policy_file]).policy_set
    partitions = maker.topology.topics.partitions
    result = verify(maker, [PolicySetReevaluator([policy_set], maker.codec, partitions=partitions)])
    assert result.ok, [f.describe() for f in result.errors]
    assert result.counts["decisions_reevaluated"] == 8  # five A, and B, C, D of wf-1


def test_re_evaluation_needs_the_gates_partition_count(policy_file: Path) -> None:
    maker = governed(policy_file)
    policy_set = load_policy_files([policy_file]).policy_set
    result = verify(maker, [PolicySetReevaluator([policy_set], maker.codec, partitions=1)])
    mismatched = {f.workflow_id for f in result.errors if f.kind == "decision-mismatch"}
    assert "wf-3" in mismatched  # unsplit, the second A of acme on partition 0 would have passed


def test_a_compiled_set_is_recompiled_for_the_partition_count(policy_file: Path) -> None:
    maker = governed(policy_file)
    compiled = compile_policy_set(load_policy_files([policy_file]).policy_set)  # P = 1, as cli/replay reads
    result = verify(maker, [PolicySetReevaluator([compiled], maker.codec, partitions=2)])
    assert result.ok, [f.describe() for f in result.errors]
    assert result.counts["decisions_reevaluated"] == 8


def test_without_the_set_the_decisions_are_noted_not_passed(policy_file: Path) -> None:
    result = verify(governed(policy_file), [])
    assert result.ok
    assert result.counts.get("decisions_reevaluated", 0) == 0
    assert result.counts["decisions_not_reevaluated"] == 8
    assert {f.kind for f in result.notes} == {"not-reevaluated"}


def test_a_decision_that_does_not_follow_from_its_set_is_a_mismatch(policy_file: Path) -> None:
    maker = governed(policy_file)
    link = next(r for r in maker.log if r.topic == "rp.decisions" and r.key == b"wf-2")
    data = maker.records([link])[0].data
    assert data is not None
    # the reason is part of the link hash: an insider rewrote both (the chain alone stays intact)
    forged = PolicyDecision.model_validate({**data, "effect": "ALLOW", "reason": "ok"})
    from corps.orchestrator.chain import Link, event_digest, link_hash

    event = next(r for r in maker.log if r.topic == "rp.A.proposed" and r.key == b"wf-2")
    new_hash = link_hash(
        "",
        0,
        Link(forged.decided_event_id, forged.decided_event_type, "ALLOW", "ok", forged.policies, ()),
        event_digest(event.topic, event.key, event.headers, event.value),
    )
    encoded = maker.codec.encode(
        "rp.decisions", forged.model_copy(update={"hash": new_hash}), maker.codec.envelope(link)
    )
    log = [dataclasses.replace(r, value=encoded.value) if r is link else r for r in maker.log]
    log = [r for r in log if r.topic != "rp.orchestrator.state"]
    result = verify(maker, [reevaluator(policy_file, maker)], log)
    found = [(f.check, f.kind, f.workflow_id) for f in result.errors]
    assert ("policy", "decision-mismatch", "wf-2") in found
    assert "effect DENY (recorded ALLOW)" in next(
        f.message for f in result.errors if f.kind == "decision-mismatch"
    )


def test_default_allow_and_duplicates_are_re_taken_by_the_gate_checks() -> None:
    maker = LogMaker()
    first = maker.propose("A", "wf-d", 0)
    event_id = (first.header("ce_id") or b"").decode()
    maker.propose("A", "wf-d", 1, event_id=event_id)  # the same event proposed again: refused
    result = verify(maker, [])
    assert result.ok, [f.describe() for f in result.errors]
    assert result.counts["decisions_reevaluated"] == 2
    assert kinds(result) == []

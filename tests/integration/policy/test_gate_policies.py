"""The policy engine in the gate, on the real broker: deny, redact, approvals, a set switch, re-evaluation.

Counted from the log: a denied event never reaches the agent's input (the admitted topic), a redacted
one arrives masked at the consumer, a parked event is admitted exactly once after its quorum of named
approvers (an outsider's vote and a repeated vote are refused in the decision log), a timeout rejects,
a newly applied set version is switched to without restarting the gate, and re-evaluating every
recorded decision under its recorded set version reproduces it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.orchestrator.orch_bed import Bed, ServiceThread, Tail, header

from corps.events import Envelope, RawRecord
from corps.events.lifecycle import ApprovalDenied, ApprovalRequested, PolicyDecision, StepFailed
from corps.orchestrator.votes import vote_record
from corps.policy import (
    PolicyState,
    PolicyStore,
    ProposedEvent,
    compile_policy_set,
    evaluate,
    load_policy_files,
)
from corps.policy.engine import policy_refs

pytestmark = pytest.mark.integration

POLICIES = """
set: {name}
default_effect: allow
on_error: deny
policies:
  - id: no-spam
    version: {deny_version}
    match: {{events: [A]}}
    condition: "event.data.n.startsWith('{deny_prefix}')"
    deny: {{reason: tagged {deny_prefix}}}
  - id: mask-pii
    version: 1
    match: {{events: [A]}}
    condition: "event.data.n.startsWith('pii')"
    redact: {{fields: [n], mode: mask, mask_text: "[masked]", reason: pii masked}}
  - id: big-refund
    version: 1
    match: {{events: [A]}}
    condition: "event.data.n.startsWith('refund')"
    require_approval:
      {{approvers: [alice, bob], quorum: 2, timeout: 1h, on_timeout: reject, reason: big refund}}
  - id: slow-refund
    version: 1
    match: {{events: [A]}}
    condition: "event.data.n.startsWith('slow')"
    require_approval: {{approvers: [alice], quorum: 1, timeout: 2s, on_timeout: reject, reason: slow refund}}
"""


def publish(tmp_path: Path, store: PolicyStore, name: str, *, deny_prefix: str, deny_version: int) -> int:
    file = tmp_path / f"{name}-{deny_version}.yaml"
    text = POLICIES.format(name=name, deny_prefix=deny_prefix, deny_version=deny_version)
    file.write_text(text, encoding="utf-8")
    return store.publish(load_policy_files([file]).policy_set).published.version.number


def propose(bed: Bed, workflow_id: str, n: str) -> str:
    payload = bed.models["A"](n=n)  # type: ignore[call-arg]
    envelope = Envelope.new(payload.event_type, tenant="acme", workflow_id=workflow_id, source="test")
    topic = next(t for t, e in bed.topics.proposed.items() if e == "A")
    bed.send(bed.codec.encode(topic, payload, envelope))
    bed.flush()
    return envelope.id


def vote(bed: Bed, workflow_id: str, approver: str, *, grant: bool = True) -> None:
    bed.send(vote_record(bed.codec, bed.topology, workflow_id=workflow_id, step="A", approver=approver,
                         grant=grant))  # fmt: skip
    bed.flush()


def decisions_of(bed: Bed, tail: Tail) -> dict[str, list[PolicyDecision]]:
    found: dict[str, list[PolicyDecision]] = {}
    for record in tail.records:
        event = bed.codec.decode(record, PolicyDecision)
        found.setdefault(event.envelope.workflow_id, []).append(event.payload)
    return found


def test_gate_enforces_policies_approvals_and_switches_sets(
    bed: Bed, unique: Callable[[str], str], kafka_config: dict[str, str], tmp_path: Path
) -> None:
    topics = bed.topics
    set_name, policies_topic = unique("set"), unique("policies")
    store = PolicyStore(kafka_config, topic=policies_topic)
    store.ensure_topic()
    assert publish(tmp_path, store, set_name, deny_prefix="spam", deny_version=1) == 1
    ids = {wf: propose(bed, wf, n) for wf, n in
           [("wf-spam", "spam-1"), ("wf-pii", "pii-secret"), ("wf-ok", "ok"), ("wf-refund", "refund-250"),
            ("wf-slow", "slow-1")]}  # fmt: skip

    admitted = Tail(bed, topics.admitted["A"])
    decisions = Tail(bed, topics.decisions)
    lifecycle = Tail(bed, topics.lifecycle)
    settings = bed.settings(orchestrate=False, policy_set=set_name, policies_topic=policies_topic)
    with ServiceThread(bed, settings) as service:
        admitted.until(lambda r: len(r) >= 2)

        def requested(records: list[RawRecord]) -> set[str]:
            return {
                header(r, "ce_workflowid")
                for r in records
                if header(r, "ce_type") == ApprovalRequested.event_type
            }

        lifecycle.until(lambda r: {"wf-refund", "wf-slow"} <= requested(r))
        vote(bed, "wf-refund", "mallory")  # not a named approver: refused, recorded
        vote(bed, "wf-refund", "alice")  # 1 of 2
        vote(bed, "wf-refund", "alice")  # a repeat: refused, recorded
        decisions.until(lambda r: len(decisions_of(bed, decisions).get("wf-refund", [])) >= 5)
        assert len(admitted.poll(1.0) + admitted.records) == 2, "no quorum yet: still parked"
        vote(bed, "wf-refund", "bob")  # quorum reached: admitted once
        admitted.until(lambda r: len(r) >= 3)
        lifecycle.until(
            lambda r: any(header(x, "ce_type") == ApprovalDenied.event_type for x in r), timeout_s=60
        )  # wf-slow timed out
        vote(bed, "wf-refund", "bob")  # after the approval: refused, never admitted again

        # A new set version: the deny rule now tags "eggs"; the running gate switches without restart.
        assert publish(tmp_path, store, set_name, deny_prefix="eggs", deny_version=2) == 2
        policy = service.pipeline.engine_policy
        assert policy is not None
        deadline = time.monotonic() + 60
        while policy.engine is None or policy.engine.version.number < 2:  # switched between two batches
            assert time.monotonic() < deadline, "the running gate did not switch to version 2"
            time.sleep(0.05)
        eggs = propose(bed, "wf-eggs", "eggs-1")
        decisions.until(lambda r: "wf-eggs" in decisions_of(bed, decisions))
        spam2 = propose(bed, "wf-spam-2", "spam-2")
        admitted.until(lambda r: any(header(x, "ce_workflowid") == "wf-spam-2" for x in r))
        for tail in (admitted, decisions, lifecycle):
            tail.poll(1.5)

    # Denied events never reach the agent's input; each admitted event is admitted exactly once.
    admitted_ids = [header(r, "ce_id") for r in admitted.records]
    assert sorted(admitted_ids) == sorted([ids["wf-pii"], ids["wf-ok"], ids["wf-refund"], spam2])
    assert eggs not in admitted_ids
    assert ids["wf-spam"] not in admitted_ids
    assert ids["wf-slow"] not in admitted_ids
    # Redaction, checked at the consumer.
    by_wf = {header(r, "ce_workflowid"): r for r in admitted.records}
    assert bed.codec.decode_datum(by_wf["wf-pii"])[1]["n"] == "[masked]"
    assert bed.codec.decode_datum(by_wf["wf-ok"])[1]["n"] == "ok"

    made = decisions_of(bed, decisions)
    [spam] = made["wf-spam"]
    assert (spam.effect, spam.reason, spam.set_name, spam.set_version) == (
        "DENY",
        "no-spam: tagged spam",
        set_name,
        1,
    )
    assert [(p.policy_id, p.policy_version) for p in spam.policies][1:] == [("no-spam", "1")]
    [pii] = made["wf-pii"]
    assert pii.effect == "REDACT"
    assert list(pii.redacted_fields) == ["n"]
    refund = [(d.effect, d.reason) for d in made["wf-refund"]]
    assert refund[0][0] == "REQUIRE_APPROVAL"
    assert "big refund" in refund[0][1]
    refused = [reason for effect, reason in refund if effect == "DENY"]
    assert any("mallory is not an approver" in r for r in refused)
    assert any("alice already approved" in r for r in refused)
    assert any("request already approved" in r or "no approval request" in r for r in refused)
    assert ("ALLOW", "approved by alice, bob") in refund
    slow = [(d.effect, d.reason) for d in made["wf-slow"] if d.decided_event_id == ids["wf-slow"]]
    assert slow[0][0] == "REQUIRE_APPROVAL"
    assert slow[-1][0] == "DENY"
    assert "timed out" in slow[-1][1]
    # ... and its step failed at once: the gate's StepFailed (code POLICY) came round and was admitted
    assert [d.effect for d in made["wf-slow"] if d.decided_event_type == StepFailed.event_type] == ["ALLOW"]
    [egg] = made["wf-eggs"]
    assert (egg.effect, egg.set_version, egg.reason) == ("DENY", 2, "no-spam: tagged eggs")
    [spam_again] = made["wf-spam-2"]
    assert (spam_again.effect, spam_again.set_version) == ("ALLOW", 2)

    # Re-evaluating the first decision about every proposed event under its recorded set version
    # (at the recorded evaluation time) reproduces it exactly.
    history = store.read()
    proposed = Tail(bed, next(t for t, e in topics.proposed.items() if e == "A"))
    proposed.poll(2.0)
    first = {d.decided_event_id: d for ds in made.values() for d in reversed(ds) if d.set_version}
    state = PolicyState()
    checked = 0
    for record in proposed.records:
        envelope, data = bed.codec.decode_datum(record)
        recorded = first.get(envelope.id)
        if recorded is None:
            continue
        published = history.get(recorded.set_name, recorded.set_version)
        assert published is not None
        assert published.digest == recorded.set_digest
        assert recorded.evaluated_at_ms is not None
        assert recorded.evaluated_at_ms == record.timestamp_ms
        now = datetime.fromtimestamp(recorded.evaluated_at_ms / 1000, UTC)
        again, state = evaluate(
            compile_policy_set(published.policy_set, published.version), ProposedEvent.of(envelope, data),
            state, now,
        )  # fmt: skip
        assert again.effect.value.upper() == recorded.effect
        assert again.reason == recorded.reason
        refs = [(r.policy_id, r.policy_version) for r in policy_refs(again)]
        assert refs == [(p.policy_id, p.policy_version) for p in recorded.policies][1:]
        checked += 1
    assert checked == 7
    for tail in (admitted, decisions, lifecycle, proposed):
        tail.close()


ESCALATING = """
set: {name}
policies:
  - id: escalating
    version: 1
    match: {{events: [A]}}
    require_approval:
      approvers: [alice]
      timeout: 2s
      on_timeout: escalate
      escalate_to: [head]
      reason: needs a lead
"""


def test_an_unanswered_request_escalates_and_the_escalation_approver_admits(
    bed: Bed, unique: Callable[[str], str], kafka_config: dict[str, str], tmp_path: Path
) -> None:
    set_name, policies_topic = unique("set"), unique("policies")
    store = PolicyStore(kafka_config, topic=policies_topic)
    store.ensure_topic()
    file = tmp_path / "escalating.yaml"
    file.write_text(ESCALATING.format(name=set_name), encoding="utf-8")
    store.publish(load_policy_files([file]).policy_set)
    event_id = propose(bed, "wf-esc", "anything")

    admitted = Tail(bed, bed.topics.admitted["A"])
    lifecycle = Tail(bed, bed.topics.lifecycle)
    decisions = Tail(bed, bed.topics.decisions)
    settings = bed.settings(orchestrate=False, policy_set=set_name, policies_topic=policies_topic)

    def requests(records: list[RawRecord]) -> list[ApprovalRequested]:
        return [
            bed.codec.decode(r, ApprovalRequested).payload
            for r in records
            if header(r, "ce_type") == ApprovalRequested.event_type
        ]

    with ServiceThread(bed, settings):
        lifecycle.until(lambda r: len(requests(r)) >= 2, timeout_s=60)  # asked, then escalated after 2 s
        vote(bed, "wf-esc", "head")
        admitted.until(lambda r: len(r) >= 1, timeout_s=60)
        decisions.poll(1.0)
        admitted.poll(1.0)

    first, escalated = requests(lifecycle.records)
    assert list(first.approvers) == ["alice"]
    assert list(escalated.approvers) == ["alice", "head"]
    assert escalated.request_id == first.request_id
    assert [header(r, "ce_id") for r in admitted.records] == [event_id]
    reasons = [bed.codec.decode(r, PolicyDecision).payload.reason for r in decisions.records]
    assert any(r.startswith("approval escalated: timed out") for r in reasons)
    assert "approved by head" in reasons
    for tail in (admitted, lifecycle, decisions):
        tail.close()


def test_a_rejection_by_a_named_approver_drops_the_parked_event(
    bed: Bed, unique: Callable[[str], str], kafka_config: dict[str, str], tmp_path: Path
) -> None:
    set_name, policies_topic = unique("set"), unique("policies")
    store = PolicyStore(kafka_config, topic=policies_topic)
    store.ensure_topic()
    file = tmp_path / "rejecting.yaml"
    file.write_text(ESCALATING.format(name=set_name).replace("timeout: 2s", "timeout: 1h"), encoding="utf-8")
    store.publish(load_policy_files([file]).policy_set)
    event_id = propose(bed, "wf-rej", "anything")

    admitted = Tail(bed, bed.topics.admitted["A"])
    lifecycle = Tail(bed, bed.topics.lifecycle)
    decisions = Tail(bed, bed.topics.decisions)
    settings = bed.settings(orchestrate=False, policy_set=set_name, policies_topic=policies_topic)
    with ServiceThread(bed, settings):
        lifecycle.until(lambda r: any(header(x, "ce_type") == ApprovalRequested.event_type for x in r))
        vote(bed, "wf-rej", "alice", grant=False)
        vote(bed, "wf-rej", "alice")  # a changed mind after the rejection: refused
        decisions.until(lambda r: len(r) >= 5)  # parked, requested, the vote, the drop, the refusal
        admitted.poll(1.5)

    assert admitted.records == []
    made = [bed.codec.decode(r, PolicyDecision).payload for r in decisions.records]
    drop = [d for d in made if d.decided_event_id == event_id and d.effect == "DENY"]
    assert len(drop) == 1
    assert drop[0].reason.startswith("approval rejected: denied by alice")
    assert any(d.reason.startswith("refused vote: no approval request") for d in made)  # it is gone
    for tail in (admitted, lifecycle, decisions):
        tail.close()

"""kill -9 of the gate while events wait for approvals: parked events and votes come back from the log.

20 workflows each propose an event that needs alice *and* bob. alice's votes are counted, the gate
process is killed with SIGKILL, bob votes while it is down, a new process takes over; then bob votes
again (a repeat). Counted from the log: every parked event is admitted exactly once, each after both
votes, and the repeats are refused in the decision log.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from tests.fault.test_gate_kill9 import Gate
from tests.integration.orchestrator.orch_bed import Bed, Tail, header

from corps.events import Envelope, RawRecord
from corps.events.lifecycle import ApprovalRequested, PolicyDecision
from corps.orchestrator.votes import vote_record
from corps.policy import PolicyStore, load_policy_files

pytestmark = [pytest.mark.integration, pytest.mark.fault]

WORKFLOWS = 20
POLICIES = """
set: {name}
policies:
  - id: two-signatures
    version: 1
    match: {{events: [A]}}
    require_approval: {{approvers: [alice, bob], quorum: 2, timeout: 1h, on_timeout: reject, reason: sign}}
"""


def vote_all(bed: Bed, workflows: list[str], approver: str) -> None:
    for wf in workflows:
        bed.send(
            vote_record(bed.codec, bed.topology, workflow_id=wf, step="A", approver=approver, grant=True)
        )
    bed.flush()


def test_parked_events_and_votes_survive_kill9_and_are_admitted_once(
    bed: Bed, kafka_config: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "approvals.yaml"
    file.write_text(POLICIES.format(name=bed.topology.workflow.name), encoding="utf-8")
    store = PolicyStore(kafka_config)
    store.ensure_topic()
    store.publish(load_policy_files([file]).policy_set)

    workflows = [f"wf-{n}" for n in range(WORKFLOWS)]
    topic = next(t for t, e in bed.topics.proposed.items() if e == "A")
    ids = []
    for wf in workflows:
        payload = bed.models["A"](n=wf)  # type: ignore[call-arg]
        envelope = Envelope.new(payload.event_type, tenant="acme", workflow_id=wf, source="test")
        bed.send(bed.codec.encode(topic, payload, envelope))
        ids.append(envelope.id)
    bed.flush()

    admitted = Tail(bed, bed.topics.admitted["A"])
    decisions = Tail(bed, bed.topics.decisions)
    lifecycle = Tail(bed, bed.topics.lifecycle)
    gate = Gate(bed, tmp_path / "gate.log")

    def counted(records: list[RawRecord]) -> int:
        reasons = [bed.codec.decode(r, PolicyDecision).payload.reason for r in records]
        return sum(r.startswith("vote counted: approved by alice") for r in reasons)

    try:
        gate.start()
        lifecycle.until(
            lambda r: sum(header(x, "ce_type") == ApprovalRequested.event_type for x in r) >= WORKFLOWS,
            timeout_s=90,
        )
        vote_all(bed, workflows, "alice")
        decisions.until(lambda r: counted(r) >= WORKFLOWS, timeout_s=90)
        assert admitted.poll(1.0) == [], "admitted before the quorum"
        gate.kill9()
        vote_all(bed, workflows, "bob")
        gate.start()
        admitted.until(lambda r: len(r) >= WORKFLOWS, timeout_s=90)
        vote_all(bed, workflows, "bob")  # repeats after the approval: refused, never admitted again
        decisions.until(lambda r: sum("refused vote" in bed.codec.decode(x, PolicyDecision).payload.reason
                                      for x in r) >= WORKFLOWS, timeout_s=90)  # fmt: skip
        admitted.poll(1.5)
    finally:
        gate.stop()

    assert Counter(header(r, "ce_id") for r in admitted.records) == dict.fromkeys(ids, 1)
    approved = [
        d
        for d in (bed.codec.decode(r, PolicyDecision).payload for r in decisions.records)
        if d.reason == "approved by alice, bob"
    ]
    assert sorted(d.decided_event_id for d in approved) == sorted(ids)
    for tail in (admitted, decisions, lifecycle):
        tail.close()

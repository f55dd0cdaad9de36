"""A rejected approval compensates at once, on the real broker: no waiting for the step's deadline.

Four steps with 1 h deadlines; the output of s2 (C) needs alice's approval. The stand-in agents run
s1 and s2; alice rejects C; the gate drops it and proposes StepFailed (code POLICY) for s2, which it
admits like any agent's report, and the orchestrator asks s1 to compensate. Ordering, not timing:
the CompensationRequested follows the POLICY StepFailed on the lifecycle topic, no TIMEOUT StepFailed
exists, and the workflow ends compensated — all long before any deadline could fire.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.orchestrator.orch_bed import Bed, Script, ServiceThread, StandIn, Tail, header

from corps.events import Envelope
from corps.events.lifecycle import (
    ApprovalRequested,
    CompensationRequested,
    StepFailed,
    WorkflowCompensated,
)
from corps.orchestrator.approvals_stage import REJECTED_CODE
from corps.orchestrator.votes import vote_record
from corps.policy import PolicyStore, load_policy_files

pytestmark = pytest.mark.integration

APPROVE_C = """
set: {name}
policies:
  - id: check-c
    version: 1
    match: {{events: [C]}}
    require_approval: {{approvers: [alice], timeout: 1h, on_timeout: reject, reason: check C}}
"""


def test_a_rejected_approval_starts_compensation_without_waiting_for_the_deadline(
    make_bed: Callable[..., Bed], unique: Callable[[str], str], kafka_config: dict[str, str], tmp_path: Path
) -> None:
    bed = make_bed(timeout="1h", comp_timeout="1h")
    set_name, policies_topic = unique("set"), unique("policies")
    store = PolicyStore(kafka_config, topic=policies_topic)
    store.ensure_topic()
    file = tmp_path / "approve-c.yaml"
    file.write_text(APPROVE_C.format(name=set_name), encoding="utf-8")
    store.publish(load_policy_files([file]).policy_set)

    lifecycle = Tail(bed, bed.topics.lifecycle)
    admitted_c = Tail(bed, bed.topics.admitted["C"])
    settings = bed.settings(policy_set=set_name, policies_topic=policies_topic)
    wf = "wf-reject"
    with ServiceThread(bed, settings), StandIn(bed, Script()):
        payload = bed.models["A"](n="go")  # type: ignore[call-arg]
        envelope = Envelope.new(payload.event_type, tenant="acme", workflow_id=wf, source="test")
        topic = next(t for t, e in bed.topics.proposed.items() if e == "A")
        bed.send(bed.codec.encode(topic, payload, envelope))
        bed.flush()
        lifecycle.until(lambda r: any(header(x, "ce_type") == ApprovalRequested.event_type for x in r))
        bed.send(
            vote_record(
                bed.codec, bed.topology, workflow_id=wf, step="s2", approver="alice", grant=False, reason="no"
            )
        )
        bed.flush()
        lifecycle.until(lambda r: any(header(x, "ce_type") == WorkflowCompensated.event_type for x in r))
        admitted_c.poll(1.0)

    assert admitted_c.records == []  # the rejected output never reached s3
    events = [bed.decode_lifecycle(r) for r in lifecycle.records]
    kinds = [env.type for env, _ in events]
    failures = [p for _, p in events if isinstance(p, StepFailed)]
    assert [(f.step, f.code) for f in failures] == [("s2", REJECTED_CODE)]  # no TIMEOUT report
    assert failures[0].last_error.startswith("approval rejected: denied by alice")
    asked = [p for _, p in events if isinstance(p, CompensationRequested)]
    assert [(a.step, a.failed_step) for a in asked] == [("s1", "s2")]
    assert kinds.index(StepFailed.event_type) < kinds.index(CompensationRequested.event_type)
    compensated = next(p for _, p in events if isinstance(p, WorkflowCompensated))
    assert compensated.failed_step == "s2"
    assert list(compensated.compensated_steps) == ["s1"]
    for tail in (lifecycle, admitted_c):
        tail.close()

"""A rejected (or timed-out) approval fails its step at once: StepFailed(POLICY) goes round the gate.

No broker: the pipeline's outputs are fed back as the service would read them. The steps' deadlines
are an hour away, so compensation that starts here cannot come from a deadline.
"""

from __future__ import annotations

from pathlib import Path

from gate_helpers import FOUR, Proposer, as_raw, at, models_for, offline_codec, topology_of

from corps.events import EventCodec
from corps.events.lifecycle import (
    EVENTS,
    ApprovalDenied,
    ApprovalRequested,
    CompensationRequested,
    PolicyDecision,
    StepFailed,
)
from corps.events.model import models_by_type
from corps.orchestrator.approvals_stage import REJECTED_CODE
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.policy_gate import EnginePolicy
from corps.orchestrator.topics import OutRecord
from corps.policy import PolicyEngine, load_policy_files

LIFECYCLE = models_by_type(EVENTS)
APPROVE_C = """
set: four
policies:
  - id: check-c
    version: 1
    match: {events: [C]}
    require_approval: {approvers: [alice], timeout: %s, on_timeout: reject, reason: check C}
"""


class Bed:
    def __init__(self, tmp_path: Path, approval_timeout: str = "2h") -> None:
        self.topology = topology_of(FOUR.replace("timeout: 10s", "timeout: 1h"))
        self.models = models_for(self.topology)
        self.codec: EventCodec = offline_codec(self.topology, self.models)
        file = tmp_path / "p.yaml"
        file.write_text(APPROVE_C % approval_timeout, encoding="utf-8")
        engine = PolicyEngine(load_policy_files([file]).policy_set)
        self.pipeline = Pipeline(self.topology, self.codec, policy=EnginePolicy(engine, self.codec))
        self.proposer = Proposer(self.topology, self.codec, self.models)
        self.offsets = iter(range(10_000, 20_000))
        self.log: list[OutRecord] = []

    def flush(self) -> list[OutRecord]:
        out = list(self.pipeline.outputs)
        self.log += out
        self.pipeline.commit()
        return out

    def handle(self, out: OutRecord, seconds: float) -> list[OutRecord]:
        self.pipeline.handle(as_raw(out, next(self.offsets)), at(seconds))
        return self.flush()

    def start_to_parked_c(self) -> None:
        """A (start), B from s1, C from s2 — C is parked behind alice's approval."""
        for seconds, (name, step) in enumerate((("A", None), ("B", "s1"), ("C", "s2"))):
            raw = self.proposer.domain(name, "wf-1", seconds, step=step, event_id=f"{name}@{seconds}")
            self.pipeline.handle(raw, at(seconds))
            self.flush()
        assert self.types(self.topics_lifecycle()).count(ApprovalRequested.event_type) == 1

    def topics_lifecycle(self) -> list[OutRecord]:
        return [o for o in self.log if o.topic == self.pipeline.topics.lifecycle]

    def types(self, records: list[OutRecord]) -> list[str]:
        return [dict(o.headers)["ce_type"].decode() for o in records]  # type: ignore[union-attr]

    def proposed_failures(self, out: list[OutRecord]) -> list[OutRecord]:
        topic = self.pipeline.topics.lifecycle_proposed
        return [o for o in out if o.topic == topic and self.types([o]) == [StepFailed.event_type]]


def test_a_rejection_proposes_step_failed_and_compensation_starts_before_any_deadline(tmp_path: Path) -> None:
    bed = Bed(tmp_path)
    bed.start_to_parked_c()
    denied = ApprovalDenied(request_id="", step="s2", approver="alice", reason="no")  # as `corps reject`
    bed.pipeline.handle(bed.proposer.report(denied, "wf-1", 10, event_id="vote-1"), at(10))
    out = bed.flush()
    (proposed,) = bed.proposed_failures(out)
    failed = bed.codec.decode(as_raw(proposed), StepFailed)
    assert failed.payload.step == "s2"
    assert failed.payload.agent == "a2"
    assert failed.payload.code == REJECTED_CODE
    assert failed.payload.last_error.startswith("approval rejected: denied by alice")
    assert failed.envelope.causation_id == "C@2"
    assert bed.pipeline.next_deadline() is not None  # the step deadline (1 h away) is still pending

    out = bed.handle(proposed, 11)  # the service reads it back from the proposed lifecycle topic
    lifecycle = [o for o in out if o.topic == bed.pipeline.topics.lifecycle]
    assert bed.types(lifecycle)[:2] == [StepFailed.event_type, CompensationRequested.event_type]
    asked = bed.codec.decode(as_raw(lifecycle[1]), CompensationRequested).payload
    assert (asked.step, asked.failed_step) == ("s1", "s2")
    assert asked.reason.startswith(f"{REJECTED_CODE}: approval rejected")
    decisions = [
        bed.codec.decode(as_raw(o), PolicyDecision).payload for o in out if o.topic.endswith("decisions")
    ]
    assert any(d.decided_event_id == failed.envelope.id and d.effect == "ALLOW" for d in decisions)

    again = bed.handle(proposed, 12)  # read twice (a retried batch): admitted once
    assert bed.types([o for o in again if o.topic == bed.pipeline.topics.lifecycle]) == []


def test_an_approval_timeout_that_rejects_fails_the_step_too(tmp_path: Path) -> None:
    bed = Bed(tmp_path, approval_timeout="30s")
    bed.start_to_parked_c()
    bed.pipeline.tick(at(40))
    out = bed.flush()
    (proposed,) = bed.proposed_failures(out)
    failed = bed.codec.decode(as_raw(proposed), StepFailed).payload
    assert (failed.step, failed.code) == ("s2", REJECTED_CODE)
    assert failed.last_error.startswith("approval timed out")
    out = bed.handle(proposed, 41)
    assert CompensationRequested.event_type in bed.types(out)

"""Parked events, votes and approvals written by the real policy gate replay, verify and re-evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest
from replay_log import LogMaker
from test_replay_timelines import build, by_id
from test_replay_verify_chain import verify

from corps.events.lifecycle import ApprovalGranted
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import PolicyEngine, load_policy_files
from corps.replay.coverage import Coverage
from corps.replay.timeline import Stage, WorkflowStatus
from corps.replay.verify import verify_log
from corps.replay.verify_policy import PolicySetReevaluator

POLICIES = """
set: rp
default_effect: allow
policies:
  - id: c-needs-a-lead
    version: 2
    match: {events: [C]}
    require_approval:
      approvers: [lead]
      timeout: 1h
      on_timeout: reject
      reason: C needs a lead
"""


@pytest.fixture
def approvals(tmp_path: Path) -> tuple[LogMaker, Path]:
    path = tmp_path / "rp-approvals.yaml"
    path.write_text(POLICIES, encoding="utf-8")
    maker = LogMaker()
    engine = PolicyEngine(load_policy_files([path]).policy_set)
    maker.pipeline = Pipeline(maker.topology, maker.codec, policy=EnginePolicy(engine, maker.codec))
    for wf, start in (("wf-ok", 0), ("wf-wait", 100)):
        maker.propose("A", wf, start, source="client")
        maker.propose("B", wf, start + 1, step="s1", source="a1")
        maker.propose("C", wf, start + 2, step="s2", source="a2")  # parked
        if wf == "wf-ok":
            vote = ApprovalGranted(request_id="", step="s2", approver="mallory")
            maker.report(vote, wf, start + 3, source="mallory")  # not an approver the policy names
            maker.report(vote.model_copy(update={"approver": "lead"}), wf, start + 4, source="lead")
            maker.propose("D", wf, start + 5, step="s3", source="a3")
    return maker, path


def test_approved_and_waiting_workflows(approvals: tuple[LogMaker, Path]) -> None:
    maker, _ = approvals
    timelines = by_id(build(maker))
    ok, waiting = timelines["wf-ok"], timelines["wf-wait"]
    assert ok.status is WorkflowStatus.COMPLETED
    c = next(e for e in ok.entries if e.name == "C")
    assert c.stage is Stage.ADMITTED
    assert [d.effect for d in c.decisions] == ["REQUIRE_APPROVAL", "ALLOW"]
    assert c.decisions[1].reason == "approved by lead"
    votes = [(e.source, e.stage) for e in ok.entries if e.name == "ApprovalGranted"]
    assert votes == [("mallory", Stage.DENIED), ("lead", Stage.ADMITTED)]
    assert [(a.outcome, a.approver) for a in ok.approvals] == [("requested", ""), ("granted", "lead")]
    assert waiting.status is WorkflowStatus.AWAITING_APPROVAL
    assert next(e for e in waiting.entries if e.name == "C").stage is Stage.PARKED


def test_the_approval_log_verifies_and_its_decisions_are_re_taken(approvals: tuple[LogMaker, Path]) -> None:
    maker, path = approvals
    result = verify_log(
        maker.by_workflow(),
        topology=maker.topology,
        topics=maker.replay_topics,
        codec=maker.codec,
        coverage=Coverage.everything(maker.replay_topics.roles),
        reevaluators=[PolicySetReevaluator([load_policy_files([path]).policy_set], maker.codec)],
    )
    assert result.ok, [f.describe() for f in result.errors]
    assert result.counts["workflows_rederived"] == 2
    # every policy decision (A, B, C parked, D of wf-ok; A, B, C of wf-wait) re-taken; votes noted
    assert result.counts["decisions_reevaluated"] == 7
    votes = {
        r.event_id
        for r in maker.records()
        if r.short_type == "ApprovalGranted" and r.topic == "rp.lifecycle.proposed"
    }
    noted = {f.event_id for f in result.notes if f.kind == "not-reevaluated"}
    assert votes <= noted  # votes are counted by the gate, not decided by policies: noted, not passed


def test_without_the_policy_set_the_chain_and_state_still_verify(approvals: tuple[LogMaker, Path]) -> None:
    maker, _ = approvals
    result = verify(maker, maker.log)
    assert result.ok, [f.describe() for f in result.errors]

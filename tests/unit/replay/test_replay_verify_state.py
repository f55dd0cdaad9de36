"""Re-derivation runs the orchestrator's own code over each chain and compares what it writes."""

from __future__ import annotations

import dataclasses

from replay_log import LogMaker
from test_replay_verify_chain import kinds, record, verify

from corps.events import RawRecord
from corps.events.lifecycle import PolicyDecision, WorkflowCompleted
from corps.orchestrator.chain import Link, event_digest, link_hash


def reforge_last(maker: LogMaker, wf: str, log: list[RawRecord]) -> list[RawRecord]:
    """Replace the workflow's terminal event by a WorkflowCompleted and re-hash its link consistently.

    This is what an insider who knows the chain format can do: the chain check alone cannot tell.
    """
    terminal = [r for r in log if r.topic == "rp.lifecycle" and r.key == wf.encode()][-1]
    link = [r for r in log if r.topic == "rp.decisions" and r.key == wf.encode()][-1]
    envelope = maker.codec.envelope(terminal).model_copy(update={"type": WorkflowCompleted.event_type})
    fake = maker.codec.encode(
        "rp.lifecycle", WorkflowCompleted(workflow="rp", workflow_version=2, duration_ms=1), envelope
    )
    forged_event = dataclasses.replace(terminal, value=fake.value, headers=list(fake.headers))
    data = maker.records([link])[0].data
    assert data is not None
    policies = tuple(data["policies"])
    new_hash = link_hash(
        data["prev_hash"],
        data["sequence"],
        Link(
            envelope.id,
            envelope.type,
            data["effect"],
            data["reason"],
            policies,
            tuple(data["redacted_fields"]),
        ),
        event_digest(forged_event.topic, forged_event.key, forged_event.headers, forged_event.value),
    )
    payload = PolicyDecision.model_validate({**data, "decided_event_type": envelope.type, "hash": new_hash})
    encoded = maker.codec.encode("rp.decisions", payload, maker.codec.envelope(link))
    forged_link = dataclasses.replace(link, value=encoded.value)
    swap = {id(terminal): forged_event, id(link): forged_link}
    return [swap.get(id(r), r) for r in log]


def test_every_scenario_rederives_to_its_recorded_end(maker: LogMaker) -> None:
    result = verify(maker, maker.log)
    assert result.ok, [f.describe() for f in result.errors]
    assert result.counts["workflows_rederived"] == 4
    # every event the orchestrator wrote was derived again, the timeout's ticks included
    written = [r for r in maker.records() if r.source == "corps/orchestrator"]
    assert result.counts["orchestrator_events"] == len(written) == 15
    assert result.counts["state_heads"] == 4


def test_a_consistently_reforged_end_is_caught_by_rederivation(maker: LogMaker) -> None:
    log = [r for r in reforge_last(maker, "wf-2", maker.log) if r.topic != "rp.orchestrator.state"]
    result = verify(maker, log)
    assert [(f.check, f.kind, f.workflow_id) for f in result.errors] == [("state", "state-mismatch", "wf-2")]
    message = result.errors[0].message
    assert "WorkflowCompleted" in message
    assert "WorkflowCompensated" in message


def test_a_consistently_reforged_end_also_disagrees_with_the_committed_chain_head(maker: LogMaker) -> None:
    result = verify(maker, reforge_last(maker, "wf-4", maker.log))
    assert ("link-altered", "wf-4", 8) in kinds(result)
    assert ("state-mismatch", "wf-4", 8) in kinds(result)


def test_a_chain_cut_short_at_its_end_is_caught_by_the_committed_head(maker: LogMaker) -> None:
    last_event = [r for r in maker.log if r.topic == "rp.lifecycle" and r.key == b"wf-1"][-1]
    last_link = record(maker, "rp.decisions", "wf-1", 5)
    log = [r for r in maker.log if r is not last_event and r is not last_link]
    result = verify(maker, log)
    assert ("truncated", "wf-1", 5) in kinds(result)
    assert ("missing-emission", "wf-1", 4) in kinds(result)  # re-derivation writes WorkflowCompleted


def test_an_orchestrator_event_with_no_cause_is_reported(maker: LogMaker) -> None:
    # drop the failure report (and its link) that started wf-4's compensation: nothing explains the rest
    report = [r for r in maker.log if r.topic == "rp.lifecycle" and r.key == b"wf-4"][1]
    assert (report.header("ce_type") or b"").endswith(b"StepFailed")
    log = [r for r in maker.log if r is not report]
    result = verify(maker, log)
    assert ("missing", "wf-4", 3) in kinds(result)
    assert any(f.kind == "not-rederived" and f.workflow_id == "wf-4" for f in result.notes)


def test_gate_only_logs_are_noted_not_rederived() -> None:
    from corps.orchestrator.pipeline import Pipeline

    maker = LogMaker()
    maker.pipeline = Pipeline(maker.topology, maker.codec, orchestrate=False)
    maker.propose("A", "wf-g", 0)
    maker.propose("B", "wf-g", 1, step="s1")
    result = verify(maker, maker.log)
    assert result.ok
    assert [f.kind for f in result.notes if f.check == "state"] == ["not-rederived"]

"""Retired workflows on the real broker: the chain head survives a restart, late events chain, no action.

With a short retention the service retires finished workflows (its tick replaces each record by its
chain head, in memory and in the compacted changelog). A new instance with the same instance and group
ids restores that small record from the changelog; a late event of the retired workflow is then
admitted (the gate allows everything valid), its decision continues the workflow's chain at the
retained head, and the orchestrator takes no saga action for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from tests.integration.orchestrator.orch_bed import Bed, Script, ServiceThread, StandIn, Tail, header

from corps.cli.main import cli
from corps.events import Envelope, RawRecord
from corps.events.lifecycle import PolicyDecision, StepFailed
from corps.orchestrator import Status
from corps.orchestrator.store import WorkflowRecord

pytestmark = pytest.mark.integration

ORCHESTRATOR = "corps/orchestrator"
COMPLETED = "corps.lifecycle.WorkflowCompleted"


def latest_state(records: list[RawRecord], workflow_id: str) -> WorkflowRecord | None:
    """The latest changelog value of ``workflow_id`` (what compaction keeps)."""
    values = [r.value for r in records if r.key == workflow_id.encode() and r.value is not None]
    return WorkflowRecord.model_validate_json(values[-1]) if values else None


def chain_of(bed: Bed, records: list[RawRecord], workflow_id: str) -> list[PolicyDecision]:
    """The workflow's decision records in log order (one partition per workflow)."""
    found = [bed.codec.decode(r, PolicyDecision) for r in records]
    return [d.payload for d in found if d.envelope.workflow_id == workflow_id]


def assert_linked(links: list[PolicyDecision]) -> None:
    for n, link in enumerate(links):
        assert link.sequence == n
        assert link.prev_hash == (links[n - 1].hash if n else "")


def test_a_retired_workflow_restored_after_a_restart_chains_late_events_and_takes_no_action(
    bed: Bed, unique: Callable[[str], str]
) -> None:
    done, other = unique("wf-done"), unique("wf-other")
    settings = bed.settings(instance_id=unique("fixed"), retention_s=1.0)
    lifecycle = Tail(bed, bed.topics.lifecycle)
    state: Tail | None = None  # the service creates its changelog topic
    decisions = Tail(bed, bed.topics.decisions)
    try:
        # 1. Both workflows complete; one retention later the tick retires them.
        with ServiceThread(bed, settings), StandIn(bed, Script()):
            state = Tail(bed, bed.topics.state)
            for wf in (done, other):
                bed.start(wf)
            bed.flush()
            lifecycle.until(lambda r: sum(header(x, "ce_type") == COMPLETED for x in r) >= 2)
            state.until(
                lambda r: all(
                    (s := latest_state(r, wf)) is not None and s.retired is not None for wf in (done, other)
                )
            )
        assert state is not None
        full = [
            WorkflowRecord.model_validate_json(r.value or b"")
            for r in state.records
            if r.key == done.encode() and r.value is not None
        ]
        finished = next(s for s in reversed(full) if s.retired is None)
        retired = latest_state(state.records, done)
        assert retired is not None
        assert finished.saga is not None
        assert finished.saga.status is Status.COMPLETED
        assert (retired.retired, retired.saga, retired.admitted, retired.parked) == (
            Status.COMPLETED,
            None,
            (),
            (),
        )
        assert retired.chain == finished.chain, "retiring keeps the chain head"
        decisions.until(lambda r: len(chain_of(bed, r, done)) >= finished.chain_sequence)
        before = chain_of(bed, decisions.records, done)
        assert_linked(before)
        assert (len(before), before[-1].hash) == (retired.chain_sequence, retired.chain_hash)
        emitted_before = [r for r in lifecycle.records if header(r, "ce_source") == ORCHESTRATOR]

        # 2. A new instance (same instance and group ids) restores the small record; late events.
        with ServiceThread(bed, settings) as second:
            restored = second.pipeline.store.get(done)
            assert restored == retired, "the table holds the retired record, not the full one"
            assert len(restored.model_dump_json()) < len(finished.model_dump_json()) / 2
            failed = StepFailed(
                step="s2", agent="a2", code="NON_RETRYABLE", attempts=1, last_error="late", retryable=False
            )
            late = Envelope.new(failed.event_type, tenant="acme", workflow_id=done, source="test", step="s2")
            bed.send(bed.codec.encode(bed.topics.lifecycle_proposed, failed, late))
            bed.flush()
            decisions.until(lambda r: len(chain_of(bed, r, done)) >= len(before) + 1)
            state.until(
                lambda r: (s := latest_state(r, done)) is not None and s.chain_sequence == len(before) + 1
            )
            lifecycle.poll(1.0)  # a saga action would be on the lifecycle topic by now
            decisions.poll(0.5)
            assert second.stats.restored >= 2
    finally:
        lifecycle.close()
        decisions.close()
        if state is not None:
            state.close()

    after = chain_of(bed, decisions.records, done)
    assert_linked(after)
    assert after[: len(before)] == before
    (first_late,) = after[len(before) :]
    assert (first_late.sequence, first_late.prev_hash) == (retired.chain_sequence, retired.chain_hash)
    assert (first_late.decided_event_id, first_late.effect) == (late.id, "ALLOW")
    emitted_after = [r for r in lifecycle.records if header(r, "ce_source") == ORCHESTRATOR]
    assert len(emitted_after) == len(emitted_before), "no saga action for a retired workflow"
    assert state is not None
    final = latest_state(state.records, done)
    assert final is not None
    assert (final.retired, final.saga, final.chain_hash) == (Status.COMPLETED, None, first_late.hash)

    env = {"KAFKA_BOOTSTRAP_SERVERS": bed.kafka.bootstrap_servers, "SCHEMA_REGISTRY_URL": bed.registry.url}
    replayed = CliRunner().invoke(
        cli, ["replay", "--topology", str(bed.file), "--verify", "--format", "jsonl"], env=env
    )
    assert replayed.exit_code == 0, replayed.output
    summary = next(json.loads(line) for line in replayed.stdout.splitlines() if '"verification"' in line)
    assert summary["ok"], summary

    # 3. The dedupe window is the retention: a retired workflow keeps no admitted ids, so its start
    #    event proposed again is admitted a second time (README: "Retention"); replay --verify flags it.
    admitted_a = Tail(bed, bed.topics.admitted["A"])
    try:
        with ServiceThread(bed, settings):
            start_id = bed.start(done)
            bed.flush()
            admitted_a.until(lambda r: [header(x, "ce_id") for x in r].count(start_id) == 2)
    finally:
        admitted_a.close()
    again = CliRunner().invoke(
        cli, ["replay", "--topology", str(bed.file), "--verify", "--format", "jsonl"], env=env
    )
    assert again.exit_code != 0
    assert "duplicate: event" in again.output  # the policy check: the gate would refuse it now
    assert "[chain/admitted-twice]" in again.output  # the chain check names what happened
    assert "[chain/altered]" not in again.output

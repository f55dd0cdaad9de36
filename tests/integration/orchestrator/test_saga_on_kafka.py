"""The orchestrator on the real broker: compensations in reverse order, each exactly once, from the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from tests.integration.orchestrator.orch_bed import Bed, Script, ServiceThread, StandIn, Tail, header

from corps.events import Envelope, EventModel, RawRecord
from corps.events.lifecycle import (
    CompensationRequested,
    StepFailed,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
)

pytestmark = pytest.mark.integration

TERMINAL = {m.event_type for m in (WorkflowCompleted, WorkflowCompensated, WorkflowFailed)}
ORCHESTRATOR = "corps/orchestrator"


def by_orchestrator(records: list[RawRecord]) -> list[RawRecord]:
    return [r for r in records if header(r, "ce_source") == ORCHESTRATOR]


def terminal_count(records: list[RawRecord]) -> int:
    return sum(header(r, "ce_type") in TERMINAL for r in by_orchestrator(records))


def emitted(bed: Bed, records: list[RawRecord]) -> dict[str, list[EventModel]]:
    """The orchestrator's events per workflow, in log order; no ce_id twice."""
    ids = Counter(header(r, "ce_id") for r in by_orchestrator(records))
    assert [i for i, n in ids.items() if n > 1] == [], "an orchestrator event appears twice on the log"
    out: dict[str, list[EventModel]] = {}
    for record in by_orchestrator(records):
        envelope, payload = bed.decode_lifecycle(record)
        out.setdefault(envelope.workflow_id, []).append(payload)
    return out


def run(
    bed: Bed, script: Script, workflows: list[str], settle: Callable[[list[RawRecord]], bool]
) -> list[RawRecord]:
    lifecycle = Tail(bed, bed.topics.lifecycle)
    try:
        with ServiceThread(bed, bed.settings()), StandIn(bed, script):
            for wf in workflows:
                bed.start(wf)
            bed.flush()
            lifecycle.until(settle)
            lifecycle.poll(1.0)  # anything later would be a duplicate or an extra
        return lifecycle.records
    finally:
        lifecycle.close()


def test_failure_at_step_k_of_4_compensates_k_minus_1_down_to_1_each_exactly_once(
    bed: Bed, unique: Callable[[str], str]
) -> None:
    failing = {k: unique(f"wf-k{k}") for k in range(1, 5)}
    happy = unique("wf-ok")
    script = Script(fail_at={wf: f"s{k}" for k, wf in failing.items()})
    records = run(bed, script, [*failing.values(), happy], lambda r: terminal_count(r) >= 5)
    events = emitted(bed, records)
    for k, wf in failing.items():
        kinds = [type(e).__name__ for e in events[wf]]
        asked = [e.step for e in events[wf] if isinstance(e, CompensationRequested)]
        assert asked == [f"s{i}" for i in range(k - 1, 0, -1)], (k, kinds)
        assert kinds[0] == "WorkflowStarted"
        assert kinds.count("WorkflowCompensated") == 1
        final = events[wf][-1]
        assert isinstance(final, WorkflowCompensated)
        assert final.failed_step == f"s{k}"
        assert final.compensated_steps == tuple(asked)
    assert [type(e).__name__ for e in events[happy]] == ["WorkflowStarted", "WorkflowCompleted"]


def test_a_missed_deadline_is_reported_and_compensated(
    make_bed: Callable[..., Bed], unique: Callable[[str], str]
) -> None:
    bed = make_bed(timeout="3s")
    wf = unique("wf-slow")
    records = run(bed, Script(silent_at={wf: "s3"}), [wf], lambda r: terminal_count(r) >= 1)
    events = emitted(bed, records)[wf]
    assert [type(e).__name__ for e in events] == [
        "WorkflowStarted",
        "StepFailed",
        "CompensationRequested",
        "CompensationRequested",
        "WorkflowCompensated",
    ]
    timeout = events[1]
    assert isinstance(timeout, StepFailed)
    assert (timeout.step, timeout.code) == ("s3", "TIMEOUT")
    assert [e.step for e in events if isinstance(e, CompensationRequested)] == ["s2", "s1"]


def test_a_compensation_that_keeps_failing_ends_in_workflow_failed(
    bed: Bed, unique: Callable[[str], str]
) -> None:
    wf = unique("wf-stuck")
    script = Script(fail_at={wf: "s3"}, failing_compensations={wf})
    records = run(bed, script, [wf], lambda r: terminal_count(r) >= 1)
    events = emitted(bed, records)[wf]
    asked = [e.step for e in events if isinstance(e, CompensationRequested)]
    assert asked == ["s2", "s2"], "the head is retried (2 attempts), the next step never asked"
    final = events[-1]
    assert isinstance(final, WorkflowFailed)
    assert (final.failed_step, final.failed_compensation_step, final.needs_human) == ("s3", "s2", True)


def test_a_restarted_service_continues_from_the_changelog(bed: Bed, unique: Callable[[str], str]) -> None:
    wf = unique("wf-restart")
    lifecycle = Tail(bed, bed.topics.lifecycle)
    try:
        with StandIn(bed, Script(silent_at={wf: "s4"})):
            with ServiceThread(bed, bed.settings(instance_id="fixed")) as first:
                bed.start(wf)
                bed.flush()
                lifecycle.until(
                    lambda r: any(header(x, "ce_type") == "corps.lifecycle.WorkflowStarted" for x in r)
                )
                admitted_d = Tail(bed, bed.topics.admitted["D"])
                admitted_d.until(lambda r: len(r) == 1)  # s3 is done: three compensable steps completed
                admitted_d.close()
            assert first.stats.batches > 0
            failed = StepFailed(
                step="s4", agent="a4", code="NON_RETRYABLE", attempts=1, last_error="x", retryable=False
            )
            bed.start(wf)  # proposed again: denied as a duplicate, never admitted twice
            envelope = Envelope.new(
                failed.event_type, tenant="acme", workflow_id=wf, source="test", step="s4"
            )
            bed.send(bed.codec.encode(bed.topics.lifecycle_proposed, failed, envelope))
            bed.flush()
            with ServiceThread(bed, bed.settings(instance_id="fixed")) as second:
                lifecycle.until(lambda r: terminal_count(r) >= 1)
                lifecycle.poll(1.0)
            assert second.stats.restored >= 1
    finally:
        lifecycle.close()
    events = emitted(bed, lifecycle.records)[wf]
    assert [type(e).__name__ for e in events] == [
        "WorkflowStarted",
        "CompensationRequested",
        "CompensationRequested",
        "CompensationRequested",
        "WorkflowCompensated",
    ]
    assert [e.step for e in events if isinstance(e, CompensationRequested)] == ["s3", "s2", "s1"]
    starts = [r for r in Tail(bed, bed.topics.admitted["A"]).until(lambda r: len(r) >= 1)]
    assert len(starts) == 1

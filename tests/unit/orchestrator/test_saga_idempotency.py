"""Redelivered events change nothing; late events are recorded, not acted on; state round-trips as JSON."""

from __future__ import annotations

import pytest
from saga_helpers import Run, at, comp_done, domain, kinds, linear_until, step_failed

from corps.orchestrator import (
    DeadlineTick,
    IgnoreReason,
    RecordIgnored,
    RequestCompensation,
    SagaMachine,
    Status,
    WorkflowState,
)


def test_the_same_event_twice_yields_no_new_command(linear: SagaMachine) -> None:
    run = Run(linear)
    first = domain("A", 0, event_id="same")
    assert run.feed(first) != ()
    before = run.state
    assert run.feed(first) == ()
    assert run.state == before


@pytest.mark.parametrize("redelivered", range(5))
def test_redelivering_an_earlier_event_mid_compensation_is_a_no_op(
    linear: SagaMachine, redelivered: int
) -> None:
    run = Run(linear)
    history = [domain("A", 0), domain("B", 1), domain("C", 2), domain("D", 3), step_failed("s4", 4)]
    run.feed_all(history)
    before = run.state
    assert run.feed(history[redelivered]) == ()
    assert run.state == before


def test_a_redelivered_compensation_answer_does_not_skip_a_step(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 3)
    (req,) = [c for c in run.feed(step_failed("s4", 10)) if isinstance(c, RequestCompensation)]
    answer = comp_done("s3", 11, causation=req.event_id)
    run.feed(answer)
    assert run.state.queue[0].step == "s2"
    assert run.feed(answer) == ()
    assert run.state.queue[0].step == "s2"


@pytest.mark.parametrize("status", ["completed", "compensated", "failed"])
def test_late_events_after_the_end_are_recorded_not_acted_on(linear: SagaMachine, status: str) -> None:
    run = Run(linear)
    if status == "completed":
        linear_until(run, 4)
    elif status == "compensated":
        linear_until(run, 1)
        req = next(c for c in run.feed(step_failed("s2", 10)) if isinstance(c, RequestCompensation))
        run.feed(comp_done("s1", 11, causation=req.event_id))
    else:
        linear_until(run, 1)
        run.feed(step_failed("s2", 10))
        for n in range(3):  # three attempts, each timing out
            run.feed(DeadlineTick(time=at(100 * (n + 1))))
            run.feed(DeadlineTick(time=at(100 * (n + 1) + 50)))
    assert run.state.status.value == status
    final = run.state
    for late in (
        domain("C", 500),
        step_failed("s3", 501),
        comp_done("s1", 502),
        DeadlineTick(time=at(10_000)),
    ):
        commands = run.feed(late)
        assert all(isinstance(c, RecordIgnored) for c in commands), commands
    assert run.state.status == final.status
    assert [i.reason for i in run.state.ignored[-3:]] == [IgnoreReason.LATE] * 3
    # a late output of a step with side effects after compensation is flagged: nobody undid it
    assert run.state.ignored[-3].uncompensated_effect is (status != "completed")


def test_a_late_pure_event_is_not_flagged(mixed: SagaMachine) -> None:
    run = Run(mixed)
    run.feed_all([domain("Opened", 0)])
    run.feed(step_failed("triage", 1))
    assert run.state.status is Status.COMPENSATED
    run.feed(domain("Triaged", 2))
    assert run.state.ignored[-1].uncompensated_effect is False


def test_the_undo_event_after_its_completion_is_part_of_the_compensation_not_late(
    mixed: SagaMachine,
) -> None:
    # The refund agent emits Reversed and CompensationCompleted in one transaction on two topics:
    # the gate may admit the completion first. Reversed then belongs to the finished compensation.
    run = Run(mixed)
    run.feed_all([domain("Opened", 0), domain("Triaged", 1), domain("Refunded", 2)])
    req = next(c for c in run.feed(step_failed("draft", 3)) if isinstance(c, RequestCompensation))
    run.feed(comp_done("refund", 4, causation=req.event_id))
    assert run.state.status is Status.COMPENSATED
    before = run.state.ignored
    assert run.feed(domain("Reversed", 5)) == ()
    assert run.state.ignored == before
    run.feed(domain("Drafted", 6))  # a real late event is still recorded as late
    assert run.state.ignored[-1].reason is IgnoreReason.LATE


def test_state_round_trips_through_json_and_continues_identically(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 3)
    run.feed(step_failed("s4", 10))
    text = run.state.model_dump_json()
    restored = WorkflowState.model_validate_json(text)
    assert restored == run.state
    follow = comp_done("s3", 11, causation=run.state.request_id)
    assert linear.apply(restored, follow) == linear.apply(run.state, follow)


def test_the_same_inputs_give_the_same_outputs(linear: SagaMachine) -> None:
    script = [
        domain("A", 0),
        domain("B", 1),
        DeadlineTick(time=at(50)),
        DeadlineTick(time=at(60)),
        DeadlineTick(time=at(61)),
    ]
    first, second = Run(linear), Run(linear)
    first.feed_all(script)
    second.feed_all(script)
    assert first.log == second.log
    assert first.state == second.state
    assert kinds(first.log).count("request_compensation") == 2  # the timed-out attempt and its retry

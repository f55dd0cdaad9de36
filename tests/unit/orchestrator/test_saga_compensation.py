"""Failures are compensated in reverse order, one at a time; a compensation that keeps failing fails the
workflow for a human; irreversible steps are reported, never compensated."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from saga_helpers import Run, at, comp_done, comp_failed, domain, kinds, linear_until, step_failed

from corps.orchestrator import (
    COMPENSATION_TIMER,
    ClearDeadline,
    Command,
    CompensateWorkflow,
    DeadlineTick,
    FailWorkflow,
    IgnoreReason,
    ReportStepTimeout,
    RequestCompensation,
    SagaMachine,
    SetDeadline,
    Status,
    step_timer,
)


def requests(commands: Iterable[Command]) -> list[RequestCompensation]:
    return [c for c in commands if isinstance(c, RequestCompensation)]


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_failure_at_step_k_compensates_k_minus_1_down_to_1_one_at_a_time(linear: SagaMachine, k: int) -> None:
    run = Run(linear)
    linear_until(run, k - 1)
    commands = run.feed(step_failed(f"s{k}", 10))
    undone: list[str] = []
    clock = 10
    expected = [f"s{i}" for i in range(k - 1, 0, -1)]
    while run.state.status is Status.COMPENSATING:
        asked = requests(commands)
        assert len(asked) == 1, "exactly one compensation in flight"
        request = asked[0]
        assert request.failed_step == f"s{k}"
        assert request.attempt == 1
        # nothing more is requested until this one answers
        assert requests(run.feed(domain("UB", clock + 0.5, event_id=f"noise-{clock}"))) == []
        undone.append(request.step)
        clock += 1
        commands = run.feed(comp_done(request.step, clock, causation=request.event_id))
    assert undone == expected
    final = run.log[-1]
    assert isinstance(final, CompensateWorkflow)
    assert final.compensated_steps == tuple(expected)
    assert final.failed_step == f"s{k}"
    assert run.state.status is Status.COMPENSATED
    assert len(requests(run.log)) == k - 1


def test_compensation_request_carries_the_original_event(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 2)
    (request,) = requests(run.feed(step_failed("s3", 10)))
    assert request.step == "s2"
    assert request.agent == "a2"
    assert request.original_event_type == "C"
    assert request.original_event_id == "C-2"
    assert request.original_payload_json == '{"n": 2}'
    assert request.compensation_event == "UC"
    assert "NON_RETRYABLE" in request.reason


def test_a_failure_before_any_completed_step_is_compensated_at_once(linear: SagaMachine) -> None:
    run = Run(linear)
    run.feed(domain("A", 0))
    commands = run.feed(step_failed("s1", 1))
    assert kinds(commands) == ["clear_deadline", "compensated"]
    assert run.state.status is Status.COMPENSATED


def test_a_missed_deadline_reports_the_timeout_and_compensates(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 2)  # s3 triggered by C at t=2, deadline t=12
    assert run.feed(DeadlineTick(time=at(11.9))) == ()
    commands = run.feed(DeadlineTick(time=at(12)))
    timeout = commands[0]
    assert isinstance(timeout, ReportStepTimeout)
    assert (timeout.step, timeout.agent, timeout.deadline) == ("s3", "a3", at(12))
    assert ClearDeadline(key=step_timer("s3")) in commands
    assert [r.step for r in requests(commands)] == ["s2"]
    assert run.state.failed_step == "s3"
    assert (run.state.reason or "").startswith("TIMEOUT")
    # The StepFailed the orchestrator emits for it comes back on the lifecycle topic: no effect.
    assert run.feed(step_failed("s3", 12.5, event_id=timeout.event_id)) == ()


def test_a_compensation_that_keeps_failing_fails_the_workflow_for_a_human(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 2)
    (request,) = requests(run.feed(step_failed("s3", 10)))
    # attempt 1 fails -> retry after backoff 1 s
    commands = run.feed(comp_failed("s2", 11, causation=request.event_id))
    assert commands == (SetDeadline(key=COMPENSATION_TIMER, at=at(12)),)
    assert run.feed(DeadlineTick(time=at(11.5))) == ()
    (retry,) = requests(run.feed(DeadlineTick(time=at(12))))
    assert (retry.step, retry.attempt) == ("s2", 2)
    assert retry.event_id != request.event_id
    # attempt 2 fails -> retry after 2 s
    run.feed(comp_failed("s2", 13, causation=retry.event_id))
    (third,) = requests(run.feed(DeadlineTick(time=at(15))))
    assert third.attempt == 3
    # attempt 3 (the last of 3) fails -> WorkflowFailed, flagged, s1 never compensated
    commands = run.feed(comp_failed("s2", 16, causation=third.event_id))
    failed = commands[-1]
    assert isinstance(failed, FailWorkflow)
    assert failed.needs_human is True
    assert failed.failed_compensation_step == "s2"
    assert failed.failed_step == "s3"
    assert "bank down" in failed.reason
    assert ClearDeadline(key=COMPENSATION_TIMER) in commands
    assert run.state.status is Status.FAILED
    assert all(r.step == "s2" for r in requests(run.log))


def test_no_answer_to_a_compensation_counts_as_a_failed_attempt(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 1)
    (request,) = requests(run.feed(step_failed("s2", 10)))
    assert run.state.next_deadline() == at(15)  # compensation timeout 5 s
    commands = run.feed(DeadlineTick(time=at(15)))
    assert commands == (SetDeadline(key=COMPENSATION_TIMER, at=at(16)),)
    (retry,) = requests(run.feed(DeadlineTick(time=at(16))))
    assert retry.attempt == 2
    # the first attempt's success arrives after the retry went out: it still undoes the step
    commands = run.feed(comp_done("s1", 17, causation=request.event_id))
    assert isinstance(commands[-1], CompensateWorkflow)
    assert run.state.status is Status.COMPENSATED


def test_a_stale_failure_of_an_earlier_attempt_is_ignored(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 1)
    (request,) = requests(run.feed(step_failed("s2", 10)))
    run.feed(DeadlineTick(time=at(15)))
    (retry,) = requests(run.feed(DeadlineTick(time=at(16))))
    commands = run.feed(comp_failed("s1", 17, causation=request.event_id))
    assert kinds(commands) == ["ignored"]
    assert run.state.ignored[-1].reason is IgnoreReason.STALE
    assert run.state.request_id == retry.event_id


def test_an_answer_for_another_step_is_stale(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 2)
    run.feed(step_failed("s3", 10))
    commands = run.feed(comp_done("s1", 11))
    assert kinds(commands) == ["ignored"]
    assert run.state.queue[0].step == "s2"


def test_irreversible_and_pure_steps_are_reported_not_compensated(mixed: SagaMachine) -> None:
    run = Run(mixed)
    run.feed_all([domain("Opened", 0), domain("Triaged", 1), domain("Refunded", 2)])
    run.feed_all([domain("Drafted", 3), domain("Sent", 4)])
    (request,) = requests(run.feed(step_failed("close", 5)))
    assert request.step == "refund"
    commands = run.feed(comp_done("refund", 6, causation=request.event_id))
    final = commands[-1]
    assert isinstance(final, CompensateWorkflow)
    assert final.compensated_steps == ("refund",)
    assert final.irreversible_steps == ("send",)
    assert all(r.step != "send" for r in requests(run.log))


def test_a_failing_compensation_still_reports_irreversible_steps(mixed: SagaMachine) -> None:
    run = Run(mixed)
    run.feed_all([domain(e, i) for i, e in enumerate(["Opened", "Triaged", "Refunded", "Drafted", "Sent"])])
    (first,) = requests(run.feed(step_failed("close", 5)))
    run.feed(comp_failed("refund", 6, causation=first.event_id))
    (second,) = requests(run.feed(DeadlineTick(time=at(7))))
    commands = run.feed(comp_failed("refund", 8, causation=second.event_id))
    failed = commands[-1]
    assert isinstance(failed, FailWorkflow)
    assert failed.irreversible_steps == ("send",)


def test_a_step_finishing_during_compensation_is_undone_next(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 2)  # s1, s2 done; s3 pending
    (first,) = requests(run.feed(step_failed("s4", 10)))  # a report for another step starts compensation
    assert first.step == "s2"
    # s3's output arrives late: its effect is real and must be undone, right after s2
    assert requests(run.feed(domain("D", 11))) == []
    (second,) = requests(run.feed(comp_done("s2", 12, causation=first.event_id)))
    assert second.step == "s3"
    (third,) = requests(run.feed(comp_done("s3", 13, causation=second.event_id)))
    assert third.step == "s1"
    final = run.feed(comp_done("s1", 14, causation=third.event_id))[-1]
    assert isinstance(final, CompensateWorkflow)
    assert final.compensated_steps == ("s2", "s3", "s1")


def test_a_second_failure_while_compensating_changes_nothing(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 2)
    run.feed(step_failed("s3", 10))
    commands = run.feed(step_failed("s3", 11))
    assert kinds(commands) == ["ignored"]
    assert run.state.ignored[-1].reason is IgnoreReason.COMPENSATING
    assert run.state.failed_step == "s3"

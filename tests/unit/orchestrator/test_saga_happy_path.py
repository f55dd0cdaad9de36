"""The saga watches the happy path: it starts, tracks deadlines and completes, never drives."""

from __future__ import annotations

from saga_helpers import Run, at, domain, kinds, linear_until, topology_of

from corps.orchestrator import (
    ClearDeadline,
    CompleteWorkflow,
    IgnoreReason,
    RecordIgnored,
    SagaMachine,
    SetDeadline,
    StartWorkflow,
    Status,
    step_timer,
)


def test_start_event_starts_the_workflow_and_sets_the_first_deadline(linear: SagaMachine) -> None:
    run = Run(linear)
    commands = run.feed(domain("A", 0, event_id="e-A"))
    assert kinds(commands) == ["start", "set_deadline"]
    start, deadline = commands
    assert isinstance(start, StartWorkflow)
    assert (start.trigger_event_type, start.trigger_event_id) == ("A", "e-A")
    assert isinstance(deadline, SetDeadline)
    assert deadline.key == step_timer("s1")
    assert deadline.at == at(10)  # timeout 10 s x 1 attempt
    assert run.state.status is Status.RUNNING
    assert [p.step for p in run.state.pending] == ["s1"]


def test_each_output_clears_its_deadline_and_sets_the_next(linear: SagaMachine) -> None:
    run = Run(linear)
    run.feed(domain("A", 0))
    commands = run.feed(domain("B", 3))
    assert commands == (ClearDeadline(key=step_timer("s1")), SetDeadline(key=step_timer("s2"), at=at(13)))
    assert [r.step for r in run.state.completed] == ["s1"]


def test_completion_event_completes_with_steps_in_order_and_duration(linear: SagaMachine) -> None:
    run = Run(linear)
    linear_until(run, 4)
    complete = run.log[-1]
    assert isinstance(complete, CompleteWorkflow)
    assert complete.steps_completed == ("s1", "s2", "s3", "s4")
    assert complete.duration_ms == 4000
    assert run.state.status is Status.COMPLETED
    assert run.state.pending == ()
    assert run.state.next_deadline() is None
    assert sum(isinstance(c, CompleteWorkflow) for c in run.log) == 1


def test_step_deadline_covers_all_attempts_backoff_and_approval() -> None:
    topo = topology_of(
        """
workflow: {name: w, version: 1}
namespace: t.w
topics: {partitions: 1}
agents: {a: {}}
events: {A: {}, B: {}}
start: [A]
complete: [B]
steps:
  s:
    agent: a
    on: A
    emits: [B]
    side_effects: false
    timeout: 10s
    retry: {max_attempts: 3, backoff: {initial: 1s, multiplier: 2, max: 30s}}
    approval: {approvers: [lead], timeout: 1h}
"""
    )
    run = Run(SagaMachine(topo))
    commands = run.feed(domain("A", 0))
    deadline = commands[-1]
    assert isinstance(deadline, SetDeadline)
    # 3 attempts x 10 s + waits of 1 s and 2 s + 1 h approval
    assert deadline.at == at(3 * 10 + 1 + 2 + 3600)


def test_an_event_before_the_start_is_recorded_not_acted_on(linear: SagaMachine) -> None:
    run = Run(linear)
    commands = run.feed(domain("C", 0))
    assert kinds(commands) == ["ignored"]
    assert isinstance(commands[0], RecordIgnored)
    assert commands[0].ignored.reason is IgnoreReason.NOT_STARTED
    assert run.state.status is Status.NEW


def test_an_event_type_outside_the_topology_is_recorded(linear: SagaMachine) -> None:
    run = Run(linear)
    run.feed(domain("A", 0))
    commands = run.feed(domain("Nope", 1))
    assert kinds(commands) == ["ignored"]
    assert run.state.ignored[-1].reason is IgnoreReason.UNKNOWN_EVENT
    assert run.state.status is Status.RUNNING


def test_ce_type_maps_to_the_topology_event_name(linear: SagaMachine) -> None:
    assert linear.event_name("test.linear.B") == "B"
    assert linear.event_name("other.B") is None


def test_fan_out_tracks_every_triggered_step() -> None:
    topo = topology_of(
        """
workflow: {name: w, version: 1}
namespace: t.w
topics: {partitions: 1}
agents: {a: {}}
events: {A: {}, B: {}, C: {}, D: {}}
start: [A]
complete: [D]
steps:
  left: {agent: a, on: A, emits: [B], side_effects: false}
  right: {agent: a, on: A, emits: [C], side_effects: false}
  join: {agent: a, on: B, emits: [D], side_effects: false}
"""
    )
    run = Run(SagaMachine(topo))
    commands = run.feed(domain("A", 0))
    assert [c.key for c in commands if isinstance(c, SetDeadline)] == [
        step_timer("left"),
        step_timer("right"),
    ]
    run.feed(domain("B", 1))
    commands = run.feed(domain("D", 2))
    # completion clears the deadline of the branch still running
    assert ClearDeadline(key=step_timer("right")) in commands
    assert run.state.status is Status.COMPLETED

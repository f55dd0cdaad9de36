"""Property-style runs: a simulated world of agents answers the saga in random interleavings, with
redeliveries, failures, silent agents and late outputs; invariants must hold for every seed."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import pytest
from saga_helpers import LINEAR, MIXED, Run, at, topology_of

from corps.orchestrator import (
    Command,
    CompensateWorkflow,
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DeadlineTick,
    DomainEventObserved,
    FailWorkflow,
    Observation,
    RecordIgnored,
    RequestCompensation,
    SagaMachine,
    Status,
    StepFailedObserved,
    WorkflowState,
)

_TERMINAL = (CompensateWorkflow, FailWorkflow)
_MACHINES = {"linear": SagaMachine(topology_of(LINEAR)), "mixed": SagaMachine(topology_of(MIXED))}


@dataclass
class World:
    """Agents that react to what is delivered, with random failures, silence and delays."""

    machine: SagaMachine
    rng: random.Random
    fail_step: str | None
    fail_mode: str  # "report" | "silent" | "slow"
    clock: float = 0.0
    pool: list[Observation] = field(default_factory=list)
    fed: list[Observation] = field(default_factory=list)
    serial: int = 0

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def react(self, observation: Observation, commands: tuple[Command, ...]) -> None:
        topo = self.machine.topology
        if isinstance(observation, DomainEventObserved) and observation not in self.fed[:-1]:
            for step_name in self.machine.graph.consumers.get(observation.event_type, ()):
                step = topo.steps[step_name]
                when = self.clock + self.rng.uniform(0.1, 3)
                if step_name == self.fail_step and self.fail_mode == "report":
                    self.pool.append(
                        StepFailedObserved(event_id=self.new_id("failed"), time=at(when), step=step_name)
                    )
                    continue
                if step_name == self.fail_step and self.fail_mode == "slow":
                    when += topo.step_deadline(step_name).total_seconds() + 5
                elif step_name == self.fail_step:
                    continue  # silent: the orchestrator has to notice the deadline
                for event in step.emits[:1]:
                    self.pool.append(
                        DomainEventObserved(event_id=self.new_id(event), event_type=event, time=at(when))
                    )
        for command in commands:
            if not isinstance(command, RequestCompensation):
                continue
            roll = self.rng.random()
            when = at(self.clock + self.rng.uniform(0.1, 2))
            if roll < 0.6:
                self.pool.append(
                    CompensationCompletedObserved(
                        event_id=self.new_id("undone"),
                        time=when,
                        step=command.step,
                        causation_id=command.event_id,
                    )
                )
            elif roll < 0.85:
                self.pool.append(
                    CompensationFailedObserved(
                        event_id=self.new_id("undo-failed"),
                        time=when,
                        step=command.step,
                        causation_id=command.event_id,
                    )
                )
            # else: the compensating agent stays silent; the compensation deadline fires


@dataclass
class Step:
    """One feed: what was observed, the state before and after, and the commands emitted."""

    observation: Observation
    before: WorkflowState
    after: WorkflowState
    commands: tuple[Command, ...]


def simulate(name: str, seed: int) -> tuple[SagaMachine, list[Observation], Run, list[Step]]:
    machine = _MACHINES[name]
    rng = random.Random(seed)
    steps = list(machine.topology.steps)
    fail_step = rng.choice([*steps, None])
    world = World(machine, rng, fail_step, rng.choice(["report", "silent", "slow"]))
    run = Run(machine, workflow_id=f"wf-{seed}")
    trace: list[Step] = []
    start = machine.topology.start[0]
    world.pool.append(DomainEventObserved(event_id="start", event_type=start, time=at(0)))
    for _ in range(500):
        world.clock += 1
        roll = rng.random()
        if roll < 0.15 and world.fed:
            observation: Observation = rng.choice(world.fed)  # a redelivery
        elif world.pool and roll < 0.9:
            observation = world.pool.pop(rng.randrange(len(world.pool)))  # any interleaving of topics
        else:
            due = run.state.next_deadline()
            if due is None and not world.pool:
                break
            if due is not None:
                world.clock = max(world.clock, (due - at(0)).total_seconds())
            observation = DeadlineTick(time=at(world.clock))
        world.fed.append(observation)
        before = run.state
        commands = run.feed(observation)
        trace.append(Step(observation, before, run.state, commands))
        assert WorkflowState.model_validate_json(run.state.model_dump_json()) == run.state
        world.react(observation, commands)
    return machine, world.fed, run, trace


CASES = [(name, seed) for name in _MACHINES for seed in range(150)]


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_invariants_hold_for_random_runs(name: str, seed: int) -> None:
    machine, fed, run, trace = simulate(name, seed)
    topo = machine.topology
    log = run.log
    # every workflow ends, with exactly one terminal command, and nothing but records after it
    assert run.state.status.terminal, (run.state.status, fed)
    terminal = [i for i, c in enumerate(log) if c.kind in ("complete", "compensated", "failed")]
    assert len(terminal) == 1
    assert all(isinstance(c, RecordIgnored) for c in log[terminal[0] + 1 :])
    # ids are deterministic and never reused: no command is emitted twice
    ids = [c.event_id for c in log if hasattr(c, "event_id")]
    assert len(ids) == len(set(ids))
    asked = [c for c in log if isinstance(c, RequestCompensation)]
    if run.state.status is Status.COMPLETED:
        assert asked == []
        return
    # compensation begins with the completed compensable runs in reverse order of completion
    begin = next(
        s for s in trace if s.after.status is not Status.RUNNING and s.before.status is Status.RUNNING
    )
    compensable = [r for r in begin.before.completed if topo.steps[r.step].compensation]
    planned = [t.original_event_id for t in begin.after.queue] if begin.after.queue else []
    if begin.after.status is Status.COMPENSATING:
        assert planned == [r.event_id for r in reversed(compensable)]
    # one at a time: a first attempt only after the previous task was accepted as undone,
    # a retry only once the previous attempt is resolved (failed or timed out)
    for step in trace:
        for command in step.commands:
            if not isinstance(command, RequestCompensation):
                continue
            if command.attempt > 1:
                assert step.before.request_id is None
            elif step is not begin:
                assert len(step.after.compensated) == len(step.before.compensated) + 1
    # irreversible and pure steps are never compensated; every compensable run exactly once
    assert all(topo.steps[r.step].compensation is not None for r in asked)
    runs = Counter(r.step for r in run.state.completed if topo.steps[r.step].compensation)
    final = log[terminal[0]]
    irreversible = {r.step for r in run.state.completed if topo.steps[r.step].irreversible}
    if run.state.status is Status.COMPENSATED:
        assert isinstance(final, CompensateWorkflow)
        assert Counter(final.compensated_steps) == runs
        assert Counter(r.step for r in asked if r.attempt == 1) == runs
        assert set(final.irreversible_steps) == irreversible
    else:
        assert isinstance(final, FailWorkflow)
        assert final.needs_human
        last = [r for r in asked if r.step == final.failed_compensation_step][-1]
        assert last.attempt == topo.compensation_attempts(last.step)
        assert set(final.irreversible_steps) == irreversible


@pytest.mark.parametrize(("name", "seed"), CASES[::10])
def test_replaying_the_same_inputs_reproduces_the_same_commands(name: str, seed: int) -> None:
    machine, fed, run, _trace = simulate(name, seed)
    again = Run(machine, workflow_id=f"wf-{seed}")
    again.feed_all(fed)
    assert again.log == run.log
    assert again.state == run.state


@pytest.mark.parametrize(("name", "seed"), CASES[::10])
def test_redeliveries_change_nothing(name: str, seed: int) -> None:
    machine, fed, run, _trace = simulate(name, seed)
    seen: set[str] = set()
    unique: list[Observation] = []
    for observation in fed:
        key = getattr(observation, "event_id", None)
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        unique.append(observation)
    again = Run(machine, workflow_id=f"wf-{seed}")
    again.feed_all(unique)
    assert again.log == run.log

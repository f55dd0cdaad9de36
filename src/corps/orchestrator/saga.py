"""The saga state machine: one workflow's state + one observation → the new state + commands.

Pure and deterministic: no I/O, no clock, no randomness. Deadlines are computed from the times carried
by the observed events; command ids are derived from the workflow id and the state (see
:func:`~corps.orchestrator.saga_commands.command_event_id`), so running the same inputs again yields the
same outputs, byte for byte. A redelivered event (same ``event_id``) yields no command.

The happy path is the agents' business; the machine only watches it. When a step fails or misses its
deadline it undoes the completed compensable step runs in reverse order of completion, one at a time
(the next CompensationRequested only after the previous CompensationCompleted), retries a failing
compensation with backoff, and fails the workflow for a human when a compensation keeps failing.
Irreversible steps are reported, never compensated. Events after the end are recorded, not acted on.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from corps.orchestrator.saga_commands import (
    ClearDeadline,
    Command,
    CompleteWorkflow,
    RecordIgnored,
    ReportStepTimeout,
    SetDeadline,
    StartWorkflow,
    command_event_id,
)
from corps.orchestrator.saga_compensation import COMPENSATION_TIMER, Compensations, step_timer
from corps.orchestrator.saga_observations import (
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DeadlineTick,
    DomainEventObserved,
    Observation,
    StepFailedObserved,
)
from corps.orchestrator.saga_state import (
    Ignored,
    IgnoreReason,
    PendingStep,
    Status,
    StepRun,
    WorkflowState,
    construct,
    evolve,
)
from corps.topology import Topology, TopologyGraph

__all__ = ["COMPENSATION_TIMER", "SagaMachine", "Transition", "step_timer"]

_MAX_TICK_ROUNDS = 1000


class Transition(NamedTuple):
    """The result of one observation: the new state and the commands to carry out, in order."""

    state: WorkflowState
    commands: tuple[Command, ...]


class SagaMachine:
    """The state machine of one topology (build once, use for every workflow; it holds no state)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.graph = TopologyGraph.of(topology)
        self._names = {topology.schema_fullname(name): name for name in topology.events}
        self._compensations = Compensations(topology)
        self._deadlines = {name: topology.step_deadline(name) for name in topology.steps}

    def new(self, workflow_id: str) -> WorkflowState:
        """The state of a workflow nothing has been seen of yet."""
        return construct(WorkflowState, workflow_id=workflow_id)

    def event_name(self, ce_type: str) -> str | None:
        """The topology's event name for a CloudEvents ``ce_type`` (the Avro fullname), if any."""
        return self._names.get(ce_type)

    def apply(self, state: WorkflowState, observation: Observation) -> Transition:
        """Feed one observation to the workflow; return the new state and the commands to emit."""
        if isinstance(observation, DeadlineTick):
            return self._tick(state, observation.time)
        if observation.event_id in state.seen:
            return Transition(state, ())
        state = evolve(state, seen=(*state.seen, observation.event_id))
        out: list[Command] = []
        if state.status.terminal:
            if not self._undo_output(state, observation):
                state = self._ignore(state, observation, IgnoreReason.LATE, out)
        elif isinstance(observation, DomainEventObserved):
            state = self._domain(state, observation, out)
        elif state.status is Status.NEW:
            state = self._ignore(state, observation, IgnoreReason.NOT_STARTED, out)
        elif isinstance(observation, StepFailedObserved):
            if state.status is Status.RUNNING:
                reason = (
                    f"{observation.code}: {observation.reason}" if observation.reason else observation.code
                )
                state = self._compensations.begin(state, observation.step, reason, observation.time, out)
            else:
                state = self._ignore(state, observation, IgnoreReason.COMPENSATING, out)
        elif isinstance(observation, CompensationCompletedObserved):
            state = self._compensation_completed(state, observation, out)
        else:
            state = self._compensation_failed(state, observation, out)
        return Transition(state, tuple(out))

    def _undo_output(self, state: WorkflowState, observation: Observation) -> bool:
        """True for a compensation's own output (e.g. RefundReversed) seen after the workflow ended.

        A compensating agent emits its undo event and its CompensationCompleted in one transaction but
        on different topics, so the gate may admit the completion first; the undo event is then part
        of the compensation the workflow already recorded, not a late event.
        """
        return (
            state.status is Status.COMPENSATED
            and isinstance(observation, DomainEventObserved)
            and observation.event_type in self.graph.compensators
        )

    # ---- domain events --------------------------------------------------------------------------------

    def _domain(self, state: WorkflowState, event: DomainEventObserved, out: list[Command]) -> WorkflowState:
        topo = self.topology
        if event.event_type not in topo.events:
            return self._ignore(state, event, IgnoreReason.UNKNOWN_EVENT, out)
        if state.status is Status.NEW:
            if event.event_type not in topo.start:
                return self._ignore(state, event, IgnoreReason.NOT_STARTED, out)
            state = evolve(state, status=Status.RUNNING, started_at=event.time)
            out.append(
                construct(
                    StartWorkflow,
                    event_id=command_event_id(state.workflow_id, "started"),
                    trigger_event_type=event.event_type,
                    trigger_event_id=event.event_id,
                    time=event.time,
                )
            )
        emitter = self._emitter(event)
        if emitter is not None:
            state = self._record_run(state, emitter, event, out)
        if state.status is Status.COMPENSATING:
            if emitter is None and event.event_type not in self.graph.compensators:
                return self._ignore(state, event, IgnoreReason.COMPENSATING, out)
            return state
        if event.event_type in topo.complete:
            return self._finish_completed(state, event.time, out)
        pending = list(state.pending)
        for step in self.graph.consumers.get(event.event_type, ()):
            deadline = event.time + self._deadlines[step]
            pending = [p for p in pending if p.step != step]
            pending.append(
                construct(
                    PendingStep,
                    step=step,
                    trigger_event_id=event.event_id,
                    since=event.time,
                    deadline=deadline,
                )
            )
            out.append(construct(SetDeadline, key=step_timer(step), at=deadline))
        return evolve(state, pending=tuple(pending))

    def _emitter(self, event: DomainEventObserved) -> str | None:
        emitters = self.graph.emitters.get(event.event_type, ())
        if event.step in emitters:
            return event.step
        return emitters[0] if emitters else None

    def _record_run(
        self, state: WorkflowState, step_name: str, event: DomainEventObserved, out: list[Command]
    ) -> WorkflowState:
        step = self.topology.steps[step_name]
        keep_payload = step.compensation is not None
        run = construct(
            StepRun,
            step=step_name,
            event_id=event.event_id,
            event_type=event.event_type,
            time=event.time,
            payload_json=event.payload_json if keep_payload else "{}",
        )
        update: dict[str, object] = {"completed": (*state.completed, run)}
        if any(p.step == step_name for p in state.pending):
            update["pending"] = tuple(p for p in state.pending if p.step != step_name)
            out.append(construct(ClearDeadline, key=step_timer(step_name)))
        if state.status is Status.COMPENSATING:
            # The step finished after compensation began: its effect is real, so undo it next.
            if step.irreversible:
                update["irreversible"] = (*state.irreversible, step_name)
            elif step.compensation is not None:
                task = self._compensations.task(run)
                update["queue"] = (state.queue[0], task, *state.queue[1:])
        return evolve(state, **update)

    def _finish_completed(self, state: WorkflowState, time: datetime, out: list[Command]) -> WorkflowState:
        out.extend(construct(ClearDeadline, key=step_timer(p.step)) for p in state.pending)
        started = state.started_at or time
        out.append(
            construct(
                CompleteWorkflow,
                event_id=command_event_id(state.workflow_id, "completed"),
                steps_completed=tuple(run.step for run in state.completed),
                duration_ms=max(0, round((time - started).total_seconds() * 1000)),
                time=time,
            )
        )
        return evolve(state, status=Status.COMPLETED, finished_at=time, pending=())

    def _compensation_completed(
        self, state: WorkflowState, done: CompensationCompletedObserved, out: list[Command]
    ) -> WorkflowState:
        # Any attempt's success undoes the step (an earlier attempt may answer after a retry was sent).
        accepted = state.status is Status.COMPENSATING and self._compensations.answers_head(
            state, done.step, done.causation_id, any_attempt=True
        )
        if not accepted:
            return self._ignore(state, done, IgnoreReason.STALE, out)
        return self._compensations.completed(state, done.step, done.time, out)

    def _compensation_failed(
        self, state: WorkflowState, failed: CompensationFailedObserved, out: list[Command]
    ) -> WorkflowState:
        # Only the attempt in flight can fail; an older attempt's failure is stale.
        accepted = state.status is Status.COMPENSATING and self._compensations.answers_head(
            state, failed.step, failed.causation_id, any_attempt=False
        )
        if not accepted:
            return self._ignore(state, failed, IgnoreReason.STALE, out)
        why = f"{failed.code}: {failed.reason}" if failed.reason else failed.code
        return self._compensations.attempt_failed(state, why, failed.time, out)

    # ---- timers and bookkeeping -----------------------------------------------------------------------

    def _tick(self, state: WorkflowState, now: datetime) -> Transition:
        out: list[Command] = []
        for _ in range(_MAX_TICK_ROUNDS):
            due = state.next_deadline()
            if due is None or due > now:
                break
            if state.status is Status.RUNNING:
                late = min(state.pending, key=lambda p: (p.deadline, p.step))
                report = construct(
                    ReportStepTimeout,
                    event_id=command_event_id(state.workflow_id, "timeout", late.step, late.trigger_event_id),
                    step=late.step,
                    agent=self.topology.steps[late.step].agent,
                    trigger_event_id=late.trigger_event_id,
                    deadline=late.deadline,
                    time=now,
                )
                out.append(report)
                # The StepFailed this becomes will come back on the lifecycle topic: already handled.
                state = evolve(state, seen=(*state.seen, report.event_id))
                reason = f"TIMEOUT: no output of {late.step} by {late.deadline.isoformat()}"
                state = self._compensations.begin(state, late.step, reason, now, out)
            elif state.request_id is not None:
                state = self._compensations.attempt_failed(
                    state, "TIMEOUT: no answer to CompensationRequested", now, out
                )
            else:
                state = self._compensations.request_next(state, now, out)
        return Transition(state, tuple(out))

    def _ignore(
        self,
        state: WorkflowState,
        observation: DomainEventObserved
        | StepFailedObserved
        | CompensationCompletedObserved
        | CompensationFailedObserved,
        reason: IgnoreReason,
        out: list[Command],
    ) -> WorkflowState:
        event_type = (
            observation.event_type if isinstance(observation, DomainEventObserved) else observation.kind
        )
        effect = False
        if isinstance(observation, DomainEventObserved) and state.status in (
            Status.COMPENSATED,
            Status.FAILED,
        ):
            emitter = self._emitter(observation)
            effect = emitter is not None and self.topology.steps[emitter].side_effects
        ignored = construct(
            Ignored,
            event_id=observation.event_id,
            event_type=event_type,
            reason=reason,
            time=observation.time,
            uncompensated_effect=effect,
        )
        out.append(
            construct(
                RecordIgnored,
                event_id=command_event_id(state.workflow_id, "ignored", observation.event_id),
                ignored=ignored,
            )
        )
        return evolve(state, ignored=(*state.ignored, ignored))

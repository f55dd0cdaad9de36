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
    Command,
    ReportStepTimeout,
    command_event_id,
)
from corps.orchestrator.saga_compensation import COMPENSATION_TIMER, Compensations, step_timer
from corps.orchestrator.saga_domain import DomainEvents
from corps.orchestrator.saga_observations import (
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DeadlineTick,
    DomainEventObserved,
    Observation,
    StepFailedObserved,
)
from corps.orchestrator.saga_state import (
    IgnoreReason,
    Status,
    WorkflowState,
    construct,
    evolve,
)
from corps.topology import Topology, TopologyGraph

__all__ = ["COMPENSATION_TIMER", "SagaMachine", "Transition", "step_timer"]

_MAX_TICK_ROUNDS = 1000
_TERMINAL = frozenset((Status.COMPLETED, Status.COMPENSATED, Status.FAILED))


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
        self._domain = DomainEvents(topology, self.graph, self._compensations)

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
        seen = (*state.seen, observation.event_id)
        out: list[Command] = []
        status = state.status
        ignore = self._domain.ignore
        if isinstance(observation, DomainEventObserved):
            if status not in _TERMINAL:
                return Transition(self._domain.observe(state, seen, observation, out), tuple(out))
            state = evolve(state, seen=seen)
            if not self._undo_output(state, observation):
                state = ignore(state, observation, IgnoreReason.LATE, out)
            return Transition(state, tuple(out))
        state = evolve(state, seen=seen)
        if status in _TERMINAL:
            state = ignore(state, observation, IgnoreReason.LATE, out)
        elif status is Status.NEW:
            state = ignore(state, observation, IgnoreReason.NOT_STARTED, out)
        elif isinstance(observation, StepFailedObserved):
            if status is Status.RUNNING:
                reason = (
                    f"{observation.code}: {observation.reason}" if observation.reason else observation.code
                )
                state = self._compensations.begin(state, observation.step, reason, observation.time, out)
            else:
                state = ignore(state, observation, IgnoreReason.COMPENSATING, out)
        elif isinstance(observation, CompensationCompletedObserved):
            state = self._compensation_completed(state, observation, out)
        else:
            state = self._compensation_failed(state, observation, out)
        return Transition(state, tuple(out))

    def _undo_output(self, state: WorkflowState, observation: DomainEventObserved) -> bool:
        """True for a compensation's own output (e.g. RefundReversed) seen after the workflow ended.

        A compensating agent emits its undo event and its CompensationCompleted in one transaction but
        on different topics, so the gate may admit the completion first; the undo event is then part
        of the compensation the workflow already recorded, not a late event.
        """
        return state.status is Status.COMPENSATED and observation.event_type in self.graph.compensators

    def _compensation_completed(
        self, state: WorkflowState, done: CompensationCompletedObserved, out: list[Command]
    ) -> WorkflowState:
        # Any attempt's success undoes the step (an earlier attempt may answer after a retry was sent).
        accepted = state.status is Status.COMPENSATING and self._compensations.answers_head(
            state, done.step, done.causation_id, any_attempt=True
        )
        if not accepted:
            return self._domain.ignore(state, done, IgnoreReason.STALE, out)
        return self._compensations.completed(state, done.step, done.time, out)

    def _compensation_failed(
        self, state: WorkflowState, failed: CompensationFailedObserved, out: list[Command]
    ) -> WorkflowState:
        # Only the attempt in flight can fail; an older attempt's failure is stale.
        accepted = state.status is Status.COMPENSATING and self._compensations.answers_head(
            state, failed.step, failed.causation_id, any_attempt=False
        )
        if not accepted:
            return self._domain.ignore(state, failed, IgnoreReason.STALE, out)
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
                report = ReportStepTimeout(
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

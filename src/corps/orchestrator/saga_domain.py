"""Domain events, the saga's watching half: starts, step runs, pending deadlines, completion.

Used by :class:`~corps.orchestrator.saga.SagaMachine`; every method is pure (state in, state out,
commands appended to ``out``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from corps.orchestrator.saga_commands import (
    ClearDeadline,
    Command,
    CompleteWorkflow,
    RecordIgnored,
    SetDeadline,
    StartWorkflow,
    command_event_id,
)
from corps.orchestrator.saga_compensation import Compensations, step_timer
from corps.orchestrator.saga_observations import (
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DomainEventObserved,
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

__all__ = ["DomainEvents"]


class DomainEvents:
    """The domain-event half of the state machine for one topology."""

    def __init__(self, topology: Topology, graph: TopologyGraph, compensations: Compensations) -> None:
        self.topology = topology
        self.graph = graph
        self._compensations = compensations
        self._deadlines = {name: topology.step_deadline(name) for name in topology.steps}
        # Read once per topology instead of per event: what each event starts and which step runs
        # (and timer keys) its handling touches.
        self._events = frozenset(topology.events)
        self._start = frozenset(topology.start)
        self._complete = frozenset(topology.complete)
        self._triggers = {
            name: tuple((step, self._deadlines[step], step_timer(step)) for step in steps)
            for name, steps in graph.consumers.items()
        }
        self._compensable = frozenset(
            n for n, step in topology.steps.items() if step.compensation is not None
        )

    def observe(
        self, state: WorkflowState, seen: tuple[str, ...], event: DomainEventObserved, out: list[Command]
    ) -> WorkflowState:
        """A domain event of a workflow not finished yet; ``seen`` is the state's ids with the event's.

        The happy path's case: the new state is built once, with every change the event makes.
        """
        name = event.event_type
        if name not in self._events:
            return self.ignore(evolve(state, seen=seen), event, IgnoreReason.UNKNOWN_EVENT, out)
        update: dict[str, Any] = {"seen": seen}
        status = state.status
        if status is Status.NEW:
            if name not in self._start:
                return self.ignore(evolve(state, seen=seen), event, IgnoreReason.NOT_STARTED, out)
            status = update["status"] = Status.RUNNING
            update["started_at"] = event.time
            out.append(
                StartWorkflow(
                    event_id=command_event_id(state.workflow_id, "started"),
                    trigger_event_type=name,
                    trigger_event_id=event.event_id,
                    time=event.time,
                )
            )
        pending = state.pending
        emitter = self.emitter(event)
        if emitter is not None:
            pending = self._record_run(state, emitter, event, update, out)
        if status is Status.COMPENSATING:
            state = evolve(state, **update)
            if emitter is None and name not in self.graph.compensators:
                return self.ignore(state, event, IgnoreReason.COMPENSATING, out)
            return state
        if name in self._complete:
            update["pending"] = pending
            return self._finish_completed(state, update, event.time, out)
        triggers = self._triggers.get(name)
        if triggers:
            time = event.time
            if pending:
                stepped = {step for step, _, _ in triggers}
                kept = [p for p in pending if p.step not in stepped]
            else:
                kept = []
            for step, timeout, timer in triggers:
                deadline = time + timeout
                kept.append(
                    construct(
                        PendingStep,
                        step=step,
                        trigger_event_id=event.event_id,
                        since=time,
                        deadline=deadline,
                    )
                )
                out.append(SetDeadline(key=timer, at=deadline))
            pending = tuple(kept)
        update["pending"] = pending
        return evolve(state, **update)

    def emitter(self, event: DomainEventObserved) -> str | None:
        """The step that emitted ``event`` (its ``step`` when that is an emitter of its type), if any."""
        emitters = self.graph.emitters.get(event.event_type, ())
        if event.step in emitters:
            return event.step
        return emitters[0] if emitters else None

    def _record_run(
        self,
        state: WorkflowState,
        step_name: str,
        event: DomainEventObserved,
        update: dict[str, Any],
        out: list[Command],
    ) -> tuple[PendingStep, ...]:
        """Add the completed run of ``step_name`` to ``update``; return the pending steps left."""
        compensable = step_name in self._compensable
        run = construct(
            StepRun,
            step=step_name,
            event_id=event.event_id,
            event_type=event.event_type,
            time=event.time,
            payload_json=event.payload_json if compensable else "{}",
        )
        update["completed"] = (*state.completed, run)
        pending = state.pending
        for p in pending:
            if p.step == step_name:
                pending = tuple(p for p in pending if p.step != step_name)
                update["pending"] = pending
                out.append(ClearDeadline(key=step_timer(step_name)))
                break
        if state.status is Status.COMPENSATING:
            # The step finished after compensation began: its effect is real, so undo it next.
            if self.topology.steps[step_name].irreversible:
                update["irreversible"] = (*state.irreversible, step_name)
            elif compensable:
                task = self._compensations.task(run)
                update["queue"] = (state.queue[0], task, *state.queue[1:])
        return pending

    def _finish_completed(
        self, state: WorkflowState, update: dict[str, Any], time: datetime, out: list[Command]
    ) -> WorkflowState:
        """The completing event arrived: the workflow ends (``update`` holds the event's changes)."""
        out.extend([ClearDeadline(key=step_timer(p.step)) for p in update["pending"]])
        started = update.get("started_at") or state.started_at or time
        completed: tuple[StepRun, ...] = update.get("completed", state.completed)
        out.append(
            CompleteWorkflow(
                event_id=command_event_id(state.workflow_id, "completed"),
                steps_completed=tuple(run.step for run in completed),
                duration_ms=max(0, round((time - started).total_seconds() * 1000)),
                time=time,
            )
        )
        update.update(status=Status.COMPLETED, finished_at=time, pending=())
        return evolve(state, **update)

    def ignore(
        self,
        state: WorkflowState,
        observation: DomainEventObserved
        | StepFailedObserved
        | CompensationCompletedObserved
        | CompensationFailedObserved,
        reason: IgnoreReason,
        out: list[Command],
    ) -> WorkflowState:
        """Record an event that changes nothing else (and why); ``RecordIgnored`` says so."""
        event_type = (
            observation.event_type if isinstance(observation, DomainEventObserved) else observation.kind
        )
        effect = False
        if isinstance(observation, DomainEventObserved) and state.status in (
            Status.COMPENSATED,
            Status.FAILED,
        ):
            emitter = self.emitter(observation)
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
            RecordIgnored(
                event_id=command_event_id(state.workflow_id, "ignored", observation.event_id),
                ignored=ignored,
            )
        )
        return evolve(state, ignored=(*state.ignored, ignored))

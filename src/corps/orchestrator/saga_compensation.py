"""Compensation, the saga's one active duty: undo completed step runs in reverse, one at a time.

Used by :class:`~corps.orchestrator.saga.SagaMachine`; every method is pure (state in, state out,
commands appended to ``out``).
"""

from __future__ import annotations

from datetime import datetime

from corps.orchestrator.saga_commands import (
    ClearDeadline,
    Command,
    CompensateWorkflow,
    FailWorkflow,
    RequestCompensation,
    SetDeadline,
    command_event_id,
)
from corps.orchestrator.saga_state import CompensationTask, Status, StepRun, WorkflowState, construct, evolve
from corps.topology import Topology

__all__ = ["COMPENSATION_TIMER", "Compensations", "step_timer"]

COMPENSATION_TIMER = "compensation"


def step_timer(step: str) -> str:
    """The timer key of a pending step's deadline."""
    return f"step:{step}"


class Compensations:
    """The compensation half of the state machine for one topology."""

    def __init__(self, topology: Topology) -> None:
        self._topology = topology

    def task(self, run: StepRun) -> CompensationTask:
        """The compensation task that undoes one completed step run."""
        return construct(
            CompensationTask,
            step=run.step,
            agent=self._topology.steps[run.step].agent,
            original_event_id=run.event_id,
            original_event_type=run.event_type,
            payload_json=run.payload_json,
        )

    def begin(
        self, state: WorkflowState, failed_step: str, reason: str, time: datetime, out: list[Command]
    ) -> WorkflowState:
        """Start compensating: plan the completed compensable runs newest first and request the first."""
        out.extend(ClearDeadline(key=step_timer(p.step)) for p in state.pending)
        queue: list[CompensationTask] = []
        irreversible: list[str] = []
        for run in reversed(state.completed):
            step = self._topology.steps[run.step]
            if step.irreversible:
                irreversible.append(run.step)
            elif step.compensation is not None:
                queue.append(self.task(run))
        state = evolve(
            state,
            status=Status.COMPENSATING,
            failed_step=failed_step,
            reason=reason,
            pending=(),
            queue=tuple(queue),
            irreversible=tuple(irreversible),
            attempt=0,
        )
        return self.request_next(state, time, out)

    def request_next(self, state: WorkflowState, time: datetime, out: list[Command]) -> WorkflowState:
        """Request the head of the queue (next attempt), or finish when the queue is empty."""
        if not state.queue:
            out.append(
                CompensateWorkflow(
                    event_id=command_event_id(state.workflow_id, "compensated"),
                    failed_step=state.failed_step or "",
                    reason=state.reason or "",
                    compensated_steps=state.compensated,
                    irreversible_steps=state.irreversible,
                    time=time,
                )
            )
            return self.finish(state, Status.COMPENSATED, time)
        task = state.queue[0]
        attempt = state.attempt + 1
        request_id = command_event_id(state.workflow_id, "compensation", state.compensation_index, attempt)
        deadline = time + self._topology.compensation_timeout(task.step)
        compensation = self._topology.steps[task.step].compensation
        out.append(
            RequestCompensation(
                event_id=request_id,
                step=task.step,
                agent=task.agent,
                failed_step=state.failed_step or "",
                reason=state.reason or "",
                original_event_id=task.original_event_id,
                original_event_type=task.original_event_type,
                original_payload_json=task.payload_json,
                compensation_event=compensation.event if compensation else "",
                attempt=attempt,
                time=time,
            )
        )
        out.append(SetDeadline(key=COMPENSATION_TIMER, at=deadline))
        return evolve(
            state, attempt=attempt, request_id=request_id, compensation_deadline=deadline, retry_at=None
        )

    def answers_head(
        self, state: WorkflowState, step: str, causation_id: str | None, *, any_attempt: bool
    ) -> bool:
        """Whether an answer about ``step`` (caused by ``causation_id``) is about the task in flight.

        With ``any_attempt`` an answer to any attempt of the head task counts (a late success still
        undoes the step); without it only the attempt in flight does (an old failure is stale).
        """
        if not state.queue or state.queue[0].step != step:
            return False
        if causation_id is None:
            return state.request_id is not None or any_attempt
        if any_attempt:
            ids = {
                command_event_id(state.workflow_id, "compensation", state.compensation_index, n)
                for n in range(1, state.attempt + 1)
            }
            return causation_id in ids
        return causation_id == state.request_id

    def completed(self, state: WorkflowState, step: str, time: datetime, out: list[Command]) -> WorkflowState:
        """The head of the queue was undone: move on to the next run, or finish."""
        state = evolve(
            state,
            queue=state.queue[1:],
            compensated=(*state.compensated, step),
            compensation_index=state.compensation_index + 1,
            attempt=0,
            request_id=None,
            compensation_deadline=None,
            retry_at=None,
        )
        if not state.queue:
            out.append(ClearDeadline(key=COMPENSATION_TIMER))
        return self.request_next(state, time, out)

    def attempt_failed(
        self, state: WorkflowState, why: str, time: datetime, out: list[Command]
    ) -> WorkflowState:
        """The attempt in flight failed or timed out: retry after backoff, or fail for a human."""
        task = state.queue[0]
        if state.attempt >= self._topology.compensation_attempts(task.step):
            out.append(ClearDeadline(key=COMPENSATION_TIMER))
            out.append(
                FailWorkflow(
                    event_id=command_event_id(state.workflow_id, "failed"),
                    failed_step=state.failed_step or "",
                    reason=f"compensating {task.step} failed {state.attempt} time(s), last: {why}",
                    failed_compensation_step=task.step,
                    irreversible_steps=state.irreversible,
                    time=time,
                )
            )
            return self.finish(state, Status.FAILED, time)
        retry_at = time + self._topology.defaults.compensation_backoff.delay(state.attempt)
        out.append(SetDeadline(key=COMPENSATION_TIMER, at=retry_at))
        return evolve(state, request_id=None, compensation_deadline=None, retry_at=retry_at)

    def finish(self, state: WorkflowState, status: Status, time: datetime) -> WorkflowState:
        """End the workflow in ``status`` at ``time`` (no timer left)."""
        return evolve(
            state, status=status, finished_at=time, request_id=None, compensation_deadline=None, retry_at=None
        )

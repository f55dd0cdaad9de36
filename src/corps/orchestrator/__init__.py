"""The thin orchestrator: it watches the log, tracks every workflow and compensates failed ones.

This package holds the pure saga state machine (:class:`SagaMachine`): given a topology, a workflow's
state and one observed event it returns the new state and the commands to emit. The Kafka-facing
service around it (gate, state table, timers) builds on it.
"""

from corps.orchestrator.saga import COMPENSATION_TIMER, SagaMachine, Transition, step_timer
from corps.orchestrator.saga_commands import (
    ClearDeadline,
    Command,
    CompensateWorkflow,
    CompleteWorkflow,
    FailWorkflow,
    RecordIgnored,
    ReportStepTimeout,
    RequestCompensation,
    SetDeadline,
    StartWorkflow,
    command_event_id,
)
from corps.orchestrator.saga_observations import (
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DeadlineTick,
    DomainEventObserved,
    Observation,
    StepFailedObserved,
)
from corps.orchestrator.saga_state import IgnoreReason, Status, WorkflowState

__all__ = [
    "COMPENSATION_TIMER",
    "ClearDeadline",
    "Command",
    "CompensateWorkflow",
    "CompensationCompletedObserved",
    "CompensationFailedObserved",
    "CompleteWorkflow",
    "DeadlineTick",
    "DomainEventObserved",
    "FailWorkflow",
    "IgnoreReason",
    "Observation",
    "RecordIgnored",
    "ReportStepTimeout",
    "RequestCompensation",
    "SagaMachine",
    "SetDeadline",
    "StartWorkflow",
    "Status",
    "StepFailedObserved",
    "Transition",
    "WorkflowState",
    "command_event_id",
    "step_timer",
]

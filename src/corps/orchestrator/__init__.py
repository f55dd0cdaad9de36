"""The thin orchestrator: gates proposed events, tracks every workflow, compensates failed ones.

It watches the log and never calls an agent.

* :class:`SagaMachine` — the pure saga state machine: a workflow's state and one observation in, the
  new state and the commands to emit out.
* The gate (:class:`Policy`, :class:`Decision`, :class:`AllowAll`) — the only writer of admitted
  topics; every decision is a hash-chained :class:`~corps.events.lifecycle.PolicyDecision`
  (:func:`canonical_event`, :func:`link_hash` define the chain; replay recomputes it).
* :class:`OrchestratorService` — gate + orchestrator on Kafka, one transaction per batch, state in a
  compacted changelog (:class:`OrchestratorSettings`; ``corps orchestrator run``).
"""

from corps.orchestrator.chain import ChainHead, Link, canonical_event, event_digest, link_hash
from corps.orchestrator.policy import AllowAll, Decision, GateContext, Policy, ProposedEvent
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
from corps.orchestrator.service import OrchestratorService
from corps.orchestrator.settings import OrchestratorSettings
from corps.orchestrator.store import WorkflowRecord

__all__ = [
    "COMPENSATION_TIMER",
    "AllowAll",
    "ChainHead",
    "ClearDeadline",
    "Command",
    "CompensateWorkflow",
    "CompensationCompletedObserved",
    "CompensationFailedObserved",
    "CompleteWorkflow",
    "DeadlineTick",
    "Decision",
    "DomainEventObserved",
    "FailWorkflow",
    "GateContext",
    "IgnoreReason",
    "Link",
    "Observation",
    "OrchestratorService",
    "OrchestratorSettings",
    "Policy",
    "ProposedEvent",
    "RecordIgnored",
    "ReportStepTimeout",
    "RequestCompensation",
    "SagaMachine",
    "SetDeadline",
    "StartWorkflow",
    "Status",
    "StepFailedObserved",
    "Transition",
    "WorkflowRecord",
    "WorkflowState",
    "canonical_event",
    "command_event_id",
    "event_digest",
    "link_hash",
    "step_timer",
]

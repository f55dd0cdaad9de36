"""Event models of the ``corps.lifecycle`` namespace: generated from ``schemas/``, do not edit.

Regenerate with ``python -m corps.events.codegen`` after changing a schema; a unit test fails when
this file no longer matches the ``.avsc`` files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from corps.events.model import AvroInt, AvroLong, EventModel

__all__ = [
    "EVENTS",
    "ApprovalDenied",
    "ApprovalGranted",
    "ApprovalRequested",
    "CompensationCompleted",
    "CompensationFailed",
    "CompensationRequested",
    "Effect",
    "ErrorCode",
    "PolicyDecision",
    "PolicyRef",
    "StepFailed",
    "WorkflowCompensated",
    "WorkflowCompleted",
    "WorkflowFailed",
    "WorkflowStarted",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ApprovalDenied(EventModel):
    """A human denied the step; the workflow is compensated.

    Event type ``corps.lifecycle.ApprovalDenied``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.ApprovalDenied"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "ApprovalDenied",
        "namespace": "corps.lifecycle",
        "doc": "A human denied the step; the workflow is compensated.",
        "fields": [
            {"name": "request_id", "type": "string", "doc": "The ApprovalRequested this answers."},
            {"name": "step", "type": "string", "doc": "The denied step."},
            {"name": "approver", "type": "string", "doc": "Who denied."},
            {"name": "reason", "type": "string", "doc": "Why it was denied."},
        ],
    }

    request_id: str
    """The ApprovalRequested this answers."""
    step: str
    """The denied step."""
    approver: str
    """Who denied."""
    reason: str
    """Why it was denied."""


class ApprovalGranted(EventModel):
    """A human approved the step.

    Event type ``corps.lifecycle.ApprovalGranted``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.ApprovalGranted"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "ApprovalGranted",
        "namespace": "corps.lifecycle",
        "doc": "A human approved the step.",
        "fields": [
            {"name": "request_id", "type": "string", "doc": "The ApprovalRequested this answers."},
            {"name": "step", "type": "string", "doc": "The approved step."},
            {"name": "approver", "type": "string", "doc": "Who approved."},
            {
                "name": "comment",
                "type": ["null", "string"],
                "default": None,
                "doc": "Optional comment of the approver.",
            },
        ],
    }

    request_id: str
    """The ApprovalRequested this answers."""
    step: str
    """The approved step."""
    approver: str
    """Who approved."""
    comment: str | None = None
    """Optional comment of the approver."""


class ApprovalRequested(EventModel):
    """A human-approval step waits for a decision.

    Event type ``corps.lifecycle.ApprovalRequested``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.ApprovalRequested"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "ApprovalRequested",
        "namespace": "corps.lifecycle",
        "doc": "A human-approval step waits for a decision.",
        "fields": [
            {"name": "request_id", "type": "string", "doc": "Id that the approval answer refers to."},
            {"name": "step", "type": "string", "doc": "The step waiting for approval."},
            {"name": "summary", "type": "string", "doc": "What is to be approved, for the approver."},
            {
                "name": "approvers",
                "type": {"type": "array", "items": "string"},
                "default": [],
                "doc": "Who may approve (user or group names).",
            },
            {
                "name": "deadline_ms",
                "type": ["null", "long"],
                "default": None,
                "doc": "Epoch milliseconds after which the request times out, if any.",
            },
        ],
    }

    request_id: str
    """Id that the approval answer refers to."""
    step: str
    """The step waiting for approval."""
    summary: str
    """What is to be approved, for the approver."""
    approvers: tuple[str, ...] = ()
    """Who may approve (user or group names)."""
    deadline_ms: AvroLong | None = None
    """Epoch milliseconds after which the request times out, if any."""


class CompensationCompleted(EventModel):
    """A step was compensated; the orchestrator moves on to the previous step.

    Event type ``corps.lifecycle.CompensationCompleted``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.CompensationCompleted"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "CompensationCompleted",
        "namespace": "corps.lifecycle",
        "doc": "A step was compensated; the orchestrator moves on to the previous step.",
        "fields": [
            {"name": "step", "type": "string", "doc": "The step that was compensated."},
            {"name": "agent", "type": "string", "doc": "The agent that compensated it."},
            {
                "name": "compensation_event_id",
                "type": ["null", "string"],
                "default": None,
                "doc": "ce_id of the domain event that undid the step, when there is one.",
            },
        ],
    }

    step: str
    """The step that was compensated."""
    agent: str
    """The agent that compensated it."""
    compensation_event_id: str | None = None
    """ce_id of the domain event that undid the step, when there is one."""


ErrorCode = Literal[
    "RETRYABLE", "NON_RETRYABLE", "INVALID_INPUT", "DEPENDENCY_UNAVAILABLE", "TIMEOUT", "POLICY", "UNKNOWN"
]
"""Standard error codes of the agent runtime; UNKNOWN is the fallback for codes added later."""


class CompensationFailed(EventModel):
    """Compensating a step failed; after the last attempt the workflow fails and is flagged for a human.

    Event type ``corps.lifecycle.CompensationFailed``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.CompensationFailed"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "CompensationFailed",
        "namespace": "corps.lifecycle",
        "doc": "Compensating a step failed; after the last attempt the workflow fails and is flagged for "
        "a human.",
        "fields": [
            {"name": "step", "type": "string", "doc": "The step whose compensation failed."},
            {"name": "agent", "type": "string", "doc": "The agent that tried to compensate it."},
            {
                "name": "code",
                "type": {
                    "type": "enum",
                    "name": "ErrorCode",
                    "namespace": "corps.lifecycle",
                    "doc": "Standard error codes of the agent runtime; UNKNOWN is the fallback "
                    "for codes added later.",
                    "symbols": [
                        "RETRYABLE",
                        "NON_RETRYABLE",
                        "INVALID_INPUT",
                        "DEPENDENCY_UNAVAILABLE",
                        "TIMEOUT",
                        "POLICY",
                        "UNKNOWN",
                    ],
                    "default": "UNKNOWN",
                },
                "doc": "Standard error code of the failure.",
            },
            {"name": "attempts", "type": "int", "doc": "How many attempts were made, the first included."},
            {"name": "last_error", "type": "string", "doc": "Message of the last error."},
        ],
    }

    step: str
    """The step whose compensation failed."""
    agent: str
    """The agent that tried to compensate it."""
    code: ErrorCode
    """Standard error code of the failure."""
    attempts: AvroInt
    """How many attempts were made, the first included."""
    last_error: str
    """Message of the last error."""


class CompensationRequested(EventModel):
    """The orchestrator asks the agent of a completed compensable step to undo it.

    Event type ``corps.lifecycle.CompensationRequested``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.CompensationRequested"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "CompensationRequested",
        "namespace": "corps.lifecycle",
        "doc": "The orchestrator asks the agent of a completed compensable step to undo it.",
        "fields": [
            {"name": "step", "type": "string", "doc": "The completed step to compensate."},
            {
                "name": "agent",
                "type": "string",
                "doc": "The agent that ran the step and answers this request.",
            },
            {
                "name": "failed_step",
                "type": "string",
                "doc": "The step whose failure (or timeout) started the compensation.",
            },
            {"name": "reason", "type": "string", "doc": "Why the workflow is being compensated."},
            {
                "name": "original_event_id",
                "type": "string",
                "doc": "ce_id of the event the step emitted, the one to undo.",
            },
            {"name": "original_event_type", "type": "string", "doc": "ce_type of that event."},
            {
                "name": "original_payload_json",
                "type": "string",
                "doc": "That event's payload as a JSON object, so the handler knows what to undo.",
            },
        ],
    }

    step: str
    """The completed step to compensate."""
    agent: str
    """The agent that ran the step and answers this request."""
    failed_step: str
    """The step whose failure (or timeout) started the compensation."""
    reason: str
    """Why the workflow is being compensated."""
    original_event_id: str
    """ce_id of the event the step emitted, the one to undo."""
    original_event_type: str
    """ce_type of that event."""
    original_payload_json: str
    """That event's payload as a JSON object, so the handler knows what to undo."""


Effect = Literal["ALLOW", "DENY", "REDACT", "REQUIRE_APPROVAL"]
"""What the gate did with the event (REQUIRE_APPROVAL: parked until approved)."""


class PolicyRef(BaseModel):
    """One policy that took part in a decision."""

    model_config = _FROZEN

    policy_id: str
    """Id of the policy."""
    policy_version: str
    """Version of the policy."""


class PolicyDecision(EventModel):
    """The gate decided about one proposed event; one link of the workflow's hash chain.

    Event type ``corps.lifecycle.PolicyDecision``, schema version 2.
    """

    event_type: ClassVar[str] = "corps.lifecycle.PolicyDecision"
    schema_version: ClassVar[int] = 2
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "PolicyDecision",
        "namespace": "corps.lifecycle",
        "doc": "The gate decided about one proposed event; one link of the workflow's hash chain.",
        "fields": [
            {"name": "decided_event_id", "type": "string", "doc": "ce_id of the event decided about."},
            {"name": "decided_event_type", "type": "string", "doc": "ce_type of that event."},
            {
                "name": "effect",
                "type": {
                    "type": "enum",
                    "name": "Effect",
                    "namespace": "corps.lifecycle",
                    "doc": "What the gate did with the event (REQUIRE_APPROVAL: parked until approved).",
                    "symbols": ["ALLOW", "DENY", "REDACT", "REQUIRE_APPROVAL"],
                    "default": "DENY",
                },
                "doc": "What the gate did with the event.",
            },
            {"name": "reason", "type": "string", "doc": "Human-readable reason of the decision."},
            {
                "name": "policies",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "PolicyRef",
                        "namespace": "corps.lifecycle",
                        "doc": "One policy that took part in a decision.",
                        "fields": [
                            {"name": "policy_id", "type": "string", "doc": "Id of the policy."},
                            {"name": "policy_version", "type": "string", "doc": "Version of the policy."},
                        ],
                    },
                },
                "doc": "Policies (id and version) that took part.",
                "default": [],
            },
            {
                "name": "redacted_fields",
                "type": {"type": "array", "items": "string"},
                "default": [],
                "doc": "Payload fields removed (effect REDACT).",
            },
            {
                "name": "sequence",
                "type": "long",
                "doc": "Position of this link in the workflow's chain, starting at 0.",
            },
            {
                "name": "prev_hash",
                "type": "string",
                "doc": "Hex SHA-256 of the previous link ('' for the first link).",
            },
            {"name": "hash", "type": "string", "doc": "Hex SHA-256 over prev_hash and the canonical event."},
            {
                "name": "set_name",
                "type": "string",
                "default": "",
                "doc": "Name of the policy set the decision was taken under ('' when no set was in force).",
            },
            {
                "name": "set_version",
                "type": "long",
                "default": 0,
                "doc": "Version number of that policy set (0: none).",
            },
            {
                "name": "set_digest",
                "type": "string",
                "default": "",
                "doc": "Content digest of that policy-set version.",
            },
            {
                "name": "evaluated_at_ms",
                "type": ["null", "long"],
                "default": None,
                "doc": "Evaluation time (epoch ms; the proposed record's timestamp), when policies "
                "were evaluated.",
            },
        ],
    }

    decided_event_id: str
    """ce_id of the event decided about."""
    decided_event_type: str
    """ce_type of that event."""
    effect: Effect
    """What the gate did with the event."""
    reason: str
    """Human-readable reason of the decision."""
    policies: tuple[PolicyRef, ...] = ()
    """Policies (id and version) that took part."""
    redacted_fields: tuple[str, ...] = ()
    """Payload fields removed (effect REDACT)."""
    sequence: AvroLong
    """Position of this link in the workflow's chain, starting at 0."""
    prev_hash: str
    """Hex SHA-256 of the previous link ('' for the first link)."""
    hash: str
    """Hex SHA-256 over prev_hash and the canonical event."""
    set_name: str = ""
    """Name of the policy set the decision was taken under ('' when no set was in force)."""
    set_version: AvroLong = 0
    """Version number of that policy set (0: none)."""
    set_digest: str = ""
    """Content digest of that policy-set version."""
    evaluated_at_ms: AvroLong | None = None
    """Evaluation time (epoch ms; the proposed record's timestamp), when policies were evaluated."""


class StepFailed(EventModel):
    """A step gave up on an input event: retries exhausted or a non-retryable error.

    The orchestrator compensates.

    Event type ``corps.lifecycle.StepFailed``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.StepFailed"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "StepFailed",
        "namespace": "corps.lifecycle",
        "doc": "A step gave up on an input event: retries exhausted or a non-retryable error. The "
        "orchestrator compensates.",
        "fields": [
            {"name": "step", "type": "string", "doc": "Name of the step (in the topology) that failed."},
            {"name": "agent", "type": "string", "doc": "Name of the agent that ran the step."},
            {
                "name": "code",
                "type": {
                    "type": "enum",
                    "name": "ErrorCode",
                    "namespace": "corps.lifecycle",
                    "doc": "Standard error codes of the agent runtime; UNKNOWN is the fallback "
                    "for codes added later.",
                    "symbols": [
                        "RETRYABLE",
                        "NON_RETRYABLE",
                        "INVALID_INPUT",
                        "DEPENDENCY_UNAVAILABLE",
                        "TIMEOUT",
                        "POLICY",
                        "UNKNOWN",
                    ],
                    "default": "UNKNOWN",
                },
                "doc": "Standard error code of the failure.",
            },
            {"name": "attempts", "type": "int", "doc": "How many attempts were made, the first included."},
            {"name": "last_error", "type": "string", "doc": "Message of the last error."},
            {
                "name": "retryable",
                "type": "boolean",
                "doc": "Whether the error was retryable (true when attempts ran out).",
            },
        ],
    }

    step: str
    """Name of the step (in the topology) that failed."""
    agent: str
    """Name of the agent that ran the step."""
    code: ErrorCode
    """Standard error code of the failure."""
    attempts: AvroInt
    """How many attempts were made, the first included."""
    last_error: str
    """Message of the last error."""
    retryable: bool
    """Whether the error was retryable (true when attempts ran out)."""


class WorkflowCompensated(EventModel):
    """A step failed and every completed compensable step was undone, in reverse order.

    Event type ``corps.lifecycle.WorkflowCompensated``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.WorkflowCompensated"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "WorkflowCompensated",
        "namespace": "corps.lifecycle",
        "doc": "A step failed and every completed compensable step was undone, in reverse order.",
        "fields": [
            {
                "name": "workflow",
                "type": "string",
                "doc": "Name of the workflow (topology) this instance runs.",
            },
            {
                "name": "workflow_version",
                "type": "int",
                "doc": "Version of the topology the workflow runs under.",
            },
            {
                "name": "failed_step",
                "type": "string",
                "doc": "The step whose failure (or timeout) started the compensation.",
            },
            {"name": "reason", "type": "string", "doc": "Why the step failed."},
            {
                "name": "compensated_steps",
                "type": {"type": "array", "items": "string"},
                "default": [],
                "doc": "Steps undone, in the order they were undone.",
            },
            {
                "name": "irreversible_steps",
                "type": {"type": "array", "items": "string"},
                "default": [],
                "doc": "Completed irreversible steps: reported, not undone.",
            },
        ],
    }

    workflow: str
    """Name of the workflow (topology) this instance runs."""
    workflow_version: AvroInt
    """Version of the topology the workflow runs under."""
    failed_step: str
    """The step whose failure (or timeout) started the compensation."""
    reason: str
    """Why the step failed."""
    compensated_steps: tuple[str, ...] = ()
    """Steps undone, in the order they were undone."""
    irreversible_steps: tuple[str, ...] = ()
    """Completed irreversible steps: reported, not undone."""


class WorkflowCompleted(EventModel):
    """Every step of the workflow completed.

    Event type ``corps.lifecycle.WorkflowCompleted``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.WorkflowCompleted"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "WorkflowCompleted",
        "namespace": "corps.lifecycle",
        "doc": "Every step of the workflow completed.",
        "fields": [
            {
                "name": "workflow",
                "type": "string",
                "doc": "Name of the workflow (topology) this instance runs.",
            },
            {
                "name": "workflow_version",
                "type": "int",
                "doc": "Version of the topology the workflow runs under.",
            },
            {
                "name": "steps_completed",
                "type": {"type": "array", "items": "string"},
                "default": [],
                "doc": "Steps in the order they completed.",
            },
            {
                "name": "duration_ms",
                "type": "long",
                "doc": "Milliseconds from the triggering event to the completing one.",
            },
        ],
    }

    workflow: str
    """Name of the workflow (topology) this instance runs."""
    workflow_version: AvroInt
    """Version of the topology the workflow runs under."""
    steps_completed: tuple[str, ...] = ()
    """Steps in the order they completed."""
    duration_ms: AvroLong
    """Milliseconds from the triggering event to the completing one."""


class WorkflowFailed(EventModel):
    """The workflow could not be completed nor compensated; a human has to look at it.

    Event type ``corps.lifecycle.WorkflowFailed``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.WorkflowFailed"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "WorkflowFailed",
        "namespace": "corps.lifecycle",
        "doc": "The workflow could not be completed nor compensated; a human has to look at it.",
        "fields": [
            {
                "name": "workflow",
                "type": "string",
                "doc": "Name of the workflow (topology) this instance runs.",
            },
            {
                "name": "workflow_version",
                "type": "int",
                "doc": "Version of the topology the workflow runs under.",
            },
            {
                "name": "failed_step",
                "type": "string",
                "doc": "The step whose failure started the compensation.",
            },
            {"name": "reason", "type": "string", "doc": "Why the workflow failed."},
            {
                "name": "failed_compensation_step",
                "type": ["null", "string"],
                "default": None,
                "doc": "The step whose compensation kept failing, if any.",
            },
            {"name": "needs_human", "type": "boolean", "doc": "Whether a human has to act.", "default": True},
        ],
    }

    workflow: str
    """Name of the workflow (topology) this instance runs."""
    workflow_version: AvroInt
    """Version of the topology the workflow runs under."""
    failed_step: str
    """The step whose failure started the compensation."""
    reason: str
    """Why the workflow failed."""
    failed_compensation_step: str | None = None
    """The step whose compensation kept failing, if any."""
    needs_human: bool = True
    """Whether a human has to act."""


class WorkflowStarted(EventModel):
    """The orchestrator saw the first event of a workflow instance.

    Event type ``corps.lifecycle.WorkflowStarted``, schema version 1.
    """

    event_type: ClassVar[str] = "corps.lifecycle.WorkflowStarted"
    schema_version: ClassVar[int] = 1
    avro_schema: ClassVar[Mapping[str, Any]] = {
        "type": "record",
        "name": "WorkflowStarted",
        "namespace": "corps.lifecycle",
        "doc": "The orchestrator saw the first event of a workflow instance.",
        "fields": [
            {
                "name": "workflow",
                "type": "string",
                "doc": "Name of the workflow (topology) this instance runs.",
            },
            {
                "name": "workflow_version",
                "type": "int",
                "doc": "Version of the topology the workflow runs under.",
            },
            {
                "name": "trigger_event_type",
                "type": "string",
                "doc": "ce_type of the event that started the workflow.",
            },
            {"name": "trigger_event_id", "type": "string", "doc": "ce_id of that event."},
        ],
    }

    workflow: str
    """Name of the workflow (topology) this instance runs."""
    workflow_version: AvroInt
    """Version of the topology the workflow runs under."""
    trigger_event_type: str
    """ce_type of the event that started the workflow."""
    trigger_event_id: str
    """ce_id of that event."""


EVENTS: tuple[type[EventModel], ...] = (
    ApprovalDenied,
    ApprovalGranted,
    ApprovalRequested,
    CompensationCompleted,
    CompensationFailed,
    CompensationRequested,
    PolicyDecision,
    StepFailed,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowStarted,
)
"""Every event model of ``corps.lifecycle``."""

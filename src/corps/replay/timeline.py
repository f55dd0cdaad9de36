"""Per-workflow timelines: what happened, who emitted it, what the gate decided and how long it took.

A :class:`WorkflowTimeline` holds one :class:`TimelineEntry` per event (all copies of an event —
proposed, admitted — and the gate's decision about it are merged into one entry) in a deterministic
order, plus what an auditor asks first: the workflow's recorded status, its duration, the steps that
ran, the gate's decisions with their policy versions, approvals, retries and compensations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Approval",
    "CompensationStep",
    "GateDecision",
    "Stage",
    "StepRun",
    "TimelineEntry",
    "WorkflowStatus",
    "WorkflowTimeline",
]


class Stage(StrEnum):
    """Where an event got to."""

    ADMITTED = "admitted"
    """The gate admitted it (it is on an admitted topic)."""
    REDACTED = "redacted"
    """The gate admitted a redacted copy."""
    EMITTED = "emitted"
    """The orchestrator wrote it (chained by the gate)."""
    DENIED = "denied"
    """The gate refused it: it never reached an agent."""
    PARKED = "parked"
    """The gate holds it until the approvals its policies require are granted."""
    PROPOSED = "proposed"
    """Proposed, with no decision in the replayed range."""
    UNREADABLE = "unreadable"
    """No valid envelope or payload (see the entry's problem)."""


class WorkflowStatus(StrEnum):
    """A workflow's status as recorded in the log."""

    COMPLETED = "completed"
    COMPENSATED = "compensated"
    FAILED = "failed"
    COMPENSATING = "compensating"
    AWAITING_APPROVAL = "awaiting-approval"
    """An event of the workflow is parked for human approval."""
    RUNNING = "running"
    DENIED = "denied"
    PROPOSED = "proposed"

    @property
    def terminal(self) -> bool:
        """True for the three ends the orchestrator records."""
        return self in (WorkflowStatus.COMPLETED, WorkflowStatus.COMPENSATED, WorkflowStatus.FAILED)


@dataclass(frozen=True, slots=True)
class GateDecision:
    """One link of the workflow's hash chain: the gate's decision about one event.

    Attributes:
        sequence: The link's position in the chain.
        effect: ``ALLOW``, ``DENY`` or ``REDACT``.
        reason: The recorded reason.
        policies: ``(policy id, policy version)`` of every policy that took part.
        redacted_fields: Fields the gate removed or masked.
        hash: The link's hash.
        location: Where the decision record sits (``topic[partition]@offset``).
    """

    sequence: int
    effect: str
    reason: str
    policies: tuple[tuple[str, str], ...]
    redacted_fields: tuple[str, ...]
    hash: str
    location: str

    def __reduce__(self) -> tuple[Any, ...]:
        # positional, not the slots-state default: several times cheaper to pickle (worker hand-over)
        fields = (self.sequence, self.effect, self.reason, self.policies, self.redacted_fields, self.hash)
        return (GateDecision, (*fields, self.location))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "sequence": self.sequence,
            "effect": self.effect,
            "reason": self.reason,
            "policies": [list(p) for p in self.policies],
            "redacted_fields": list(self.redacted_fields),
            "hash": self.hash,
            "location": self.location,
        }


@dataclass(slots=True)
class TimelineEntry:
    """One event of a workflow with everything recorded about it.

    Attributes:
        event_id: ``ce_id``.
        event_type: ``ce_type`` (Avro fullname).
        name: Its short name (``TicketOpened``).
        lifecycle: True for corps' own lifecycle events (``corps.lifecycle.*``).
        stage: Where it got to.
        source: Who emitted it (``ce_source``).
        step: The topology step it belongs to, if any.
        time: ``ce_time``.
        causation_id: The event that caused it, if any.
        since_cause_ms: Milliseconds from its cause's time to its own (a step's duration).
        decisions: The gate's decisions about it, by chain sequence (a re-proposed copy adds one).
        data: The decoded payload (``None`` when not kept or unreadable).
        locations: Every copy's ``topic[partition]@offset``.
        problem: Why a copy could not be read, if one could not.
        attempt: The runtime's delivery attempt (records read from retry topics).
    """

    event_id: str
    event_type: str
    name: str
    lifecycle: bool
    stage: Stage
    source: str
    step: str | None
    time: datetime | None
    causation_id: str | None = None
    since_cause_ms: int | None = None
    decisions: list[GateDecision] = field(default_factory=list)
    data: dict[str, Any] | None = None
    locations: list[str] = field(default_factory=list)
    problem: str | None = None
    attempt: int | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # positional, not the slots-state default: several times cheaper to pickle (worker hand-over)
        head = (self.event_id, self.event_type, self.name, self.lifecycle, self.stage, self.source, self.step)
        tail = (self.since_cause_ms, self.decisions, self.data, self.locations, self.problem, self.attempt)
        return (TimelineEntry, (*head, self.time, self.causation_id, *tail))

    @property
    def decision(self) -> GateDecision | None:
        """The first decision about the event (the one that admitted or refused it)."""
        return self.decisions[0] if self.decisions else None

    def sort_key(self) -> tuple[Any, ...]:
        """Time, then chain position, then where it sits: a total, deterministic order."""
        first = self.decisions[0].sequence if self.decisions else 1 << 62
        when = self.time.timestamp() if self.time is not None else float("inf")
        return (when, first, min(self.locations, default=""), self.event_id)


@dataclass(frozen=True, slots=True)
class StepRun:
    """A step's output event: which step, which agent, and how long after its trigger."""

    step: str
    agent: str
    event: str
    time: datetime | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Approval:
    """An approval request or an approver's decision."""

    step: str
    outcome: str
    approver: str
    time: datetime | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CompensationStep:
    """One compensation event: requested, completed or failed, for which step."""

    step: str
    outcome: str
    time: datetime | None
    attempt: int | None = None


@dataclass(slots=True)
class WorkflowTimeline:
    """One workflow as the log tells it.

    Attributes:
        workflow_id: The workflow (correlation) id.
        tenant: Its tenant.
        workflow: The topology's workflow name.
        status: Its status as recorded.
        started_at: Time of WorkflowStarted (else of its first event).
        finished_at: Time of its terminal event, if any.
        entries: Its events in order.
        steps: Step outputs with their durations.
        approvals: Approval requests and decisions.
        compensations: Compensation requests, completions and failures.
        retries: Retries recorded (attempts beyond the first).
        failed_step: The step whose failure started compensation, if any.
        reason: The recorded reason of a failure or a denial.
    """

    workflow_id: str
    tenant: str
    workflow: str
    status: WorkflowStatus
    started_at: datetime | None
    finished_at: datetime | None
    entries: list[TimelineEntry]
    steps: list[StepRun] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    compensations: list[CompensationStep] = field(default_factory=list)
    retries: int = 0
    failed_step: str | None = None
    reason: str | None = None

    @property
    def duration_ms(self) -> int | None:
        """Milliseconds from start to end (``None`` while unfinished)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0, round((self.finished_at - self.started_at).total_seconds() * 1000))

    def decisions(self) -> list[GateDecision]:
        """Every gate decision of the workflow, by chain sequence."""
        return sorted((d for e in self.entries for d in e.decisions), key=lambda d: d.sequence)

    def effects(self) -> dict[str, int]:
        """How many decisions had each effect."""
        counts: dict[str, int] = {}
        for decision in self.decisions():
            counts[decision.effect] = counts.get(decision.effect, 0) + 1
        return dict(sorted(counts.items()))

    def policy_versions(self) -> list[tuple[str, str]]:
        """Every ``(policy id, version)`` that took part in a decision, sorted."""
        return sorted({p for d in self.decisions() for p in d.policies})

"""What the saga state machine reads: admitted domain events, lifecycle reports and timer ticks.

Times are aware datetimes taken from the events themselves (a tick carries the time it stands for);
nothing here or in the machine reads a clock. Observations are frozen slotted dataclasses (one per
admitted event; they are never serialised).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

__all__ = [
    "CompensationCompletedObserved",
    "CompensationFailedObserved",
    "DeadlineTick",
    "DomainEventObserved",
    "Observation",
    "StepFailedObserved",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEventObserved:
    """An admitted domain event of the workflow (``event_type`` is the topology's event name)."""

    kind: ClassVar[str] = "domain"
    event_id: str
    event_type: str
    time: datetime
    step: str | None = None
    payload_json: str = "{}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFailedObserved:
    """A step gave up (the runtime's StepFailed after its retries, or the orchestrator's own timeout)."""

    kind: ClassVar[str] = "step_failed"
    event_id: str
    time: datetime
    step: str
    code: str = "UNKNOWN"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensationCompletedObserved:
    """An agent undid a step; ``causation_id`` is the CompensationRequested it answers, when known."""

    kind: ClassVar[str] = "compensation_completed"
    event_id: str
    time: datetime
    step: str
    causation_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensationFailedObserved:
    """An agent could not undo a step (after the runtime's own retries)."""

    kind: ClassVar[str] = "compensation_failed"
    event_id: str
    time: datetime
    step: str
    causation_id: str | None = None
    code: str = "UNKNOWN"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineTick:
    """Time has reached ``time`` (the service ticks at the deadlines the state asks for)."""

    kind: ClassVar[str] = "tick"
    time: datetime


Observation = (
    DomainEventObserved
    | StepFailedObserved
    | CompensationCompletedObserved
    | CompensationFailedObserved
    | DeadlineTick
)

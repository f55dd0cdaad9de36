"""What the saga state machine reads: admitted domain events, lifecycle reports and timer ticks.

Times are aware datetimes taken from the events themselves (a tick carries the time it stands for);
nothing here or in the machine reads a clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CompensationCompletedObserved",
    "CompensationFailedObserved",
    "DeadlineTick",
    "DomainEventObserved",
    "Observation",
    "StepFailedObserved",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class DomainEventObserved(BaseModel):
    """An admitted domain event of the workflow (``event_type`` is the topology's event name)."""

    model_config = _FROZEN
    kind: Literal["domain"] = "domain"
    event_id: str
    event_type: str
    time: datetime
    step: str | None = None
    payload_json: str = "{}"


class StepFailedObserved(BaseModel):
    """A step gave up (the runtime's StepFailed after its retries, or the orchestrator's own timeout)."""

    model_config = _FROZEN
    kind: Literal["step_failed"] = "step_failed"
    event_id: str
    time: datetime
    step: str
    code: str = "UNKNOWN"
    reason: str = ""


class CompensationCompletedObserved(BaseModel):
    """An agent undid a step; ``causation_id`` is the CompensationRequested it answers, when known."""

    model_config = _FROZEN
    kind: Literal["compensation_completed"] = "compensation_completed"
    event_id: str
    time: datetime
    step: str
    causation_id: str | None = None


class CompensationFailedObserved(BaseModel):
    """An agent could not undo a step (after the runtime's own retries)."""

    model_config = _FROZEN
    kind: Literal["compensation_failed"] = "compensation_failed"
    event_id: str
    time: datetime
    step: str
    causation_id: str | None = None
    code: str = "UNKNOWN"
    reason: str = ""


class DeadlineTick(BaseModel):
    """Time has reached ``time`` (the service ticks at the deadlines the state asks for)."""

    model_config = _FROZEN
    kind: Literal["tick"] = "tick"
    time: datetime


Observation = Annotated[
    DomainEventObserved
    | StepFailedObserved
    | CompensationCompletedObserved
    | CompensationFailedObserved
    | DeadlineTick,
    Field(discriminator="kind"),
]

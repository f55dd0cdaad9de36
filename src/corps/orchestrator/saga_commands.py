"""What the saga state machine says: the events to emit and the timers to set, as commands.

Every command that becomes an event carries a deterministic ``event_id`` (see
:func:`command_event_id`): re-running the same inputs emits byte-identical events.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from corps.orchestrator.saga_state import Ignored

__all__ = [
    "ClearDeadline",
    "Command",
    "CompensateWorkflow",
    "CompleteWorkflow",
    "FailWorkflow",
    "RecordIgnored",
    "ReportStepTimeout",
    "RequestCompensation",
    "SetDeadline",
    "StartWorkflow",
    "command_event_id",
    "uuid5_text",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:orchestrator:saga")


_VARIANT = {c: "89ab"[int(c, 16) & 0x3] for c in "0123456789abcdef"}


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, several times faster (no UUID object on the way)."""
    h = hashlib.sha1(namespace.bytes + name.encode()).hexdigest()  # noqa: S324 - RFC 4122 name-based
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def command_event_id(workflow_id: str, *parts: str | int) -> str:
    """The deterministic ``ce_id`` of a command: the same state and input always yield the same id.

    That makes a re-run after a crash emit byte-identical events (consumers dedupe on ``ce_id``) and
    lets a replay compare what it derives with what was emitted.
    """
    return uuid5_text(_IDS, "/".join([workflow_id, *map(str, parts)]))


class StartWorkflow(BaseModel):
    """Emit WorkflowStarted."""

    model_config = _FROZEN
    kind: Literal["start"] = "start"
    event_id: str
    trigger_event_type: str
    trigger_event_id: str
    time: datetime


class CompleteWorkflow(BaseModel):
    """Emit WorkflowCompleted."""

    model_config = _FROZEN
    kind: Literal["complete"] = "complete"
    event_id: str
    steps_completed: tuple[str, ...]
    duration_ms: int
    time: datetime


class ReportStepTimeout(BaseModel):
    """Emit StepFailed (code TIMEOUT) for a step whose output did not arrive by its deadline."""

    model_config = _FROZEN
    kind: Literal["step_timeout"] = "step_timeout"
    event_id: str
    step: str
    agent: str
    trigger_event_id: str
    deadline: datetime
    time: datetime


class RequestCompensation(BaseModel):
    """Emit CompensationRequested for one completed step run (one at a time, reverse order)."""

    model_config = _FROZEN
    kind: Literal["request_compensation"] = "request_compensation"
    event_id: str
    step: str
    agent: str
    failed_step: str
    reason: str
    original_event_id: str
    original_event_type: str
    original_payload_json: str
    compensation_event: str
    attempt: int
    time: datetime


class CompensateWorkflow(BaseModel):
    """Emit WorkflowCompensated: every compensable step undone; irreversible ones reported."""

    model_config = _FROZEN
    kind: Literal["compensated"] = "compensated"
    event_id: str
    failed_step: str
    reason: str
    compensated_steps: tuple[str, ...]
    irreversible_steps: tuple[str, ...]
    time: datetime


class FailWorkflow(BaseModel):
    """Emit WorkflowFailed, flagged for a human: a compensation kept failing."""

    model_config = _FROZEN
    kind: Literal["failed"] = "failed"
    event_id: str
    failed_step: str
    reason: str
    failed_compensation_step: str | None
    irreversible_steps: tuple[str, ...]
    needs_human: bool = True
    time: datetime


class RecordIgnored(BaseModel):
    """Record an event that was seen but not acted on (late, stale, before the start ...)."""

    model_config = _FROZEN
    kind: Literal["ignored"] = "ignored"
    event_id: str
    ignored: Ignored


class SetDeadline(BaseModel):
    """Wake this workflow with a :class:`DeadlineTick` at ``at`` (``key`` names the timer)."""

    model_config = _FROZEN
    kind: Literal["set_deadline"] = "set_deadline"
    key: str
    at: datetime


class ClearDeadline(BaseModel):
    """The timer ``key`` is no longer needed."""

    model_config = _FROZEN
    kind: Literal["clear_deadline"] = "clear_deadline"
    key: str


Command = Annotated[
    StartWorkflow
    | CompleteWorkflow
    | ReportStepTimeout
    | RequestCompensation
    | CompensateWorkflow
    | FailWorkflow
    | RecordIgnored
    | SetDeadline
    | ClearDeadline,
    Field(discriminator="kind"),
]

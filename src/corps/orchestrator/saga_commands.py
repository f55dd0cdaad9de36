"""What the saga state machine says: the events to emit and the timers to set, as commands.

Every command that becomes an event carries a deterministic ``event_id`` (see
:func:`command_event_id`): re-running the same inputs emits byte-identical events. Commands are
frozen slotted dataclasses: the machine makes several per event and never serialises them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

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

_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:orchestrator:saga")
_IDS_BYTES = _IDS.bytes


_VARIANT = {c: "89ab"[int(c, 16) & 0x3] for c in "0123456789abcdef"}


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, several times faster (no UUID object on the way)."""
    return _uuid5(namespace.bytes, name)


def _uuid5(namespace: bytes, name: str) -> str:
    h = hashlib.sha1(namespace + name.encode()).hexdigest()  # noqa: S324 - RFC 4122 name-based
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def command_event_id(workflow_id: str, *parts: str | int) -> str:
    """The deterministic ``ce_id`` of a command: the same state and input always yield the same id.

    That makes a re-run after a crash emit byte-identical events (consumers dedupe on ``ce_id``) and
    lets a replay compare what it derives with what was emitted.
    """
    return _uuid5(_IDS_BYTES, "/".join([workflow_id, *map(str, parts)]))


@dataclass(frozen=True, slots=True, kw_only=True)
class StartWorkflow:
    """Emit WorkflowStarted."""

    kind: ClassVar[str] = "start"
    event_id: str
    trigger_event_type: str
    trigger_event_id: str
    time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteWorkflow:
    """Emit WorkflowCompleted."""

    kind: ClassVar[str] = "complete"
    event_id: str
    steps_completed: tuple[str, ...]
    duration_ms: int
    time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportStepTimeout:
    """Emit StepFailed (code TIMEOUT) for a step whose output did not arrive by its deadline."""

    kind: ClassVar[str] = "step_timeout"
    event_id: str
    step: str
    agent: str
    trigger_event_id: str
    deadline: datetime
    time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCompensation:
    """Emit CompensationRequested for one completed step run (one at a time, reverse order)."""

    kind: ClassVar[str] = "request_compensation"
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


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensateWorkflow:
    """Emit WorkflowCompensated: every compensable step undone; irreversible ones reported."""

    kind: ClassVar[str] = "compensated"
    event_id: str
    failed_step: str
    reason: str
    compensated_steps: tuple[str, ...]
    irreversible_steps: tuple[str, ...]
    time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FailWorkflow:
    """Emit WorkflowFailed, flagged for a human: a compensation kept failing."""

    kind: ClassVar[str] = "failed"
    event_id: str
    failed_step: str
    reason: str
    failed_compensation_step: str | None
    irreversible_steps: tuple[str, ...]
    needs_human: bool = True
    time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordIgnored:
    """Record an event that was seen but not acted on (late, stale, before the start ...)."""

    kind: ClassVar[str] = "ignored"
    event_id: str
    ignored: Ignored


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDeadline:
    """Wake this workflow with a :class:`DeadlineTick` at ``at`` (``key`` names the timer)."""

    kind: ClassVar[str] = "set_deadline"
    key: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearDeadline:
    """The timer ``key`` is no longer needed."""

    kind: ClassVar[str] = "clear_deadline"
    key: str


Command = (
    StartWorkflow
    | CompleteWorkflow
    | ReportStepTimeout
    | RequestCompensation
    | CompensateWorkflow
    | FailWorkflow
    | RecordIgnored
    | SetDeadline
    | ClearDeadline
)

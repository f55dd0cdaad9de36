"""The operators' view: workflows from the state changelog, one workflow's timeline from the log.

:func:`list_workflows` reads the compacted changelog (the latest record of every workflow);
:func:`read_timeline` reads the workflow's partition of the decision log and of the lifecycle topic
and :func:`build_timeline` (pure) joins them: every event the gate decided about (with its effect and
chain position), the orchestrator's and the agents' lifecycle events with their details, how long each
step and each compensation took, and the events recorded but not acted on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from corps.events import Envelope, EventCodec, EventModel, RawRecord
from corps.events.lifecycle import (
    EVENTS,
    CompensationCompleted,
    CompensationFailed,
    CompensationRequested,
    PolicyDecision,
    StepFailed,
    WorkflowCompensated,
    WorkflowFailed,
)
from corps.events.model import models_by_type
from corps.orchestrator.policy_gate import is_counter_record
from corps.orchestrator.restore import read_partitions
from corps.orchestrator.saga_state import Ignored
from corps.orchestrator.store import WorkflowRecord
from corps.orchestrator.topics import TopologyTopics
from corps.topology import Topology

__all__ = [
    "Span",
    "Timeline",
    "TimelineEntry",
    "build_timeline",
    "list_workflows",
    "read_timeline",
    "status_of",
]

_LIFECYCLE = models_by_type(EVENTS)


def status_of(record: WorkflowRecord) -> str:
    """The workflow's status as shown to operators (``gated`` when only the gate ran)."""
    if record.retired is not None:
        return record.retired.value
    return record.saga.status.value if record.saga is not None else "gated"


def list_workflows(
    client_config: dict[str, str],
    topics: TopologyTopics,
    partitions: int,
    *,
    state: str | None = None,
    tenant: str | None = None,
) -> list[WorkflowRecord]:
    """Every workflow's latest record, filtered by status and tenant, newest start first."""
    latest: dict[bytes, bytes | None] = {}
    for raw in read_partitions(client_config, topics.state, range(partitions)):
        if raw.key is not None:
            latest[raw.key] = raw.value
    records = [
        WorkflowRecord.model_validate_json(v)
        for v in latest.values()
        if v is not None and not is_counter_record(v)  # policy counters share the changelog
    ]
    found = [
        r
        for r in records
        if (state is None or status_of(r) == state) and (tenant is None or r.tenant == tenant)
    ]

    def started(record: WorkflowRecord) -> str:
        saga = record.saga
        return saga.started_at.isoformat() if saga is not None and saga.started_at is not None else ""

    return sorted(found, key=lambda r: (started(r), r.workflow_id), reverse=True)


@dataclass(frozen=True)
class TimelineEntry:
    """One event of the workflow as the log has it."""

    time: datetime
    event_type: str
    event_id: str
    source: str
    step: str | None
    effect: str | None = None
    sequence: int | None = None
    reason: str = ""
    detail: str = ""

    @property
    def name(self) -> str:
        """The event type without its namespace."""
        return self.event_type.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Span:
    """How long something took: a step (trigger -> output) or a compensation (request -> answer)."""

    what: str
    step: str
    started: datetime
    ended: datetime | None
    outcome: str

    @property
    def duration(self) -> timedelta | None:
        """``ended - started``, when it ended."""
        return self.ended - self.started if self.ended is not None else None


@dataclass
class Timeline:
    """One workflow: its record, its events in log order and its spans."""

    record: WorkflowRecord
    entries: list[TimelineEntry] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)

    @property
    def ignored(self) -> tuple[Ignored, ...]:
        """Events recorded but not acted on (late, stale, before the start ...)."""
        return self.record.saga.ignored if self.record.saga is not None else ()

    @property
    def status(self) -> str:
        """The workflow's status."""
        return status_of(self.record)


def _detail(payload: EventModel) -> str:
    if isinstance(payload, StepFailed):
        return f"{payload.code}: {payload.last_error}"
    if isinstance(payload, CompensationRequested):
        return f"undo {payload.original_event_type.rsplit('.', 1)[-1]} ({payload.reason})"
    if isinstance(payload, CompensationFailed):
        return f"{payload.code}: {payload.last_error}"
    if isinstance(payload, WorkflowCompensated):
        undone = ", ".join(payload.compensated_steps) or "nothing"
        irreversible = (
            f"; irreversible: {', '.join(payload.irreversible_steps)}" if payload.irreversible_steps else ""
        )
        return f"undone: {undone}{irreversible}"
    if isinstance(payload, WorkflowFailed):
        return f"needs a human: {payload.reason}" if payload.needs_human else payload.reason
    return ""


def build_timeline(
    record: WorkflowRecord,
    decisions: Iterable[tuple[Envelope, PolicyDecision]],
    lifecycle: Iterable[tuple[Envelope, EventModel]],
    topology: Topology,
) -> Timeline:
    """Join the workflow's decisions and lifecycle events into a timeline with step and compensation spans."""
    details = {env.id: (env, payload) for env, payload in lifecycle}
    entries: list[TimelineEntry] = []
    for env, decision in decisions:
        found = details.get(decision.decided_event_id)
        step = env.step or (str(getattr(found[1], "step", "")) or None if found else None)
        entries.append(
            TimelineEntry(
                time=env.time,
                event_type=decision.decided_event_type,
                event_id=decision.decided_event_id,
                source=found[0].source if found else "",
                step=step,
                effect=decision.effect,
                sequence=decision.sequence,
                reason=decision.reason,
                detail=_detail(found[1]) if found else "",
            )
        )
    entries.sort(key=lambda e: e.sequence if e.sequence is not None else -1)
    return Timeline(record, entries, _spans(entries, details, topology))


def _spans(
    entries: list[TimelineEntry], details: dict[str, tuple[Envelope, EventModel]], topology: Topology
) -> list[Span]:
    spans: list[Span] = []
    admitted = [e for e in entries if e.effect != "DENY"]
    seen_at: dict[str, datetime] = {}
    for entry in admitted:
        seen_at.setdefault(entry.name, entry.time)
    for name, step in topology.steps.items():
        started = seen_at.get(step.on)
        if started is None:
            continue
        output = next((e for e in admitted if e.name in step.emits and e.step in (name, None)), None)
        failed = next((e for e in admitted if e.name == "StepFailed" and e.step == name), None)
        if output is not None:
            spans.append(Span("step", name, started, output.time, "done"))
        elif failed is not None:
            spans.append(Span("step", name, started, failed.time, f"failed ({failed.detail})"))
        else:
            spans.append(Span("step", name, started, None, "pending"))
    answers = {
        env.causation_id: (env, payload)
        for env, payload in details.values()
        if isinstance(payload, CompensationCompleted | CompensationFailed) and env.causation_id
    }
    for env, payload in details.values():
        if not isinstance(payload, CompensationRequested):
            continue
        answer = answers.get(env.id)
        if answer is None:
            spans.append(Span("compensation", payload.step, env.time, None, "waiting"))
        else:
            outcome = "undone" if isinstance(answer[1], CompensationCompleted) else "failed"
            spans.append(Span("compensation", payload.step, env.time, answer[0].time, outcome))
    return sorted(spans, key=lambda s: (s.started, s.what))


def read_timeline(
    client_config: dict[str, str], codec: EventCodec, topology: Topology, workflow_id: str
) -> Timeline | None:
    """Read one workflow's timeline from the log (``None`` when the changelog does not know it)."""
    topics = TopologyTopics.of(topology)
    key = frozenset({workflow_id.encode()})
    partitions = range(topology.topics.partitions)
    state = [r for r in read_partitions(client_config, topics.state, partitions, keys=key) if r.value]
    if not state:
        return None
    last = state[-1]
    assert last.value is not None  # filtered above
    record = WorkflowRecord.model_validate_json(last.value)
    own = [record.partition]
    decisions = [
        _decode_decision(codec, r) for r in read_partitions(client_config, topics.decisions, own, keys=key)
    ]
    lifecycle = [
        _decode_lifecycle(codec, r) for r in read_partitions(client_config, topics.lifecycle, own, keys=key)
    ]
    return build_timeline(record, decisions, lifecycle, topology)


def _decode_decision(codec: EventCodec, raw: RawRecord) -> tuple[Envelope, PolicyDecision]:
    event = codec.decode(raw, PolicyDecision)
    return event.envelope, event.payload


def _decode_lifecycle(codec: EventCodec, raw: RawRecord) -> tuple[Envelope, EventModel]:
    event = codec.decode_any(raw, _LIFECYCLE)
    return event.envelope, event.payload

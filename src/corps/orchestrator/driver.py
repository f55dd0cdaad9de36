"""The orchestrator stage: admitted events become saga observations, saga commands become events.

It sits behind the gate in the same process and the same Kafka transaction: every event the gate
admits is observed in admission order (the order of the workflow's hash chain), and every event the
saga asks for is written to the admitted lifecycle topic with its deterministic ``ce_id`` and linked
into the chain. Timers are not events: a :class:`~corps.orchestrator.saga_observations.DeadlineTick`
carries the time of the service's injected clock. It never calls an agent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from corps.events import Envelope, EventCodec, EventModel
from corps.events.lifecycle import (
    CompensationCompleted,
    CompensationFailed,
    CompensationRequested,
    StepFailed,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowStarted,
)
from corps.orchestrator.gate import Admitted, Gate, trusted_envelope
from corps.orchestrator.saga import SagaMachine
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
)
from corps.orchestrator.saga_observations import (
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DeadlineTick,
    DomainEventObserved,
    Observation,
    StepFailedObserved,
)
from corps.orchestrator.saga_state import WorkflowState, construct, evolve
from corps.orchestrator.store import StateStore, WorkflowRecord
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.orchestrator.wire import headers_of

__all__ = ["ORCHESTRATOR_SOURCE", "Driver", "payload_json"]

ORCHESTRATOR_SOURCE = "corps/orchestrator"
_EMITTED_REASON = "emitted by the orchestrator"
_SILENT = (SetDeadline, ClearDeadline, RecordIgnored)
"""Commands that are not events (timers: the store schedules from the state; ignored-event records)."""


class _Made(NamedTuple):
    payload: EventModel
    event_id: str
    time: datetime
    step: str | None
    causation_id: str | None


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def payload_json(data: Mapping[str, Any]) -> str:
    """A decoded Avro payload as a JSON object (bytes base64, logical types as text), keys sorted."""
    return json.dumps(data, default=_json_default, sort_keys=True, separators=(",", ":"))


class Driver:
    """Feeds admitted events and deadline ticks to the saga and writes what it says.

    Args:
        machine: The topology's saga state machine.
        gate: The gate (it links the orchestrator's own events into the chains).
        codec: Encodes lifecycle events (subjects ``<lifecycle topic>-<fullname>``).
        topics: The topology's topics.
    """

    def __init__(self, machine: SagaMachine, gate: Gate, codec: EventCodec, topics: TopologyTopics) -> None:
        self.machine = machine
        self.gate = gate
        self.codec = codec
        self.topics = topics
        topology = machine.topology
        self._workflow = topology.workflow.name
        self._version = topology.workflow.version
        # Payloads are kept only for events of compensable steps (the compensation needs them).
        self._keep_payload = frozenset(
            event for step in topology.steps.values() if step.compensation is not None for event in step.emits
        )

    def observe(self, admitted: Admitted, store: StateStore, out: list[OutRecord]) -> None:
        """Feed one admitted event to its workflow's saga; write the commands' events."""
        observation = self._observation(admitted)
        if observation is None:
            return
        record = admitted.record
        if record.retired is not None:
            return  # a late event of a workflow finished and evicted: on its chain, not acted on
        saga = record.saga or self.machine.new(record.workflow_id)
        transition = self.machine.apply(saga, observation)
        store.put(self._emit(record, transition.state, transition.commands, admitted.envelope, out))

    def tick(self, store: StateStore, workflow_id: str, now: datetime, out: list[OutRecord]) -> bool:
        """Fire the deadlines of ``workflow_id`` due at ``now``; return whether anything happened."""
        record = store.get(workflow_id)
        if record is None or record.saga is None:
            return False
        due = record.saga.next_deadline()
        if due is None or due > now:
            return False
        transition = self.machine.apply(record.saga, DeadlineTick(time=now))
        store.put(self._emit(record, transition.state, transition.commands, None, out))
        return True

    # -- observations ---------------------------------------------------------------------------------------

    def _observation(self, admitted: Admitted) -> Observation | None:
        env, data = admitted.envelope, admitted.data
        if admitted.event_name is not None:
            keep = admitted.event_name in self._keep_payload
            return DomainEventObserved(
                event_id=env.id,
                event_type=admitted.event_name,
                time=env.time,
                step=env.step,
                payload_json=payload_json(data) if keep else "{}",
            )
        kind = env.type
        step = str(data.get("step", env.step or ""))
        if kind == StepFailed.event_type:
            return StepFailedObserved(
                event_id=env.id,
                time=env.time,
                step=step,
                code=str(data.get("code", "UNKNOWN")),
                reason=str(data.get("last_error", "")),
            )
        if kind == CompensationCompleted.event_type:
            return CompensationCompletedObserved(
                event_id=env.id,
                time=env.time,
                step=step,
                causation_id=env.causation_id,
            )
        if kind == CompensationFailed.event_type:
            return CompensationFailedObserved(
                event_id=env.id,
                time=env.time,
                step=step,
                causation_id=env.causation_id,
                code=str(data.get("code", "UNKNOWN")),
                reason=str(data.get("last_error", "")),
            )
        return None  # approvals are the policy gate's business

    # -- commands -------------------------------------------------------------------------------------------

    def _emit(
        self,
        record: WorkflowRecord,
        saga: WorkflowState,
        commands: tuple[Command, ...],
        cause: Envelope | None,
        out: list[OutRecord],
    ) -> WorkflowRecord:
        """Write the commands' events, link them into the chain; return the record with ``saga``."""
        head = record.chain
        for command in commands:
            made = self._event(command)
            if made is None:
                continue
            payload = made.payload
            envelope = trusted_envelope(
                event_id=made.event_id,
                source=ORCHESTRATOR_SOURCE,
                event_type=payload.event_type,
                time=made.time,
                tenant=record.tenant,
                workflow_id=record.workflow_id,
                causation_id=made.causation_id or (cause.id if cause is not None else None),
                step=made.step,
                traceparent=cause.traceparent if cause is not None else None,
                tracestate=cause.tracestate if cause is not None else None,
            )
            # Headers and value written directly (pinned equal to Envelope.to_headers / codec.encode).
            topic = self.topics.lifecycle
            value = self.codec.encode_body(topic, payload.schema_ref(), payload.to_avro())
            headers = headers_of(envelope)
            written = OutRecord(topic, record.partition, record.workflow_id.encode(), value, headers)
            out.append(written)
            head = self.gate.chain(head, written, envelope, _EMITTED_REASON, out)
        return evolve(record, saga=saga, chain_sequence=head.sequence, chain_hash=head.hash)

    def _event(self, command: Command) -> _Made | None:
        """The event a command stands for; ``None`` for timers and ignored-event records."""
        if isinstance(command, _SILENT):
            return None
        payload, step, causation = self._payload(command)
        return _Made(payload, command.event_id, command.time, step, causation)

    def _payload(
        self,
        command: StartWorkflow
        | CompleteWorkflow
        | ReportStepTimeout
        | RequestCompensation
        | CompensateWorkflow
        | FailWorkflow,
    ) -> tuple[EventModel, str | None, str | None]:
        # The values come from validated events and the saga's own state: built without validation.
        topology = self.machine.topology
        if isinstance(command, StartWorkflow):
            started = construct(
                WorkflowStarted,
                workflow=self._workflow,
                workflow_version=self._version,
                trigger_event_type=topology.schema_fullname(command.trigger_event_type),
                trigger_event_id=command.trigger_event_id,
            )
            return started, None, command.trigger_event_id
        if isinstance(command, CompleteWorkflow):
            completed = construct(
                WorkflowCompleted,
                workflow=self._workflow,
                workflow_version=self._version,
                steps_completed=command.steps_completed,
                duration_ms=command.duration_ms,
            )
            return completed, None, None
        if isinstance(command, ReportStepTimeout):
            failed = construct(
                StepFailed,
                step=command.step,
                agent=command.agent,
                code="TIMEOUT",
                attempts=0,  # the orchestrator cannot know how many attempts the agent made
                last_error=f"no output of step {command.step} by {command.deadline.isoformat()}",
                retryable=False,
            )
            return failed, command.step, command.trigger_event_id
        if isinstance(command, RequestCompensation):
            requested = construct(
                CompensationRequested,
                step=command.step,
                agent=command.agent,
                failed_step=command.failed_step,
                reason=command.reason,
                original_event_id=command.original_event_id,
                original_event_type=topology.schema_fullname(command.original_event_type),
                original_payload_json=command.original_payload_json,
            )
            return requested, command.step, command.original_event_id
        if isinstance(command, CompensateWorkflow):
            compensated = construct(
                WorkflowCompensated,
                workflow=self._workflow,
                workflow_version=self._version,
                failed_step=command.failed_step,
                reason=command.reason,
                compensated_steps=command.compensated_steps,
                irreversible_steps=command.irreversible_steps,
            )
            return compensated, None, None
        failed_wf = construct(
            WorkflowFailed,
            workflow=self._workflow,
            workflow_version=self._version,
            failed_step=command.failed_step,
            reason=command.reason,
            failed_compensation_step=command.failed_compensation_step,
            needs_human=command.needs_human,
        )
        return failed_wf, command.failed_compensation_step, None

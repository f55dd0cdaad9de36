"""The orchestrator's own events: saga commands written to the admitted lifecycle topic and chained.

Every command that stands for an event (WorkflowStarted, WorkflowCompleted, a timeout's StepFailed,
CompensationRequested, WorkflowCompensated, WorkflowFailed) becomes one record with its deterministic
``ce_id``, linked into the workflow's hash chain with an ``ALLOW`` decision of the gate. Timers and
ignored-event records are not events and write nothing.

WorkflowStarted and WorkflowCompleted (two per workflow) are written from per-topology templates
(:mod:`corps.orchestrator.lifecycle_forms`): value, headers and canonical event bytes without an
envelope or a payload model. The rarer events take the general path (a payload model, the codec,
:func:`~corps.orchestrator.chain.event_digest`). A unit test holds both to the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from corps.events import Envelope, EventCodec, EventModel
from corps.events.lifecycle import (
    CompensationRequested,
    StepFailed,
    WorkflowCompensated,
    WorkflowFailed,
)
from corps.orchestrator.chain import ChainHead
from corps.orchestrator.gate import Gate
from corps.orchestrator.ids import ORCHESTRATOR_SOURCE, trusted_envelope
from corps.orchestrator.lifecycle_forms import LifecycleForms
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
from corps.orchestrator.saga_state import construct
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.orchestrator.wire import headers_of
from corps.topology import Topology

__all__ = ["ORCHESTRATOR_SOURCE", "LifecycleWriter"]

_EMITTED_REASON = "emitted by the orchestrator"
_SILENT = (SetDeadline, ClearDeadline, RecordIgnored)
"""Commands that are not events (timers: the store schedules from the state; ignored-event records)."""

_Rare = ReportStepTimeout | RequestCompensation | CompensateWorkflow | FailWorkflow
"""Commands written through their payload model (WorkflowStarted/Completed come from templates)."""


class LifecycleWriter:
    """Writes the events saga commands stand for and links them into the workflows' chains.

    Args:
        topology: The topology served.
        gate: The gate (it links the orchestrator's own events into the chains).
        codec: Encodes lifecycle events (subjects ``<lifecycle topic>-<fullname>``).
        topics: The topology's topics.
    """

    def __init__(self, topology: Topology, gate: Gate, codec: EventCodec, topics: TopologyTopics) -> None:
        self.topology = topology
        self.gate = gate
        self.codec = codec
        self.topics = topics
        self._decisions = gate.decisions
        self._allowed = gate.allowed(_EMITTED_REASON)
        self.forms = LifecycleForms(topology, codec, topics.lifecycle)
        """Writes WorkflowStarted / WorkflowCompleted from templates (two per workflow)."""
        self._workflow = topology.workflow.name
        self._version = topology.workflow.version

    def emit(
        self,
        *,
        partition: int,
        workflow_id: str,
        tenant: str,
        commands: Sequence[Command],
        cause: Envelope | None,
        head: ChainHead,
        out: list[OutRecord],
    ) -> ChainHead:
        """Write the events of ``commands`` (in order) and chain them after ``head``; return the new head.

        ``cause`` is the admitted event the commands answer (``None`` for a deadline tick): it gives
        the events their default causation id and its trace context.
        """
        traceparent = tracestate = cause_id = None
        if cause is not None:
            traceparent, tracestate, cause_id = cause.traceparent, cause.tracestate, cause.id
        for command in commands:
            if isinstance(command, StartWorkflow):
                causation = command.trigger_event_id or cause_id
                own = self.forms.started(
                    command, partition, workflow_id, tenant, causation, traceparent, tracestate
                )
            elif isinstance(command, CompleteWorkflow):
                own = self.forms.completed(
                    command, partition, workflow_id, tenant, cause_id, traceparent, tracestate
                )
            else:
                if not isinstance(command, _SILENT):
                    head = self._general(command, partition, workflow_id, tenant, cause, head, out)
                continue
            out.append(own.record)
            sequence = head.sequence
            link = self._decisions.append_digest(
                sequence, head.hash, partition, own.digest, command.event_id, own.event_type, workflow_id,
                tenant, command.time, None, traceparent, tracestate, self._allowed, out,
            )  # fmt: skip
            head = ChainHead(sequence + 1, link)
        return head

    def _general(
        self,
        command: _Rare,
        partition: int,
        workflow_id: str,
        tenant: str,
        cause: Envelope | None,
        head: ChainHead,
        out: list[OutRecord],
    ) -> ChainHead:
        """Write one command's event through its payload model and envelope (the rare events)."""
        payload, step, causation = self._payload(command)
        envelope = trusted_envelope(
            event_id=command.event_id,
            source=ORCHESTRATOR_SOURCE,
            event_type=payload.event_type,
            time=command.time,
            tenant=tenant,
            workflow_id=workflow_id,
            causation_id=causation or (cause.id if cause is not None else None),
            step=step,
            traceparent=cause.traceparent if cause is not None else None,
            tracestate=cause.tracestate if cause is not None else None,
        )
        # Headers and value written directly (pinned equal to Envelope.to_headers / codec.encode).
        topic = self.topics.lifecycle
        value = self.codec.encode_body(topic, payload.schema_ref(), payload.to_avro())
        written = OutRecord(topic, partition, workflow_id.encode(), value, headers_of(envelope))
        out.append(written)
        return self.gate.chain(head, written, envelope, _EMITTED_REASON, out)

    def _payload(self, command: _Rare) -> tuple[EventModel, str | None, str | None]:
        """The event's payload, its ``ce_step`` and its causation id (``None``: the cause's)."""
        # The values come from validated events and the saga's own state: built without validation.
        topology = self.topology
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

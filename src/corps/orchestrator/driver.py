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
from typing import Any

from corps.events import Envelope, EventCodec
from corps.events.lifecycle import CompensationCompleted, CompensationFailed, StepFailed
from corps.orchestrator.gate import Admitted, Gate
from corps.orchestrator.lifecycle_writer import ORCHESTRATOR_SOURCE, LifecycleWriter
from corps.orchestrator.saga import SagaMachine
from corps.orchestrator.saga_commands import Command
from corps.orchestrator.saga_observations import (
    CompensationCompletedObserved,
    CompensationFailedObserved,
    DeadlineTick,
    DomainEventObserved,
    Observation,
    StepFailedObserved,
)
from corps.orchestrator.saga_state import WorkflowState, evolve
from corps.orchestrator.store import StateStore, WorkflowRecord
from corps.orchestrator.topics import OutRecord, TopologyTopics

__all__ = ["ORCHESTRATOR_SOURCE", "Driver", "payload_json"]


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


# ``json.dumps`` with these options would build an encoder per call.
_PAYLOAD_JSON = json.JSONEncoder(default=_json_default, sort_keys=True, separators=(",", ":")).encode


def payload_json(data: Mapping[str, Any]) -> str:
    """A decoded Avro payload as a JSON object (bytes base64, logical types as text), keys sorted."""
    return _PAYLOAD_JSON(data)


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
        self.writer = LifecycleWriter(machine.topology, gate, codec, topics)
        topology = machine.topology
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
        if commands:
            head = self.writer.emit(
                partition=record.partition,
                workflow_id=record.workflow_id,
                tenant=record.tenant,
                commands=commands,
                cause=cause,
                head=head,
                out=out,
            )
        return evolve(record, saga=saga, chain_sequence=head.sequence, chain_hash=head.hash)

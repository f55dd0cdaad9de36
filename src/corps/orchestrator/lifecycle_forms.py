"""WorkflowStarted and WorkflowCompleted, written from per-topology templates.

Every workflow gets one of each, and a topology fixes most of their bytes: the Confluent frame, the
workflow's name and version, the ``ce_source`` and ``ce_type`` headers and their fragments of the
canonical event. Only ids, times, causation, trace context and the few varying fields are written
per record — no :class:`~corps.events.Envelope`, payload model or codec call on the way, and the
canonical event bytes (:func:`~corps.orchestrator.chain.canonical_event`) of the record are written
alongside its headers instead of being read back from them.

A unit test holds every record and digest to the general path (payload model, ``EventCodec``,
``Envelope.to_headers``, ``event_digest``) on a seeded battery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from corps.events import EventCodec, EventModel
from corps.events.avro_writer import avro_long
from corps.events.headers import format_time
from corps.events.lifecycle import WorkflowCompleted, WorkflowStarted
from corps.orchestrator.decision_avro import string_bytes
from corps.orchestrator.ids import ORCHESTRATOR_SOURCE
from corps.orchestrator.saga_commands import CompleteWorkflow, StartWorkflow
from corps.orchestrator.topics import OutRecord
from corps.orchestrator.wire import CONTENT_TYPE_HEADER, SPECVERSION_HEADER, common_header
from corps.topology import Topology

__all__ = ["LifecycleForms", "OwnEvent"]

_text: Callable[[str], str] = json.encoder.encode_basestring
"""JSON string literal as ``json.dumps(..., ensure_ascii=False)`` writes it."""
_SOURCE = common_header("ce_source", ORCHESTRATOR_SOURCE)
_MIDDLE = f',"ce_source":{_text(ORCHESTRATOR_SOURCE)},"ce_specversion":"1.0","ce_tenant":'
"""Canonical headers between ``ce_id`` and the tenant (sorted: causation, id, source, specversion …)."""
_EMPTY_ARRAY = b"\x00"


class OwnEvent(NamedTuple):
    """One templated event: the record written and the digest of its canonical event bytes."""

    record: OutRecord
    digest: str
    """Hex SHA-256 of the record's canonical event bytes (its ``event_digest``)."""
    event_type: str


class _Kind(NamedTuple):
    """What the topology fixes in one event type: its value's leading bytes and its type's fragments."""

    prefix: bytes
    """Frame (magic byte, schema id), ``workflow`` and ``workflow_version``."""
    event_type: str
    type_header: tuple[str, bytes | None]
    after_time: str
    """Canonical event from the end of ``ce_time`` to the workflow id: ``,"ce_type":…,"ce_workflowid":``."""


class LifecycleForms:
    """Writes the WorkflowStarted and WorkflowCompleted records of one topology.

    Args:
        topology: The topology served (its workflow name and version, its events' fullnames).
        codec: Resolves (once per type, on first use) the schema ids on ``topic``.
        topic: The admitted lifecycle topic.
    """

    def __init__(self, topology: Topology, codec: EventCodec, topic: str) -> None:
        self.topology = topology
        self.codec = codec
        self.topic = topic
        workflow = topology.workflow
        self._workflow = string_bytes(workflow.name) + avro_long(workflow.version)
        self._topic_text = _text(topic)
        self._started: _Kind | None = None
        self._completed: _Kind | None = None
        self._triggers: dict[str, bytes] = {}
        self._steps: dict[tuple[str, ...], bytes] = {}

    def started(
        self,
        command: StartWorkflow,
        partition: int,
        workflow_id: str,
        tenant: str,
        causation_id: str | None,
        traceparent: str | None,
        tracestate: str | None,
    ) -> OwnEvent:
        """The WorkflowStarted record of ``command`` (attributes as ``trusted_envelope`` would set them)."""
        kind = self._started or self._kind(WorkflowStarted)
        trigger = self._triggers.get(command.trigger_event_type)
        if trigger is None:
            trigger = self._trigger(command.trigger_event_type)
        value = b"".join((kind.prefix, trigger, string_bytes(command.trigger_event_id)))
        return self._event(
            kind, value, command.event_id, command.time, partition, workflow_id, tenant, causation_id,
            traceparent, tracestate,
        )  # fmt: skip

    def completed(
        self,
        command: CompleteWorkflow,
        partition: int,
        workflow_id: str,
        tenant: str,
        causation_id: str | None,
        traceparent: str | None,
        tracestate: str | None,
    ) -> OwnEvent:
        """The WorkflowCompleted record of ``command``."""
        kind = self._completed or self._kind(WorkflowCompleted)
        steps = self._steps.get(command.steps_completed)
        if steps is None:
            steps = self._array(command.steps_completed)
        value = b"".join((kind.prefix, steps, avro_long(command.duration_ms)))
        return self._event(
            kind, value, command.event_id, command.time, partition, workflow_id, tenant, causation_id,
            traceparent, tracestate,
        )  # fmt: skip

    def _event(
        self,
        kind: _Kind,
        value: bytes,
        event_id: str,
        time: datetime,
        partition: int,
        workflow_id: str,
        tenant: str,
        causation_id: str | None,
        traceparent: str | None,
        tracestate: str | None,
    ) -> OwnEvent:
        # Headers as wire.envelope_headers writes them (step: none); the canonical event's headers
        # sorted by name: ce_causationid, ce_id, ce_source, ce_specversion, ce_tenant, ce_time,
        # ce_type, ce_workflowid, content-type (trace context is not part of it).
        key = workflow_id.encode()
        time_bytes = format_time(time)
        headers: list[tuple[str, bytes | None]] = [
            SPECVERSION_HEADER,
            ("ce_id", event_id.encode()),
            _SOURCE,
            kind.type_header,
            ("ce_time", time_bytes),
            CONTENT_TYPE_HEADER,
            common_header("ce_tenant", tenant),
            ("ce_workflowid", key),
        ]
        if causation_id is None:
            canonical = '{"headers":{"ce_id":'
        else:
            headers.append(("ce_causationid", causation_id.encode()))
            canonical = f'{{"headers":{{"ce_causationid":{_text(causation_id)},"ce_id":'
        if traceparent is not None:
            headers.append(("traceparent", traceparent.encode()))
        if tracestate is not None:
            headers.append(("tracestate", tracestate.encode()))
        workflow_text = _text(workflow_id)
        canonical = (
            f"{canonical}{_text(event_id)}{_MIDDLE}{_text(tenant)},"
            f'"ce_time":{_text(time_bytes.decode())}{kind.after_time}{workflow_text},'
            f'"content-type":"application/avro"}},"key":{workflow_text},"topic":{self._topic_text},'
            f'"value_sha256":"{hashlib.sha256(value).hexdigest()}"}}'
        )
        record = OutRecord(self.topic, partition, key, value, headers)
        return OwnEvent(record, hashlib.sha256(canonical.encode()).hexdigest(), kind.event_type)

    def _kind(self, model: type[EventModel]) -> _Kind:
        """The fixed parts of ``model``'s records (the schema id resolved through the codec, once)."""
        schema_id = self.codec.prepare(self.topic, model.schema_ref())
        kind = _Kind(
            b"\x00" + schema_id.to_bytes(4, "big") + self._workflow,
            model.event_type,
            common_header("ce_type", model.event_type),
            f',"ce_type":{_text(model.event_type)},"ce_workflowid":',
        )
        if model is WorkflowStarted:
            self._started = kind
        else:
            self._completed = kind
        return kind

    def _trigger(self, event: str) -> bytes:
        """``trigger_event_type`` (the schema fullname of a topology event), written once per event."""
        if len(self._triggers) >= 1024:
            self._triggers.clear()
        made = self._triggers[event] = string_bytes(self.topology.schema_fullname(event))
        return made

    def _array(self, steps: tuple[str, ...]) -> bytes:
        """An Avro ``array<string>`` in one block (as fastavro and the compiled writer write it)."""
        made = (
            b"".join((avro_long(len(steps)), *map(string_bytes, steps), _EMPTY_ARRAY))
            if steps
            else _EMPTY_ARRAY
        )
        if len(self._steps) >= 1024:
            self._steps.clear()
        self._steps[steps] = made
        return made

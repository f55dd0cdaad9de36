"""The orchestrator's templated lifecycle records equal the documented slow form, byte for byte.

WorkflowStarted and WorkflowCompleted are written from per-topology templates (``LifecycleForms``)
and linked with a digest computed alongside their headers. Here every record and link of
``LifecycleWriter.emit`` is compared, on a seeded battery, with what the validated payload model,
``EventCodec.encode`` (``Envelope.to_headers``), the chain module's documented canonical JSON and
link hash, and a codec-encoded ``PolicyDecision`` make of the same command.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from gate_helpers import FOUR, models_for, offline_codec, topology_of
from test_chain_fast import documented_event, documented_link

from corps.events import Envelope, EventCodec, EventModel
from corps.events.lifecycle import (
    PolicyDecision,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowStarted,
)
from corps.orchestrator.chain import ChainHead, Link, version_header
from corps.orchestrator.gate import Gate
from corps.orchestrator.ids import _IDS
from corps.orchestrator.lifecycle_writer import LifecycleWriter
from corps.orchestrator.saga_commands import (
    ClearDeadline,
    Command,
    CompensateWorkflow,
    CompleteWorkflow,
    SetDeadline,
    StartWorkflow,
)
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.topology import Topology

REASON = "emitted by the orchestrator"
TEXTS = ["plain", "café ☕", 'q " \\ b', "ctl \x01\x1f\n", "🙂 \u2028", "%s {} %%", "x" * 200]
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _setup(version: int) -> tuple[Topology, EventCodec, TopologyTopics, LifecycleWriter]:
    # a workflow version written in 1 to 3 varint bytes
    topology = topology_of(FOUR.replace("{name: four, version: 3}", f"{{name: four, version: {version}}}"))
    codec = offline_codec(topology, models_for(topology))
    topics = TopologyTopics.of(topology)
    gate = Gate(topology, codec, topics)
    return topology, codec, topics, LifecycleWriter(topology, gate, codec, topics)


def _slow_event(
    topology: Topology,
    codec: EventCodec,
    topics: TopologyTopics,
    command: Command,
    partition: int,
    workflow_id: str,
    tenant: str,
    cause: Envelope | None,
    head: ChainHead,
) -> tuple[list[OutRecord], ChainHead]:
    """The records of one command as the documented, validated pieces make them."""
    payload: EventModel
    name, version = topology.workflow.name, topology.workflow.version
    if isinstance(command, StartWorkflow):
        payload = WorkflowStarted(
            workflow=name,
            workflow_version=version,
            trigger_event_type=topology.schema_fullname(command.trigger_event_type),
            trigger_event_id=command.trigger_event_id,
        )
        causation = command.trigger_event_id or (cause.id if cause else None)
    elif isinstance(command, CompleteWorkflow):
        payload = WorkflowCompleted(
            workflow=name,
            workflow_version=version,
            steps_completed=command.steps_completed,
            duration_ms=command.duration_ms,
        )
        causation = cause.id if cause else None
    elif isinstance(command, CompensateWorkflow):
        payload = WorkflowCompensated(
            workflow=name,
            workflow_version=version,
            failed_step=command.failed_step,
            reason=command.reason,
            compensated_steps=command.compensated_steps,
            irreversible_steps=command.irreversible_steps,
        )
        causation = cause.id if cause else None
    else:
        return [], head
    envelope = Envelope(
        id=command.event_id,
        source="corps/orchestrator",
        type=payload.event_type,
        time=command.time,
        tenant=tenant,
        workflow_id=workflow_id,
        causation_id=causation,
        traceparent=cause.traceparent if cause else None,
        tracestate=cause.tracestate if cause else None,
    )
    encoded = codec.encode(topics.lifecycle, payload, envelope)
    event = OutRecord(topics.lifecycle, partition, encoded.key, encoded.value, list(encoded.headers))
    canonical = documented_event(event.topic, event.key, event.headers, event.value)
    digest = hashlib.sha256(canonical).hexdigest()
    link = Link(envelope.id, envelope.type, "ALLOW", REASON)
    link_hash = documented_link(head.hash, head.sequence, link, digest)
    decision = PolicyDecision(
        decided_event_id=envelope.id,
        decided_event_type=envelope.type,
        effect="ALLOW",
        reason=REASON,
        sequence=head.sequence,
        prev_hash=head.hash,
        hash=link_hash,
    )
    decision_envelope = Envelope(
        id=str(uuid.uuid5(_IDS, f"{workflow_id}/{head.sequence}")),
        source="corps/gate",
        type=PolicyDecision.event_type,
        time=command.time,
        tenant=tenant,
        workflow_id=workflow_id,
        causation_id=envelope.id,
        traceparent=envelope.traceparent,
        tracestate=envelope.tracestate,
    )
    written = codec.encode(topics.decisions, decision, decision_envelope)
    record = OutRecord(
        topics.decisions, partition, written.key, written.value, [*written.headers, version_header()]
    )
    return [event, record], ChainHead(head.sequence + 1, link_hash)


def _time(rng: random.Random) -> datetime:
    moment = T0 + timedelta(seconds=rng.randint(0, 10**8), microseconds=rng.choice([0, 1, 999_999]))
    if rng.random() < 0.2:  # another zone, the same instant: written in UTC with Z
        return moment.astimezone(timezone(timedelta(hours=2)))
    return moment


def _cause(rng: random.Random, workflow_id: str, tenant: str) -> Envelope | None:
    if rng.random() < 0.2:
        return None  # a deadline tick
    traceparent = rng.choice([None, TRACE])
    return Envelope.new(
        "test.four.A",
        tenant=tenant,
        workflow_id=workflow_id,
        event_id=rng.choice(TEXTS) + str(rng.random()),
        traceparent=traceparent,
        tracestate=rng.choice([None, "k=v", "é"]) if traceparent else None,
        time=T0,
    )


def _commands(rng: random.Random, topology: Topology) -> list[Command]:
    commands: list[Command] = []
    for n in range(rng.randint(1, 4)):
        pick = rng.random()
        event_id = rng.choice(TEXTS) + f"-{n}"
        if pick < 0.35:
            commands.append(
                StartWorkflow(
                    event_id=event_id,
                    trigger_event_type=rng.choice(sorted(topology.events)),
                    trigger_event_id=rng.choice(["", *TEXTS]),  # "": the cause's id is the causation
                    time=_time(rng),
                )
            )
        elif pick < 0.7:
            steps = tuple(rng.sample(TEXTS, rng.randint(0, 4)))
            duration = rng.choice([0, 1, 63, 64, 8191, 8192, 2**40, -5])
            commands.append(
                CompleteWorkflow(
                    event_id=event_id, steps_completed=steps, duration_ms=duration, time=_time(rng)
                )
            )
        elif pick < 0.8:
            commands.append(
                CompensateWorkflow(
                    event_id=event_id,
                    failed_step="s2",
                    reason=rng.choice(TEXTS),
                    compensated_steps=("s1",),
                    irreversible_steps=(),
                    time=_time(rng),
                )
            )
        else:
            timers: list[Command] = [SetDeadline(key="k", at=T0), ClearDeadline(key="k")]
            commands.append(rng.choice(timers))
    return commands


@pytest.mark.parametrize("version", [3, 64, 70_000])
def test_emit_equals_the_documented_records_on_a_random_battery(version: int) -> None:
    topology, codec, topics, writer = _setup(version)
    rng = random.Random(version)
    heads: dict[str, ChainHead] = {}
    for case in range(400):
        workflow_id = rng.choice(["wf-1", "wf-ü", 'wf"q', "w" * 300])
        tenant = rng.choice(["acme", "tënant ☕"])
        partition = rng.randrange(3)
        cause = _cause(rng, workflow_id, tenant)
        commands = _commands(rng, topology)
        head = heads.get(workflow_id, ChainHead())
        out: list[OutRecord] = []
        new_head = writer.emit(
            partition=partition,
            workflow_id=workflow_id,
            tenant=tenant,
            commands=commands,
            cause=cause,
            head=head,
            out=out,
        )
        expected: list[OutRecord] = []
        expected_head = head
        for command in commands:
            records, expected_head = _slow_event(
                topology, codec, topics, command, partition, workflow_id, tenant, cause, expected_head
            )
            expected += records
        assert out == expected, (case, commands)
        assert new_head == expected_head
        heads[workflow_id] = new_head


def test_the_templates_take_the_schema_ids_the_codec_resolves_on_the_lifecycle_topic() -> None:
    _, codec, topics, writer = _setup(3)
    out: list[OutRecord] = []
    start = StartWorkflow(event_id="e", trigger_event_type="A", trigger_event_id="t", time=T0)
    writer.emit(
        partition=0, workflow_id="w", tenant="t", commands=[start], cause=None, head=ChainHead(), out=out
    )
    schema_id = codec.prepare(topics.lifecycle, WorkflowStarted.schema_ref())
    assert out[0].value is not None
    assert out[0].value[:5] == b"\x00" + schema_id.to_bytes(4, "big")
    assert [record.topic for record in out] == [topics.lifecycle, topics.decisions]

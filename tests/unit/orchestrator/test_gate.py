"""The gate: admits what decodes, byte for byte; chains a decision for every event; dead-letters poison."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gate_helpers import Proposer, as_raw, at, models_for, offline_codec, topology_of

from corps.events import EventCodec, EventModel, RawRecord
from corps.events.lifecycle import PolicyDecision, PolicyRef, StepFailed, WorkflowStarted
from corps.orchestrator.chain import ChainHead, Link, event_digest
from corps.orchestrator.gate import decision_id
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.policy import Decision, GateContext, ProposedEvent
from corps.orchestrator.saga_state import evolve
from corps.orchestrator.store import WorkflowRecord
from corps.orchestrator.topics import OutRecord
from corps.runtime.dlq import DeadLetter
from corps.topology import Topology


@pytest.fixture
def topology() -> Topology:
    return topology_of()


@pytest.fixture
def models(topology: Topology) -> dict[str, type[EventModel]]:
    return models_for(topology)


@pytest.fixture
def codec(topology: Topology, models: dict[str, type[EventModel]]) -> EventCodec:
    return offline_codec(topology, models)


@pytest.fixture
def proposer(topology: Topology, codec: EventCodec, models: dict[str, type[EventModel]]) -> Proposer:
    return Proposer(topology, codec, models)


def gate_only(topology: Topology, codec: EventCodec, **kwargs: object) -> Pipeline:
    return Pipeline(topology, codec, orchestrate=False, **kwargs)  # type: ignore[arg-type]


def on(outputs: list[OutRecord], topic: str) -> list[OutRecord]:
    return [o for o in outputs if o.topic == topic]


def decisions(codec: EventCodec, outputs: list[OutRecord], topic: str) -> list[PolicyDecision]:
    return [codec.decode(as_raw(o), PolicyDecision).payload for o in on(outputs, topic)]


def test_an_event_is_admitted_byte_for_byte_on_the_same_partition_with_a_first_link(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    raw = proposer.domain("A", "wf-1", 0, partition=2, n="x")
    pipeline.handle(raw, at(0))
    topics = pipeline.topics
    [admitted] = on(pipeline.outputs, "four.A")
    assert (admitted.partition, admitted.key, admitted.value, admitted.headers) == (
        2,
        raw.key,
        raw.value,
        list(raw.headers),
    )
    [decision_record] = on(pipeline.outputs, topics.decisions)
    assert decision_record.partition == 2
    decision = codec.decode(as_raw(decision_record), PolicyDecision)
    envelope = codec.envelope(raw)
    assert decision.payload.decided_event_id == envelope.id
    assert decision.payload.decided_event_type == "test.four.A"
    assert (decision.payload.effect, decision.payload.sequence, decision.payload.prev_hash) == (
        "ALLOW",
        0,
        "",
    )
    digest = event_digest("four.A", admitted.key, admitted.headers, admitted.value)
    link = Link(envelope.id, "test.four.A", "ALLOW", decision.payload.reason)
    assert decision.payload.hash == ChainHead().extend(link, digest)[1]
    assert decision.envelope.id == decision_id("wf-1", 0)
    assert decision.envelope.causation_id == envelope.id
    assert decision.envelope.time == envelope.time
    assert codec.registry_calls == 0


def test_links_of_one_workflow_form_a_chain_and_workflows_have_their_own(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    for seconds, (name, wf) in enumerate([("A", "wf-1"), ("A", "wf-2"), ("B", "wf-1"), ("C", "wf-1")]):
        pipeline.handle(proposer.domain(name, wf, seconds), at(seconds))
    by_wf: dict[str, list[PolicyDecision]] = {}
    for record in on(pipeline.outputs, pipeline.topics.decisions):
        event = codec.decode(as_raw(record), PolicyDecision)
        by_wf.setdefault(event.envelope.workflow_id, []).append(event.payload)
    one, two = by_wf["wf-1"], by_wf["wf-2"]
    assert [d.sequence for d in one] == [0, 1, 2]
    assert [d.prev_hash for d in one] == ["", one[0].hash, one[1].hash]
    assert [(d.sequence, d.prev_hash) for d in two] == [(0, "")]
    assert two[0].hash != one[0].hash


def test_a_re_proposed_event_is_denied_not_admitted_twice(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    raw = proposer.domain("A", "wf-1", 0, event_id="same-id")
    pipeline.handle(raw, at(0))
    pipeline.commit()
    pipeline.handle(proposer.domain("A", "wf-1", 1, event_id="same-id"), at(1))
    assert on(pipeline.outputs, "four.A") == []
    [denied] = decisions(codec, pipeline.outputs, pipeline.topics.decisions)
    assert denied.effect == "DENY"
    assert denied.sequence == 1
    assert "duplicate" in denied.reason


def _with_value(raw: RawRecord, value: bytes) -> RawRecord:
    return RawRecord(raw.topic, raw.partition, raw.offset, raw.key, value, raw.headers)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda raw: _with_value(raw, b"\x01junk"), "unknown-magic-byte"),
        (lambda raw: _with_value(raw, raw.value[:-1]), "truncated-body"),
        (lambda raw: _with_value(raw, raw.value + b"\x00\x01"), "malformed-body"),
    ],
)
def test_a_body_that_does_not_decode_is_dead_lettered_and_denied_in_the_chain(
    topology: Topology,
    codec: EventCodec,
    proposer: Proposer,
    mangle: Callable[[RawRecord], RawRecord],
    reason: str,
) -> None:
    pipeline = gate_only(topology, codec)
    raw = mangle(proposer.domain("A", "wf-1", 0, n="hello"))
    pipeline.handle(raw, at(0))
    assert on(pipeline.outputs, "four.A") == []
    [dead] = on(pipeline.outputs, pipeline.topics.dead_letters)
    letter = DeadLetter.from_record(
        topic=dead.topic,
        partition=dead.partition,
        offset=0,
        key=dead.key,
        value=dead.value,
        headers=dead.headers,
    )
    assert letter.reason == reason
    assert (letter.topic, letter.partition, letter.offset) == (raw.topic, raw.partition, raw.offset)
    assert letter.value == raw.value
    assert letter.original_headers == list(raw.headers)
    [denied] = decisions(codec, pipeline.outputs, pipeline.topics.decisions)
    assert denied.effect == "DENY"
    assert denied.reason.startswith(reason)


def test_a_record_without_an_envelope_is_only_dead_lettered(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    raw = proposer.domain("A", "wf-1", 0)
    headerless = RawRecord(raw.topic, raw.partition, raw.offset, raw.key, raw.value, [("x", b"y")])
    pipeline.handle(headerless, at(0))
    [dead] = pipeline.outputs
    assert dead.topic == pipeline.topics.dead_letters
    assert dict(dead.headers)["corps_dlq_reason"] == b"bad-envelope"
    assert pipeline.store.dirty() == []


def test_an_event_on_the_wrong_topic_or_a_reserved_lifecycle_type_is_refused(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    raw = proposer.domain("A", "wf-1", 0)
    elsewhere = RawRecord("four.B.proposed", raw.partition, raw.offset, raw.key, raw.value, raw.headers)
    started = WorkflowStarted(
        workflow="four", workflow_version=1, trigger_event_type="x", trigger_event_id="y"
    )
    pipeline.handle(elsewhere, at(0))
    pipeline.handle(proposer.report(started, "wf-1", 1), at(1))
    assert on(pipeline.outputs, "four.B") == []
    assert on(pipeline.outputs, pipeline.topics.lifecycle) == []
    reasons = [
        dict(o.headers)["corps_dlq_reason"] for o in on(pipeline.outputs, pipeline.topics.dead_letters)
    ]
    assert reasons == [b"unexpected-event-type", b"unexpected-event-type"]
    found = decisions(codec, pipeline.outputs, pipeline.topics.decisions)
    assert [(d.effect, d.sequence) for d in found] == [("DENY", 0), ("DENY", 1)]


def test_agent_reports_are_admitted_to_the_lifecycle_topic(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    failed = StepFailed(
        step="s1", agent="a1", code="NON_RETRYABLE", attempts=1, last_error="x", retryable=False
    )
    raw = proposer.report(failed, "wf-1", 0)
    pipeline.handle(raw, at(0))
    [admitted] = on(pipeline.outputs, pipeline.topics.lifecycle)
    assert admitted.value == raw.value


class DenyB:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def decide(self, event: ProposedEvent, context: GateContext) -> Decision:
        self.seen.append((event.envelope.id, context.sequence))
        if event.event_name == "B":
            return Decision.deny("no B today", (PolicyRef(policy_id="no-b", policy_version="3"),))
        return Decision.allow("fine")


def test_the_policy_seam_decides_and_a_denied_event_never_reaches_the_admitted_topic(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    policy = DenyB()
    pipeline = gate_only(topology, codec, policy=policy)
    pipeline.handle(proposer.domain("A", "wf-1", 0, event_id="a"), at(0))
    pipeline.handle(proposer.domain("B", "wf-1", 1, event_id="b"), at(1))
    assert policy.seen == [("a", 0), ("b", 1)]
    assert on(pipeline.outputs, "four.B") == []
    allowed, denied = decisions(codec, pipeline.outputs, pipeline.topics.decisions)
    assert (allowed.effect, allowed.reason) == ("ALLOW", "fine")
    assert (denied.effect, denied.reason, denied.policies) == (
        "DENY",
        "no B today",
        (PolicyRef(policy_id="no-b", policy_version="3"),),
    )
    raw_b = proposer.domain("B", "wf-1", 1, event_id="b")
    link = Link("b", "test.four.B", "DENY", "no B today", denied.policies)
    digest = event_digest(raw_b.topic, raw_b.key, raw_b.headers, raw_b.value)
    assert denied.hash == ChainHead(1, allowed.hash).extend(link, digest)[1]


def test_rollback_forgets_the_batch(topology: Topology, codec: EventCodec, proposer: Proposer) -> None:
    pipeline = gate_only(topology, codec)
    pipeline.handle(proposer.domain("A", "wf-1", 0, event_id="a"), at(0))
    pipeline.rollback()
    assert pipeline.outputs == []
    assert pipeline.store.get("wf-1") is None
    pipeline.handle(proposer.domain("A", "wf-1", 0, event_id="a"), at(0))
    [decision] = decisions(codec, pipeline.outputs, pipeline.topics.decisions)
    assert (decision.effect, decision.sequence) == ("ALLOW", 0)


def test_a_new_workflows_record_is_the_validated_record_and_changelog(
    topology: Topology, codec: EventCodec, proposer: Proposer
) -> None:
    pipeline = gate_only(topology, codec)
    raw = proposer.domain("A", "wf-ü", 0, partition=1, n="x")
    pipeline.handle(raw, at(0))
    [decision_record] = on(pipeline.outputs, pipeline.topics.decisions)
    link = codec.decode(as_raw(decision_record), PolicyDecision).payload.hash
    envelope = codec.envelope(raw)
    new = WorkflowRecord(workflow_id="wf-ü", tenant=envelope.tenant, partition=1)  # validated
    expected = evolve(new, chain_sequence=1, chain_hash=link, admitted=(envelope.id,))
    record = pipeline.store.get("wf-ü")
    assert record == expected
    assert record is not None
    assert record.model_fields_set == expected.model_fields_set
    assert record.to_changelog() == expected.to_changelog()
    assert WorkflowRecord.model_validate_json(record.to_changelog()) == expected

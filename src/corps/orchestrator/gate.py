"""The gate: the only writer of admitted topics. One proposed record in, its records out (no I/O).

For each record read from a proposed topic the gate

1. decodes it (CloudEvents envelope, key = workflow id, Confluent-framed Avro with the writer's
   schema) and checks its type belongs on that topic;
2. refuses a re-proposed event it already admitted (same ``ce_id`` in the same workflow);
3. counts approval votes (ApprovalGranted / ApprovalDenied) and asks the
   :class:`~corps.orchestrator.policy.Policy` about everything else (allow by default; the policy
   engine through :class:`~corps.orchestrator.policy_gate.EnginePolicy`);
4. writes the admitted record (value and headers byte for byte — or the redacted value — same
   partition index), parks an event that needs approvals (:mod:`corps.orchestrator.approvals_stage`),
   and, for every event with a valid envelope, a :class:`~corps.events.lifecycle.PolicyDecision`
   linking it into the workflow's hash chain (:mod:`corps.orchestrator.chain`).

A record without a valid envelope, one that does not decode or one of a type that does not belong on
its topic goes to the dead-letter topic with the reason in ``corps_dlq_*`` headers; when its envelope
was readable it also gets a ``DENY`` link, so the refusal is on the log. Nothing here raises on bad
input; only a registry outage propagates (retriable: not the record's fault).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from corps.events import Envelope, EventCodec, RawRecord
from corps.events.errors import RecordError, RegistryError, RegistryUnavailableError
from corps.events.lifecycle import (
    ApprovalDenied,
    ApprovalGranted,
    CompensationCompleted,
    CompensationFailed,
    StepFailed,
)
from corps.orchestrator.approvals_stage import VOTE_TYPES, expire_parked, park, release, take_vote
from corps.orchestrator.chain import ChainHead
from corps.orchestrator.ids import DECISION_SOURCE, decision_id, trusted_envelope, uuid5_text
from corps.orchestrator.policy import AllowAll, Decision, GateContext, Policy, ProposedEvent
from corps.orchestrator.saga_state import construct, evolve
from corps.orchestrator.store import StateStore, WorkflowRecord
from corps.orchestrator.topics import OutRecord, TopologyTopics
from corps.orchestrator.wire import DecisionWriter
from corps.runtime.dlq import dead_letter_headers
from corps.topology import Topology

__all__ = [
    "AGENT_REPORTS",
    "DECISION_SOURCE",
    "Admitted",
    "Gate",
    "decision_id",
    "trusted_envelope",
    "uuid5_text",
]

AGENT_REPORTS = frozenset(
    m.event_type
    for m in (StepFailed, CompensationCompleted, CompensationFailed, ApprovalGranted, ApprovalDenied)
)
"""Lifecycle types agents and approvers may propose; the others are the orchestrator's own."""

_GATE = "gate"
_EVENT_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:gate:event")


def _record_time(raw: RawRecord, envelope: Envelope) -> datetime:
    """The proposed record's timestamp (else its ``ce_time``): the time votes and approvals are taken at."""
    if raw.timestamp_ms is None:
        return envelope.time
    return datetime.fromtimestamp(raw.timestamp_ms / 1000, UTC)


class Admitted(NamedTuple):
    """An event the gate admitted, as the orchestrator stage sees it (one per record: a named tuple)."""

    envelope: Envelope
    data: Mapping[str, Any]
    event_name: str | None
    record: WorkflowRecord


class Gate:
    """Decides about proposed records of one topology.

    Args:
        topology: The topology served.
        codec: Decodes proposed records and encodes decision records (schemas cached per id).
        topics: The topology's topics.
        policy: Decides about every decodable event (:class:`AllowAll` by default).
    """

    def __init__(
        self, topology: Topology, codec: EventCodec, topics: TopologyTopics, policy: Policy | None = None
    ) -> None:
        self.topology = topology
        self.codec = codec
        self.topics = topics
        self.policy: Policy = policy or AllowAll()
        self.ids = _EVENT_IDS
        """Namespace of the ids of lifecycle events the gate writes itself (approval requests ...)."""
        self._types = {event: topology.schema_fullname(event) for event in topology.events}
        self.decisions = DecisionWriter(codec, topics.decisions)
        """Writes the decision records (one hash-chain link each)."""
        self._allowed: dict[str, Decision] = {}

    def admit(
        self, raw: RawRecord, store: StateStore, now: datetime, out: list[OutRecord]
    ) -> Admitted | None:
        """Decide about one proposed record; append the records to write to ``out``.

        Returns:
            The admitted event (for the orchestrator), or ``None`` when nothing was admitted.

        Raises:
            RegistryUnavailableError: A writer schema could not be fetched (retry the batch later).
        """
        if raw.topic not in self.topics.proposed:
            self._dead_letter(raw, "unexpected-topic", f"{raw.describe()}: not a proposed topic", now, out)
            return None
        event_name = self.topics.proposed[raw.topic]
        try:
            envelope, data = self.codec.decode_datum(raw)
        except RecordError as exc:
            self._refuse(raw, exc.reason, str(exc), now, out, store)
            return None
        except RegistryUnavailableError:
            raise
        except RegistryError as exc:
            self._refuse(raw, "registry-error", f"{raw.describe()}: {exc}", now, out, store)
            return None
        misplaced = self._misplaced(envelope, event_name)
        if misplaced:
            self._refuse(
                raw, "unexpected-event-type", f"{raw.describe()}: {misplaced}", now, out, store, envelope
            )
            return None
        record = store.get(envelope.workflow_id) or construct(  # validated values: no re-validation
            WorkflowRecord, workflow_id=envelope.workflow_id, tenant=envelope.tenant, partition=raw.partition
        )
        if envelope.id in record.admitted:
            why = f"duplicate: event {envelope.id} was admitted before"
            self._deny(record, raw, envelope, Decision.deny(why), store, out)
            return None
        if envelope.type in VOTE_TYPES:
            return self._vote(raw, envelope, data, record, store, out)
        admitted_topic = self.topics.admitted[event_name] if event_name else self.topics.lifecycle
        policy = self.policy
        if type(policy) is AllowAll:  # nothing to ask: skip building the question
            decision = policy.decision
        else:
            proposed = ProposedEvent(envelope, data, event_name, raw, admitted_topic)
            decision = policy.decide(proposed, GateContext(self.topology, record.chain_sequence, now))
        if decision.effect == "REQUIRE_APPROVAL":
            at = decision.evaluated_at or _record_time(raw, envelope)
            store.put(park(self, raw, envelope, event_name, admitted_topic, decision, record, at, out))
            return None
        if decision.effect == "DENY":
            self._deny(record, raw, envelope, decision, store, out)
            return None
        value = decision.value if decision.effect == "REDACT" and decision.value is not None else raw.value
        admitted = OutRecord(admitted_topic, raw.partition, raw.key, value, list(raw.headers))
        out.append(admitted)
        sequence = record.chain_sequence
        link = self.decisions.append(
            sequence, record.chain_hash, record.partition, admitted_topic, admitted, envelope, decision, out
        )
        record = evolve(
            record, chain_sequence=sequence + 1, chain_hash=link, admitted=(*record.admitted, envelope.id)
        )
        store.put(record)
        return Admitted(envelope, data, event_name, record)

    def expire(self, store: StateStore, workflow_id: str, now: datetime, out: list[OutRecord]) -> None:
        """Apply the approval timeouts of ``workflow_id`` due at ``now``."""
        record = store.get(workflow_id)
        if record is not None and record.parked:
            store.put(expire_parked(self, record, now, out))

    def link(
        self,
        record: WorkflowRecord,
        topic: str,
        written: OutRecord | RawRecord,
        envelope: Envelope,
        decision: Decision,
        out: list[OutRecord],
    ) -> ChainHead:
        """Link a decision about ``written`` (as written to ``topic``) into ``record``'s chain."""
        return self.decisions.write(record.chain, record.partition, topic, written, envelope, decision, out)

    def _vote(
        self,
        raw: RawRecord,
        envelope: Envelope,
        data: Mapping[str, Any],
        record: WorkflowRecord,
        store: StateStore,
        out: list[OutRecord],
    ) -> Admitted | None:
        """Count an approval vote; admit the parked event it approves, once."""
        record, approved = take_vote(self, raw, envelope, data, record, _record_time(raw, envelope), out)
        if approved is None:
            store.put(record)
            return None
        record, parked_envelope, parked_data = release(self, approved, record, out)
        store.put(record)
        return Admitted(parked_envelope, parked_data, approved.event_name, record)

    def chain(
        self, head: ChainHead, written: OutRecord, envelope: Envelope, reason: str, out: list[OutRecord]
    ) -> ChainHead:
        """Link an event the orchestrator writes itself into a chain ending at ``head`` (``ALLOW``).

        Returns:
            The new end of the chain.
        """
        decision = self.allowed(reason)
        return self.decisions.write(head, written.partition, written.topic, written, envelope, decision, out)

    def allowed(self, reason: str) -> Decision:
        """The ``ALLOW`` decision of the orchestrator's own events (one object per reason, reused).

        The decision writer makes its templates once per decision object.
        """
        decision = self._allowed.get(reason)
        if decision is None:
            if len(self._allowed) >= 256:
                self._allowed.clear()
            decision = self._allowed[reason] = Decision.allow(reason)
        return decision

    # -- internals ----------------------------------------------------------------------------------------

    def _misplaced(self, envelope: Envelope, event_name: str | None) -> str:
        if event_name is not None:
            expected = self._types[event_name]
            if envelope.type != expected:
                return f"ce_type {envelope.type} does not belong on the topic of {expected}"
            return ""
        if envelope.type not in AGENT_REPORTS:
            return f"ce_type {envelope.type} may not be proposed on the lifecycle topic"
        return ""

    def _deny(
        self,
        record: WorkflowRecord,
        raw: RawRecord,
        envelope: Envelope,
        decision: Decision,
        store: StateStore,
        out: list[OutRecord],
    ) -> None:
        """Chain a refusal of ``raw`` (as read from its proposed topic) into ``record``'s chain."""
        head = self.decisions.write(record.chain, record.partition, raw.topic, raw, envelope, decision, out)
        store.put(record.with_chain(head))

    def _refuse(
        self,
        raw: RawRecord,
        reason: str,
        detail: str,
        now: datetime,
        out: list[OutRecord],
        store: StateStore,
        envelope: Envelope | None = None,
    ) -> None:
        """Dead-letter ``raw``; when its envelope is readable, also chain a ``DENY`` link."""
        self._dead_letter(raw, reason, detail, now, out)
        if envelope is None:
            try:
                envelope = self.codec.envelope(raw)
            except RecordError:
                return
        record = store.get(envelope.workflow_id) or WorkflowRecord(
            workflow_id=envelope.workflow_id, tenant=envelope.tenant, partition=raw.partition
        )
        self._deny(record, raw, envelope, Decision.deny(f"{reason}: {detail}"), store, out)

    def _dead_letter(
        self, raw: RawRecord, reason: str, detail: str, now: datetime, out: list[OutRecord]
    ) -> None:
        headers = dead_letter_headers(
            raw.headers,
            reason=reason,
            detail=detail,
            agent=_GATE,
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            time_ms=int(now.timestamp() * 1000),
        )
        out.append(OutRecord(self.topics.dead_letters, raw.partition, raw.key, raw.value, headers))

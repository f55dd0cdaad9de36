"""Human approvals in the gate: park, count votes, admit once, time out — all of it on the log.

* A ``REQUIRE_APPROVAL`` decision parks the event in its workflow's record (kept in the changelog)
  and emits one :class:`~corps.events.lifecycle.ApprovalRequested` per requirement to the admitted
  lifecycle topic.
* ApprovalGranted / ApprovalDenied proposed on the lifecycle topic (``corps approve | reject``, the
  SDK) are votes. A vote names its request by ``request_id``, or — when that is empty or unknown — by
  its ``step``. Only the approvers the policy names count: any other vote, a changed vote, a repeat or
  a vote for a closed request is *denied* in the decision log with the reason (the refusal is
  recorded, never admitted). A counted vote is admitted.
* When every request of a parked event is approved the event is admitted — once: it leaves the
  record in the same transaction. A denial (or a timeout with ``on_timeout: reject``) drops it with a
  ``DENY`` link; the timeout emits ApprovalDenied by ``corps:timeout``. ``escalate`` widens the
  approvers once and emits a new ApprovalRequested.
* A dropped event's step has failed for good, so the gate also *proposes* a ``StepFailed`` (code
  ``POLICY``) for it on the proposed lifecycle topic, in the same transaction: it comes back through
  the gate like any agent's report (policy-checked, admitted, chained, recorded) and the orchestrator
  starts compensating at once instead of at the step's deadline. Its ``ce_id`` is derived from the
  parked event's, so it is admitted once whatever happens to the batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from corps.events import Envelope, EventModel, RawRecord
from corps.events.lifecycle import ApprovalDenied, ApprovalGranted, PolicyRef, StepFailed
from corps.orchestrator.parked import ParkedEvent
from corps.orchestrator.policy import Decision
from corps.orchestrator.saga_state import evolve
from corps.orchestrator.store import WorkflowRecord
from corps.orchestrator.topics import OutRecord
from corps.policy.approvals import (
    TIMEOUT_APPROVER,
    ApprovalState,
    Status,
    Verdict,
    Vote,
    cast,
    expire,
    open_request,
    requested_event,
)

if TYPE_CHECKING:
    from corps.orchestrator.gate import Gate

__all__ = ["REJECTED_CODE", "VOTE_TYPES", "expire_parked", "park", "release", "take_vote"]

VOTE_TYPES = frozenset({ApprovalGranted.event_type, ApprovalDenied.event_type})
REJECTED_CODE = "POLICY"
"""``StepFailed.code`` of a step whose output a human approval rejected (or that timed out unapproved)."""


def _refs(states: list[ApprovalState]) -> tuple[PolicyRef, ...]:
    return tuple(
        PolicyRef(policy_id=s.requirement.policy_id, policy_version=str(s.requirement.version))
        for s in states
    )


def _emit(
    gate: Gate,
    record: WorkflowRecord,
    payload: EventModel,
    event_id: str,
    time: datetime,
    step: str,
    cause: str,
    reason: str,
    out: list[OutRecord],
) -> WorkflowRecord:
    """Write a lifecycle event of the gate's own and link it into the chain."""
    from corps.orchestrator.gate import DECISION_SOURCE, trusted_envelope, uuid5_text

    envelope = trusted_envelope(
        event_id=uuid5_text(gate.ids, event_id),
        source=DECISION_SOURCE,
        event_type=payload.event_type,
        time=time,
        tenant=record.tenant,
        workflow_id=record.workflow_id,
        causation_id=cause,
        step=step,
    )
    encoded = gate.codec.encode(gate.topics.lifecycle, payload, envelope)
    written = OutRecord(encoded.topic, record.partition, encoded.key, encoded.value, list(encoded.headers))
    out.append(written)
    return record.with_chain(gate.chain(record.chain, written, envelope, reason, out))


def park(
    gate: Gate,
    raw: RawRecord,
    envelope: Envelope,
    event_name: str | None,
    admitted_topic: str,
    decision: Decision,
    record: WorkflowRecord,
    now: datetime,
    out: list[OutRecord],
) -> WorkflowRecord:
    """Record the ``REQUIRE_APPROVAL`` decision, park the event, emit its ApprovalRequested events."""
    record = record.with_chain(gate.link(record, raw.topic, raw, envelope, decision, out))
    step = envelope.step or event_name or envelope.type
    states = [
        open_request(req, event_id=envelope.id, workflow_id=envelope.workflow_id, step=step, now=now)
        for req in decision.approvals
    ]
    value = decision.value if decision.value is not None else raw.value
    parked = ParkedEvent.of(
        raw, event_id=envelope.id, event_name=event_name, step=step, topic=admitted_topic, value=value,
        requests=states,
    )  # fmt: skip
    record = evolve(record, parked=(*record.parked, parked))
    for state in states:
        record = _emit(
            gate, record, requested_event(state), f"{state.request_id}/requested/0", now, step, envelope.id,
            f"approval requested: {state.requirement.reason}", out,
        )  # fmt: skip
    return record


def _find(record: WorkflowRecord, data: Any) -> tuple[int, int] | None:
    request_id, step = str(data.get("request_id") or ""), str(data.get("step") or "")
    fallback: tuple[int, int] | None = None
    for i, parked in enumerate(record.parked):
        for j, state in enumerate(parked.states()):
            if request_id and state.request_id == request_id:
                return i, j
            if fallback is None and state.step == step and state.status is Status.PENDING:
                fallback = (i, j)
    return fallback


def take_vote(
    gate: Gate,
    raw: RawRecord,
    envelope: Envelope,
    data: Any,
    record: WorkflowRecord,
    now: datetime,
    out: list[OutRecord],
) -> tuple[WorkflowRecord, ParkedEvent | None]:
    """Count one vote; return the record and the parked event to admit now, if it was approved."""
    found = _find(record, data)
    if found is None:
        why = f"refused vote: no approval request for step {data.get('step')!r} in this workflow"
        return record.with_chain(gate.link(record, raw.topic, raw, envelope, Decision.deny(why), out)), None
    i, j = found
    parked = record.parked[i]
    states = parked.states()
    grant = envelope.type == ApprovalGranted.event_type
    reason = str(data.get("comment") or "") if grant else str(data.get("reason") or "")
    update = cast(states[j], Vote(approver=str(data.get("approver", "")), grant=grant, at=now, reason=reason))
    states[j] = update.state
    refs = _refs([update.state])
    if update.verdict in (Verdict.REFUSED, Verdict.DUPLICATE, Verdict.CLOSED):
        decision = Decision.deny(f"refused vote: {update.detail}", refs)
        record = record.with_chain(gate.link(record, raw.topic, raw, envelope, decision, out))
        return _replace(record, i, parked.with_states(states)), None
    # A vote that counted (or decided) is admitted to the lifecycle topic.
    written = OutRecord(gate.topics.lifecycle, raw.partition, raw.key, raw.value, list(raw.headers))
    out.append(written)
    decision = Decision.allow(f"vote counted: {update.detail}", refs)
    record = record.with_chain(gate.link(record, written.topic, written, envelope, decision, out))
    record = evolve(record, admitted=(*record.admitted, envelope.id))
    parked = parked.with_states(states)
    if update.verdict is Verdict.REJECTED:
        return _drop(gate, record, i, parked, f"approval rejected: {update.detail}", now, out), None
    if update.verdict is Verdict.APPROVED and parked.approved():
        return _without(record, i), parked
    return _replace(record, i, parked), None


def release(
    gate: Gate, parked: ParkedEvent, record: WorkflowRecord, out: list[OutRecord]
) -> tuple[WorkflowRecord, Envelope, dict[str, Any]]:
    """Admit an approved parked event (already out of ``record``): its record, envelope and data."""
    raw = parked.raw()
    envelope, data = gate.codec.decode_datum(raw)
    written = parked.out_record()
    out.append(written)
    who = ", ".join(g for s in parked.states() for g in s.grants)
    decision = Decision.allow(f"approved by {who}", _refs(parked.states()))
    head = gate.link(record, written.topic, written, envelope, decision, out)
    record = evolve(
        record, chain_sequence=head.sequence, chain_hash=head.hash, admitted=(*record.admitted, envelope.id)
    )
    return record, envelope, data


def expire_parked(gate: Gate, record: WorkflowRecord, now: datetime, out: list[OutRecord]) -> WorkflowRecord:
    """Apply the timeouts due at ``now`` to the parked events of ``record``."""
    i = 0
    while i < len(record.parked):
        parked = record.parked[i]
        states = parked.states()
        rejected = ""
        for j, state in enumerate(states):
            update = expire(state, now)
            states[j] = update.state
            if update.verdict is Verdict.ESCALATED:
                record = _emit(
                    gate, record, requested_event(update.state), f"{state.request_id}/requested/1", now,
                    parked.step, parked.event_id, f"approval escalated: {update.detail}", out,
                )  # fmt: skip
            elif update.verdict is Verdict.REJECTED:
                denied = ApprovalDenied(
                    request_id=state.request_id,
                    step=parked.step,
                    approver=TIMEOUT_APPROVER,
                    reason=update.detail,
                )
                record = _emit(
                    gate, record, denied, f"{state.request_id}/timeout", now, parked.step, parked.event_id,
                    f"approval timed out: {update.detail}", out,
                )  # fmt: skip
                rejected = update.detail
        parked = parked.with_states(states)
        if rejected:
            record = _drop(gate, record, i, parked, f"approval timed out: {rejected}", now, out)
            continue
        record = _replace(record, i, parked)
        i += 1
    return record


def _replace(record: WorkflowRecord, i: int, parked: ParkedEvent) -> WorkflowRecord:
    items = list(record.parked)
    items[i] = parked
    return evolve(record, parked=tuple(items))


def _without(record: WorkflowRecord, i: int) -> WorkflowRecord:
    return evolve(record, parked=record.parked[:i] + record.parked[i + 1 :])


def _drop(
    gate: Gate,
    record: WorkflowRecord,
    i: int,
    parked: ParkedEvent,
    why: str,
    now: datetime,
    out: list[OutRecord],
) -> WorkflowRecord:
    """Refuse a parked event for good: a ``DENY`` link about it, it leaves the record, its step fails."""
    raw = parked.raw()
    envelope = gate.codec.envelope(raw)
    decision = Decision.deny(why, _refs(parked.states()))
    record = record.with_chain(gate.link(record, raw.topic, raw, envelope, decision, out))
    _propose_failure(gate, record, parked, envelope, why, now, out)
    return _without(record, i)


def _propose_failure(
    gate: Gate,
    record: WorkflowRecord,
    parked: ParkedEvent,
    envelope: Envelope,
    why: str,
    now: datetime,
    out: list[OutRecord],
) -> None:
    """Propose ``StepFailed`` (code ``POLICY``) for the step of a dropped parked event."""
    from corps.orchestrator.gate import DECISION_SOURCE, trusted_envelope, uuid5_text

    step = gate.topology.steps.get(parked.step)
    failed = StepFailed(
        step=parked.step,
        agent=step.agent if step is not None else envelope.source,
        code=REJECTED_CODE,
        attempts=1,  # the step ran: its output is what was refused
        last_error=why,
        retryable=False,
    )
    failure = trusted_envelope(
        event_id=uuid5_text(gate.ids, f"{parked.event_id}/step-failed"),
        source=DECISION_SOURCE,
        event_type=StepFailed.event_type,
        time=now,
        tenant=record.tenant,
        workflow_id=record.workflow_id,
        causation_id=parked.event_id,
        step=parked.step,
    )
    encoded = gate.codec.encode(gate.topics.lifecycle_proposed, failed, failure)
    out.append(OutRecord(encoded.topic, record.partition, encoded.key, encoded.value, list(encoded.headers)))

"""Human approvals as pure state: a request, the votes of named approvers, quorum, timeout.

The gate (or the orchestrator) keeps one :class:`ApprovalState` per request, keyed by its request id,
and folds the lifecycle events into it:

* a decision with effect ``require_approval`` → :func:`open_request` per requirement; the gate parks
  the event and emits :class:`~corps.events.lifecycle.ApprovalRequested` (:func:`requested_event`);
* ``corps approve | reject`` emit ApprovalGranted / ApprovalDenied to the proposed lifecycle topic;
  the gate passes each to :func:`cast` as a :class:`Vote`. A vote from someone the policy does not name
  is refused — the gate records the refusal by *denying that event* in its decision log (reason from
  :attr:`ApprovalUpdate.detail`), so the refusal is on the log and never reaches anyone;
* a timer tick → :func:`expire`: reject, or escalate once (widen the approvers, one more timeout).

Outcomes say what to emit: :attr:`Verdict.APPROVED` exactly once per request (admit the parked
event), :attr:`Verdict.REJECTED` once (emit ApprovalDenied, the orchestrator compensates),
:attr:`Verdict.ESCALATED` (emit a new ApprovalRequested with the widened approvers). A denial by any
named approver rejects (a veto); an approver's first vote counts, a repeat of it is a no-op, a changed
vote is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from corps.errors import ConfigurationError
from corps.events.lifecycle import ApprovalDenied, ApprovalGranted, ApprovalRequested
from corps.policy.decision import ApprovalRequirement

__all__ = [
    "TIMEOUT_APPROVER",
    "ApprovalState",
    "ApprovalUpdate",
    "Status",
    "Verdict",
    "Vote",
    "cast",
    "expire",
    "open_request",
    "request_id_for",
    "requested_event",
    "vote_from_event",
]

TIMEOUT_APPROVER = "corps:timeout"
"""The ``approver`` of the ApprovalDenied emitted when a request times out."""
_NAMESPACE = uuid.UUID("6f1c2f5e-5a43-4c39-9a55-2f0e1c7b9d10")


class Status(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Verdict(StrEnum):
    """What a vote or a tick did to a request (and what the caller emits)."""

    COUNTED = "counted"
    """A grant was recorded; the quorum is not reached yet."""
    APPROVED = "approved"
    """The quorum was reached now: admit the parked event (happens once per request)."""
    REJECTED = "rejected"
    """A named approver denied, or the request timed out: emit ApprovalDenied (once)."""
    ESCALATED = "escalated"
    """The request timed out and was widened: emit a new ApprovalRequested."""
    REFUSED = "refused"
    """The voter is not a named approver, or changed their vote: deny the vote event, record why."""
    DUPLICATE = "duplicate"
    """The same approver cast the same vote again: nothing to do."""
    CLOSED = "closed"
    """The request was already decided: nothing to do (the late vote is still on the log)."""
    WAITING = "waiting"
    """A tick before the deadline: nothing to do."""


@dataclass(frozen=True, slots=True)
class Vote:
    """One approver's answer.

    Attributes:
        approver: Who voted (``--as USER``).
        grant: True for approve, False for reject.
        at: When (the vote event's time).
        reason: The reason or comment given.
    """

    approver: str
    grant: bool
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalUpdate:
    """The result of one vote or tick.

    Attributes:
        state: The request's state afterwards.
        verdict: What happened.
        detail: Why, for the decision log.
    """

    state: ApprovalState
    verdict: Verdict
    detail: str


@dataclass(frozen=True, slots=True)
class ApprovalState:
    """One approval request and the votes it received.

    Attributes:
        request_id: Deterministic id (:func:`request_id_for`).
        event_id: ``ce_id`` of the parked event.
        workflow_id: Its workflow.
        step: The topology step it belongs to (``ce_step``, or its event type).
        requirement: What the policy asks for.
        approvers: Who may vote now (widened on escalation).
        deadline: When the request times out.
        status: Pending, approved or rejected.
        grants: Approvers who granted, in order.
        denial: ``(approver, reason)`` of the denial that rejected it, if any.
        escalated: Whether the request was escalated.
        refusals: ``(voter, why)`` of every refused vote, in order.
    """

    request_id: str
    event_id: str
    workflow_id: str
    step: str
    requirement: ApprovalRequirement
    approvers: tuple[str, ...]
    deadline: datetime
    status: Status = Status.PENDING
    grants: tuple[str, ...] = ()
    denial: tuple[str, str] | None = None
    escalated: bool = False
    refusals: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, for the changelog the caller keeps requests in."""
        return {
            "request_id": self.request_id,
            "event_id": self.event_id,
            "workflow_id": self.workflow_id,
            "step": self.step,
            "requirement": self.requirement.to_json(),
            "approvers": list(self.approvers),
            "deadline": self.deadline.isoformat(),
            "status": self.status.value,
            "grants": list(self.grants),
            "denial": list(self.denial) if self.denial else None,
            "escalated": self.escalated,
            "refusals": [list(r) for r in self.refusals],
        }

    @classmethod
    def from_json(cls, data: Any) -> ApprovalState:
        """Rebuild a state from :meth:`to_json` output.

        Raises:
            ConfigurationError: The data is not a serialised approval state.
        """
        try:
            denial = data["denial"]
            return cls(
                request_id=str(data["request_id"]),
                event_id=str(data["event_id"]),
                workflow_id=str(data["workflow_id"]),
                step=str(data["step"]),
                requirement=ApprovalRequirement.from_json(data["requirement"]),
                approvers=tuple(data["approvers"]),
                deadline=datetime.fromisoformat(data["deadline"]),
                status=Status(data["status"]),
                grants=tuple(data["grants"]),
                denial=(str(denial[0]), str(denial[1])) if denial else None,
                escalated=bool(data["escalated"]),
                refusals=tuple((str(v), str(w)) for v, w in data["refusals"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigurationError(f"not an approval state: {exc}") from exc


def request_id_for(event_id: str, policy_id: str) -> str:
    """The request id for ``event_id`` under ``policy_id``: the same on every replay (UUID5)."""
    return str(uuid.uuid5(_NAMESPACE, f"{event_id}/{policy_id}"))


def open_request(
    requirement: ApprovalRequirement, *, event_id: str, workflow_id: str, step: str, now: datetime
) -> ApprovalState:
    """A new pending request for ``requirement``, due ``requirement.timeout`` after ``now``.

    Raises:
        ConfigurationError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ConfigurationError("approval times must be time-zone aware")
    return ApprovalState(
        request_id=request_id_for(event_id, requirement.policy_id),
        event_id=event_id,
        workflow_id=workflow_id,
        step=step,
        requirement=requirement,
        approvers=requirement.approvers,
        deadline=now + requirement.timeout,
    )


def expire(state: ApprovalState, now: datetime) -> ApprovalUpdate:
    """Apply the timeout if ``now`` is at or past the deadline: reject, or escalate once."""
    if state.status is not Status.PENDING:
        return ApprovalUpdate(state, Verdict.CLOSED, f"request already {state.status.value}")
    if now < state.deadline:
        return ApprovalUpdate(state, Verdict.WAITING, f"due at {state.deadline.isoformat()}")
    req = state.requirement
    have = f"{len(state.grants)} of {req.quorum} approval(s)"
    if req.on_timeout == "escalate" and not state.escalated:
        widened = state.approvers + tuple(a for a in req.escalate_to if a not in state.approvers)
        new = replace(state, approvers=widened, deadline=state.deadline + req.timeout, escalated=True)
        return ApprovalUpdate(
            new, Verdict.ESCALATED, f"timed out with {have}; escalated to {', '.join(widened)}"
        )
    reason = f"timed out with {have}"
    new = replace(state, status=Status.REJECTED, denial=(TIMEOUT_APPROVER, reason))
    return ApprovalUpdate(new, Verdict.REJECTED, reason)


def cast(state: ApprovalState, vote: Vote) -> ApprovalUpdate:
    """Count ``vote``; a vote at or after the deadline first applies the timeout."""
    if state.status is Status.PENDING and vote.at >= state.deadline:
        timed = expire(state, vote.at)
        if timed.verdict is Verdict.REJECTED:  # the timeout rejects now; the late vote is moot
            return ApprovalUpdate(timed.state, Verdict.REJECTED, f"{timed.detail} (vote came late)")
        state = timed.state
    if state.status is not Status.PENDING:
        return ApprovalUpdate(state, Verdict.CLOSED, f"request already {state.status.value}")
    if vote.approver not in state.approvers:
        why = f"{vote.approver} is not an approver of {state.requirement.policy_id}"
        return ApprovalUpdate(
            replace(state, refusals=(*state.refusals, (vote.approver, why))), Verdict.REFUSED, why
        )
    if vote.approver in state.grants:
        if vote.grant:
            return ApprovalUpdate(state, Verdict.DUPLICATE, f"{vote.approver} already approved")
        why = f"{vote.approver} already approved and cannot change the vote"
        return ApprovalUpdate(
            replace(state, refusals=(*state.refusals, (vote.approver, why))), Verdict.REFUSED, why
        )
    if not vote.grant:
        reason = vote.reason or "denied"
        new = replace(state, status=Status.REJECTED, denial=(vote.approver, reason))
        return ApprovalUpdate(new, Verdict.REJECTED, f"denied by {vote.approver}: {reason}")
    grants = (*state.grants, vote.approver)
    if len(grants) >= state.requirement.quorum:
        new = replace(state, grants=grants, status=Status.APPROVED)
        return ApprovalUpdate(new, Verdict.APPROVED, f"approved by {', '.join(grants)}")
    have = f"{len(grants)} of {state.requirement.quorum}"
    return ApprovalUpdate(
        replace(state, grants=grants), Verdict.COUNTED, f"approved by {vote.approver} ({have})"
    )


def requested_event(state: ApprovalState) -> ApprovalRequested:
    """The ApprovalRequested to emit for a new or escalated request."""
    deadline_ms = round(state.deadline.timestamp() * 1000)
    summary = state.requirement.reason
    return ApprovalRequested(
        request_id=state.request_id,
        step=state.step,
        summary=summary,
        approvers=state.approvers,
        deadline_ms=deadline_ms,
    )


def vote_from_event(event: ApprovalGranted | ApprovalDenied, at: datetime) -> Vote:
    """The vote carried by an ApprovalGranted / ApprovalDenied event (``at``: its ``ce_time``)."""
    if isinstance(event, ApprovalGranted):
        return Vote(approver=event.approver, grant=True, at=at, reason=event.comment or "")
    return Vote(approver=event.approver, grant=False, at=at, reason=event.reason)

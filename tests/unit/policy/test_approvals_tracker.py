"""The approvals tracker: named approvers only, quorum, veto, timeout, escalation, idempotence."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from policy_helpers import T0, at

from corps.events.lifecycle import ApprovalDenied, ApprovalGranted
from corps.policy import ApprovalRequirement
from corps.policy.approvals import (
    TIMEOUT_APPROVER,
    ApprovalState,
    Status,
    Verdict,
    Vote,
    cast,
    expire,
    open_request,
    request_id_for,
    requested_event,
    vote_from_event,
)


def requirement(quorum: int = 1, on_timeout: str = "reject", escalate_to: tuple[str, ...] = ()):
    return ApprovalRequirement(
        policy_id="big-refund",
        version=1,
        approvers=("ann", "bob", "cid"),
        quorum=quorum,
        timeout=timedelta(hours=1),
        on_timeout=on_timeout,
        escalate_to=escalate_to,
        reason="refund above 100",
    )


def request(**kwargs) -> ApprovalState:
    return open_request(requirement(**kwargs), event_id="e-1", workflow_id="wf-1", step="refund", now=T0)


def grant(who: str, t: float = 60) -> Vote:
    return Vote(approver=who, grant=True, at=at(t))


def deny(who: str, t: float = 60, reason: str = "too much") -> Vote:
    return Vote(approver=who, grant=False, at=at(t), reason=reason)


def test_request_is_pending_with_a_deterministic_id() -> None:
    state = request()
    assert state.status is Status.PENDING
    assert state.deadline == T0 + timedelta(hours=1)
    assert state.request_id == request_id_for("e-1", "big-refund") == request().request_id
    assert state.request_id != request_id_for("e-2", "big-refund")


def test_one_grant_approves_with_quorum_one() -> None:
    step = cast(request(), grant("ann"))
    assert step.verdict is Verdict.APPROVED
    assert step.state.status is Status.APPROVED
    assert step.state.grants == ("ann",)


def test_unnamed_approver_is_refused_and_recorded() -> None:
    step = cast(request(), grant("mallory"))
    assert step.verdict is Verdict.REFUSED
    assert step.state.status is Status.PENDING
    assert step.state.grants == ()
    assert step.state.refusals == (("mallory", "mallory is not an approver of big-refund"),)
    assert cast(step.state, deny("mallory")).verdict is Verdict.REFUSED  # a denial too


def test_quorum_k_of_n() -> None:
    state = request(quorum=2)
    first = cast(state, grant("ann"))
    assert first.verdict is Verdict.COUNTED
    assert first.state.status is Status.PENDING
    second = cast(first.state, grant("cid"))
    assert second.verdict is Verdict.APPROVED
    assert second.state.grants == ("ann", "cid")


def test_duplicate_approval_is_idempotent_and_does_not_count_twice() -> None:
    first = cast(request(quorum=2), grant("ann"))
    again = cast(first.state, grant("ann", t=90))
    assert again.verdict is Verdict.DUPLICATE
    assert again.state == first.state


def test_approved_exactly_once() -> None:
    approved = cast(request(quorum=1), grant("ann")).state
    verdicts = [cast(approved, v).verdict for v in (grant("ann"), grant("bob"), deny("cid"))]
    assert verdicts == [Verdict.CLOSED] * 3
    assert expire(approved, at(7200)).verdict is Verdict.CLOSED


def test_a_denial_by_a_named_approver_rejects() -> None:
    first = cast(request(quorum=2), grant("ann"))
    step = cast(first.state, deny("bob"))
    assert step.verdict is Verdict.REJECTED
    assert step.state.denial == ("bob", "too much")
    assert cast(step.state, grant("cid")).verdict is Verdict.CLOSED


def test_a_changed_vote_is_refused() -> None:
    first = cast(request(quorum=2), grant("ann"))
    step = cast(first.state, deny("ann"))
    assert step.verdict is Verdict.REFUSED
    assert step.state.status is Status.PENDING
    assert "cannot change" in step.state.refusals[-1][1]


def test_timeout_rejects() -> None:
    state = request()
    assert expire(state, at(3599)).verdict is Verdict.WAITING
    step = expire(state, at(3600))
    assert step.verdict is Verdict.REJECTED
    assert step.state.denial == (TIMEOUT_APPROVER, "timed out with 0 of 1 approval(s)")
    assert expire(step.state, at(4000)).verdict is Verdict.CLOSED  # rejected once


def test_a_vote_after_the_deadline_is_too_late() -> None:
    step = cast(request(), grant("ann", t=3600))
    assert step.verdict is Verdict.REJECTED
    assert step.state.status is Status.REJECTED
    assert "came late" in step.detail


def test_timeout_escalates_once_then_rejects() -> None:
    state = request(on_timeout="escalate", escalate_to=("head", "ann"))
    escalated = expire(state, at(3600))
    assert escalated.verdict is Verdict.ESCALATED
    assert escalated.state.approvers == ("ann", "bob", "cid", "head")
    assert escalated.state.deadline == T0 + timedelta(hours=2)
    assert cast(escalated.state, grant("head", t=4000)).verdict is Verdict.APPROVED
    final = expire(escalated.state, at(7200))
    assert final.verdict is Verdict.REJECTED
    assert final.state.escalated


def test_a_vote_after_the_deadline_of_an_escalating_request_counts_after_escalation() -> None:
    state = request(on_timeout="escalate", escalate_to=("head",))
    step = cast(state, grant("head", t=3700))
    assert step.verdict is Verdict.APPROVED
    assert step.state.escalated


def test_requested_event_and_votes_from_events() -> None:
    state = request(on_timeout="escalate", escalate_to=("head",))
    event = requested_event(state)
    assert (event.request_id, event.step, event.summary) == (state.request_id, "refund", "refund above 100")
    assert event.approvers == ("ann", "bob", "cid")
    assert event.deadline_ms == int((T0 + timedelta(hours=1)).timestamp() * 1000)
    granted = ApprovalGranted(request_id=state.request_id, step="refund", approver="ann", comment="ok")
    denied = ApprovalDenied(request_id=state.request_id, step="refund", approver="bob", reason="no")
    assert vote_from_event(granted, at(5)) == Vote("ann", True, at(5), "ok")
    assert vote_from_event(denied, at(6)) == Vote("bob", False, at(6), "no")


def test_state_round_trips_through_json() -> None:
    state = cast(cast(request(quorum=2), grant("ann")).state, grant("mallory")).state
    text = json.dumps(state.to_json(), sort_keys=True)
    assert ApprovalState.from_json(json.loads(text)) == state


@pytest.mark.parametrize("bad", [{}, {"request_id": "x"}, None, []])
def test_bad_serialised_state_is_refused(bad: object) -> None:
    from corps.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        ApprovalState.from_json(bad)

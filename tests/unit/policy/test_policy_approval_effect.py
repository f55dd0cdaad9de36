"""require_approval in decisions: requirements carried, several combined, counters charged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from policy_helpers import compiled, decide, event

from corps.policy import ApprovalRequirement, Effect

APPROVAL = """
set: t
policies:
  - id: big-refund
    version: 2
    match: {events: [RefundIssued], sources: [refunds]}
    condition: event.data.amount_cents > 10000
    require_approval:
      approvers: [lead, finance]
      quorum: 2
      timeout: 4h
      on_timeout: escalate
      escalate_to: [head]
      reason: refund above 100
  - id: foreign
    version: 1
    condition: "event.data.currency != 'EUR'"
    require_approval: {approvers: [treasury]}
"""


def refund(cents: int, currency: str = "EUR"):
    return event("RefundIssued", {"amount_cents": cents, "currency": currency}, source="refunds")


def test_small_refunds_pass(tmp_path: Path) -> None:
    assert decide(compiled(tmp_path, APPROVAL), refund(500))[0].effect is Effect.ALLOW


def test_requirement_is_carried(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, APPROVAL), refund(20000))
    assert decision.effect is Effect.REQUIRE_APPROVAL
    assert not decision.admitted
    assert decision.reason == "big-refund: refund above 100"
    assert decision.approvals == (
        ApprovalRequirement(
            policy_id="big-refund",
            version=2,
            approvers=("lead", "finance"),
            quorum=2,
            timeout=timedelta(hours=4),
            on_timeout="escalate",
            escalate_to=("head",),
            reason="refund above 100",
        ),
    )


def test_every_requirement_is_listed(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, APPROVAL), refund(20000, "USD"))
    assert [a.policy_id for a in decision.approvals] == ["big-refund", "foreign"]


def test_requirement_round_trips_through_json(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, APPROVAL), refund(20000))
    (req,) = decision.approvals
    assert ApprovalRequirement.from_json(req.to_json()) == req


def test_a_parked_event_is_charged_to_budgets(tmp_path: Path) -> None:
    body = (
        APPROVAL
        + """
  - id: refund-budget
    version: 1
    budget: {amount: event.data.amount_cents, limit: 100000}
"""
    )
    decision, state = decide(compiled(tmp_path, body), refund(20000))
    assert decision.effect is Effect.REQUIRE_APPROVAL
    assert [c.amount for c in decision.charges] == [20000]
    assert len(state) == 1

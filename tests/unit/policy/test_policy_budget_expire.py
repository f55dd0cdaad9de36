"""Budgets (sums per window with an injected clock) and expiry (a latency budget)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from policy_helpers import T0, at, compiled, decide, event

from corps.policy import Effect, Outcome, PolicyState
from corps.policy.state import SpendCounter

BUDGET = """
set: t
policies:
  - id: refunds
    version: 1
    match: {events: [RefundIssued]}
    budget: {amount: event.data.amount_cents, limit: 1000, window: 1h, by: [tenant]}
"""


def refund(cents: object, tenant: str = "acme", n: int = 0):
    return event("RefundIssued", {"amount_cents": cents}, tenant=tenant, event_id=f"r{n}")


def test_budget_refuses_once_spent_and_recovers_with_the_window(tmp_path: Path) -> None:
    cset = compiled(tmp_path, BUDGET)
    state = PolicyState()
    effects = []
    for n, (cents, t) in enumerate([(400, 0), (500, 60), (200, 120), (100, 180), (900, 3600), (200, 3700)]):
        decision, state = decide(cset, refund(cents, n=n), state, at(t))
        effects.append(decision.effect)
    assert effects == [
        Effect.ALLOW,  # 400
        Effect.ALLOW,  # 900
        Effect.DENY,   # 900 + 200 > 1000
        Effect.ALLOW,  # 1000: exactly the limit
        Effect.ALLOW,  # next window (T0 is on the hour): 900
        Effect.DENY,   # 900 + 200
    ]  # fmt: skip
    counter = state.get("refunds|tenant=acme")
    assert counter == SpendCounter(
        window_start_ms=int((T0 + timedelta(hours=1)).timestamp() * 1000), spent=900
    )


def test_denial_names_the_figures(tmp_path: Path) -> None:
    cset = compiled(tmp_path, BUDGET)
    _, state = decide(cset, refund(800), PolicyState(), at(0))
    decision, after = decide(cset, refund(300), state, at(1))
    assert decision.effect is Effect.DENY
    assert after is state
    assert decision.reason == "refunds: budget exhausted: 800 + 300 > 1000 per 1h (tenant=acme)"


def test_budgets_are_per_tenant(tmp_path: Path) -> None:
    cset = compiled(tmp_path, BUDGET)
    _, state = decide(cset, refund(1000, "a"), PolicyState(), at(0))
    decision, _ = decide(cset, refund(1000, "b"), state, at(0))
    assert decision.effect is Effect.ALLOW


def test_the_charge_is_reported(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, BUDGET), refund(250), PolicyState(), at(0))
    (charge,) = decision.charges
    assert (charge.key, charge.policy_id, charge.amount) == ("refunds|tenant=acme", "refunds", 250)
    assert decision.policies[0].outcome is Outcome.PASS
    assert decision.policies[0].detail == "250 of 1000 per 1h (tenant=acme)"


def test_a_late_record_counts_in_the_newer_window(tmp_path: Path) -> None:
    cset = compiled(tmp_path, BUDGET)
    _, state = decide(cset, refund(900), PolicyState(), at(3600))
    decision, _ = decide(cset, refund(200), state, at(3599))  # evaluation time went backwards
    assert decision.effect is Effect.DENY


@pytest.mark.parametrize(("cents", "why"), [(None, "not a number"), ("12", "not a number"), (-5, "negative")])
def test_a_bad_amount_is_an_error(tmp_path: Path, cents: object, why: str) -> None:
    decision, _ = decide(compiled(tmp_path, BUDGET), refund(cents), PolicyState(), at(0))
    assert decision.effect is Effect.DENY
    assert decision.policies[0].outcome is Outcome.ERROR
    assert why in decision.policies[0].detail


def test_float_amounts_and_context_counters(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - id: cost
        version: 1
        budget: {amount: "event.data.cost", limit: 1.0, window: 1d}
      - id: warn-near-limit
        version: 1
        condition: "context.counters['cost'] >= 0.75"
        deny: {reason: nearly spent}
    """
    cset = compiled(tmp_path, body)
    state = PolicyState()
    effects = []
    for n in range(5):
        decision, state = decide(cset, event(data={"cost": 0.25}, event_id=f"c{n}"), state, at(n))
        effects.append(decision.effect)
    assert effects == [Effect.ALLOW, Effect.ALLOW, Effect.ALLOW, Effect.DENY, Effect.DENY]


EXPIRE = """
set: t
policies:
  - id: stale
    version: 4
    match: {events: [ReplyDrafted]}
    expire: {max_age: 10m, reason: draft too old}
"""


@pytest.mark.parametrize(
    ("age_s", "effect"),
    [(0, Effect.ALLOW), (599, Effect.ALLOW), (600, Effect.ALLOW), (601, Effect.DENY), (-30, Effect.ALLOW)],
)
def test_expire_compares_event_time_with_evaluation_time(tmp_path: Path, age_s: int, effect: Effect) -> None:
    decision, _ = decide(compiled(tmp_path, EXPIRE), event("ReplyDrafted"), PolicyState(), at(age_s))
    assert decision.effect is effect
    assert decision.policies[0].outcome is (Outcome.DENY if effect is Effect.DENY else Outcome.PASS)


def test_expire_reason(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, EXPIRE), event("ReplyDrafted"), PolicyState(), at(3600))
    assert decision.reason == "stale: draft too old: 1h old, limit 10m"

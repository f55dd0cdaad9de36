"""Allow, deny, deny-wins, the default effect and failing conditions."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_helpers import at, compiled, decide, event

from corps.policy import Effect, Outcome, PolicyState

BASE = """
set: t
{options}
policies:
  - id: deny-spam
    version: 3
    match: {{events: [TicketOpened]}}
    condition: "'spam' in event.data.tags"
    deny: {{reason: ticket tagged spam}}
  - id: allow-vip
    version: 1
    match: {{tenants: [vip-*]}}
    allow: {{reason: vip tenant}}
"""


def make(tmp_path: Path, options: str = ""):
    return compiled(tmp_path, BASE.format(options=options))


def test_deny_when_the_condition_holds(tmp_path: Path) -> None:
    decision, _ = decide(make(tmp_path), event(data={"tags": ["spam"]}))
    assert decision.effect is Effect.DENY
    assert decision.reason == "deny-spam: ticket tagged spam"
    assert [(h.policy_id, h.version, h.outcome) for h in decision.policies] == [
        ("deny-spam", 3, Outcome.DENY)
    ]
    assert not decision.admitted


def test_no_match_falls_to_the_default_allow(tmp_path: Path) -> None:
    decision, state = decide(make(tmp_path), event(data={"tags": ["billing"]}))
    assert decision.effect is Effect.ALLOW
    assert decision.policies == ()
    assert "default allow" in decision.reason
    assert state == PolicyState()


def test_default_deny_refuses_unmatched_events(tmp_path: Path) -> None:
    cset = make(tmp_path, "default_effect: deny")
    decision, _ = decide(cset, event(data={"tags": []}))
    assert decision.effect is Effect.DENY
    assert "default deny" in decision.reason


def test_allow_admits_under_default_deny(tmp_path: Path) -> None:
    cset = make(tmp_path, "default_effect: deny")
    decision, _ = decide(cset, event(data={"tags": []}, tenant="vip-globex"))
    assert decision.effect is Effect.ALLOW
    assert decision.reason == "allow-vip: vip tenant"


def test_deny_wins_over_allow(tmp_path: Path) -> None:
    decision, _ = decide(make(tmp_path), event(data={"tags": ["spam"]}, tenant="vip-globex"))
    assert decision.effect is Effect.DENY
    assert {h.outcome for h in decision.policies} == {Outcome.DENY, Outcome.ALLOW}


def test_deny_wins_whatever_the_order_of_ids(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - {id: a-allow, version: 1, allow: {}}
      - {id: b-redact, version: 1, redact: {fields: [x]}}
      - {id: c-approve, version: 1, require_approval: {approvers: [ann]}}
      - {id: z-deny, version: 1, deny: {reason: no}}
    """
    decision, _ = decide(compiled(tmp_path, body), event(data={"x": "secret"}))
    assert decision.effect is Effect.DENY
    assert decision.reason == "z-deny: no"
    assert decision.data is None
    assert decision.approvals == ()


def test_several_denials_name_the_first_and_count_the_rest(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - {id: d1, version: 1, deny: {reason: one}}
      - {id: d2, version: 1, deny: {reason: two}}
      - {id: d3, version: 1, deny: {reason: three}}
    """
    decision, _ = decide(compiled(tmp_path, body), event())
    assert decision.reason == "d1: one (and 2 more)"


@pytest.mark.parametrize(
    ("match", "ev_kwargs", "fires"),
    [
        ("{events: [TicketOpened]}", {}, True),
        ("{events: [demo.support.TicketOpened]}", {}, True),
        ("{events: [demo.other.TicketOpened]}", {}, False),
        ("{events: ['Ticket*']}", {}, True),
        ("{events: [RefundIssued]}", {}, False),
        ("{sources: [refunds]}", {"source": "refunds"}, True),
        ("{sources: [refunds]}", {"source": "writer"}, False),
        ("{tenants: [acme, globex]}", {"tenant": "globex"}, True),
        ("{tenants: [acme]}", {"tenant": "initech"}, False),
        ("{steps: [triage]}", {"step": "triage"}, True),
        ("{steps: [triage]}", {}, False),
        ("{events: [TicketOpened], tenants: [acme], sources: ['help*']}", {}, True),
        ("{events: [TicketOpened], tenants: [other]}", {}, False),
    ],
)
def test_match(tmp_path: Path, match: str, ev_kwargs: dict[str, str], fires: bool) -> None:
    body = f"""
    set: t
    policies:
      - {{id: p, version: 1, match: {match}, deny: {{reason: matched}}}}
    """
    decision, _ = decide(compiled(tmp_path, body), event(**ev_kwargs))
    assert (decision.effect is Effect.DENY) is fires


def test_condition_sees_envelope_and_context(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - id: p
        version: 1
        condition: >-
          event.name == 'TicketOpened' && event.type == 'demo.support.TicketOpened'
          && event.tenant == 'acme' && event.source == 'helpdesk' && event.workflow_id == 'wf-1'
          && event.id == 'e-1' && event.step == null && event.time == timestamp('2024-05-01T09:00:00Z')
          && context.now == timestamp('2024-05-01T09:00:30Z') && context.age == duration('30s')
          && context.now.getHours() == 9
        deny: {reason: all seen}
    """
    decision, _ = decide(compiled(tmp_path, body), event(), now=at(30))
    assert decision.effect is Effect.DENY, decision


def test_failing_condition_denies_when_fail_closed(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - {id: p, version: 1, condition: "event.data.amount > 10", deny: {reason: big}}
    """
    decision, _ = decide(compiled(tmp_path, body), event(data={}))
    assert decision.effect is Effect.DENY
    assert decision.policies[0].outcome is Outcome.ERROR
    assert "condition failed" in decision.reason
    assert "amount" in decision.reason


def test_failing_condition_is_skipped_with_on_error_skip(tmp_path: Path) -> None:
    body = """
    set: t
    on_error: skip
    policies:
      - {id: p, version: 1, condition: "event.data.amount > 10", deny: {reason: big}}
    """
    decision, _ = decide(compiled(tmp_path, body), event(data={}))
    assert decision.effect is Effect.ALLOW
    assert decision.policies[0].outcome is Outcome.ERROR  # still named in the decision


@pytest.mark.parametrize("condition", ["event.data.n", "'yes'", "event.data.n + 1"])
def test_non_boolean_condition_is_an_error(tmp_path: Path, condition: str) -> None:
    body = f"""
    set: t
    policies:
      - {{id: p, version: 1, condition: "{condition}", allow: {{}}}}
    """
    decision, _ = decide(compiled(tmp_path, body), event(data={"n": 1}))
    assert decision.effect is Effect.DENY
    assert "not a boolean" in decision.policies[0].detail


def test_has_guards_optional_fields(tmp_path: Path) -> None:
    body = """
    set: t
    policies:
      - id: p
        version: 1
        condition: has(event.data.refund_amount_cents) && event.data.refund_amount_cents > 100
        deny: {reason: big refund}
    """
    cset = compiled(tmp_path, body)
    assert decide(cset, event(data={}))[0].effect is Effect.ALLOW
    assert decide(cset, event(data={"refund_amount_cents": 500}))[0].effect is Effect.DENY
    assert decide(cset, event(data={"refund_amount_cents": 5}))[0].effect is Effect.ALLOW

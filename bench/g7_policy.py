"""G7 (engine part): the policy evaluator with 20 CEL rules vs the same stage with no rules, in process.

What the gate adds per proposed event is one ``corps.policy.evaluate`` call. This module measures it
without a broker, the same run, on the same decoded events (``demo.support.TicketOpened`` payloads,
50 tenants, counters carried from event to event):

* ``G7.noop_stage_per_s`` — ``evaluate`` with an empty policy set (the no-op filter: decision built,
  nothing matched, default allow);
* ``G7.rules20_per_s`` — ``evaluate`` with 20 policies that all match and all run a CEL condition
  (denies that do not fire, redactions, an approval, a throttle, a budget, an expiry, an allow), ratio
  against the no-op stage;
* ``G7.cel20_only_per_s`` — only the CEL part of it: building the activation and running the 20
  programs (the floor the binding sets).

G7 proper — the gate with 20 rules vs a bare relay hop over Kafka (goal >= 50 %) — needs the gate
service and adds its figures here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.context import BenchContext
from bench.g7_gate import gate_results
from bench.results import Result
from corps.events import Envelope
from corps.policy import Policy, PolicySet, PolicyState, ProposedEvent, compile_policy_set, evaluate
from corps.policy.expressions import activation
from corps.policy.inputs import cel_event

ID = "G7"
TITLE = "policy gate: 20 CEL rules over Kafka vs a relay hop; the evaluator in process (decisions/s)"
NEEDS: tuple[str, ...] = ("B4",)

_EVENTS = 20_000
_ROUNDS = 5
_T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)

RULES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("spam", "'spam' in event.data.tags", {"deny": {"reason": "spam"}}),
    ("subject-words", "event.data.subject.contains('viagra')", {"deny": {"reason": "words"}}),
    ("body-size", "size(event.data.body) > 10000", {"deny": {"reason": "too long"}}),
    ("blocked-tenants", "event.tenant in ['blocked-a', 'blocked-b', 'blocked-c']", {"deny": {"reason": "x"}}),
    ("bounce", "event.data.customer.email.endsWith('.invalid')", {"deny": {"reason": "bounce"}}),
    ("huge-refund", "has(event.data.refund_amount_cents) && event.data.refund_amount_cents > 1000000",
     {"deny": {"reason": "huge"}}),
    ("fax", "event.data.channel == 'FAX'", {"deny": {"reason": "fax"}}),
    ("stale-ctx", "context.age > duration('1h')", {"deny": {"reason": "old"}}),
    ("pii", "'pii' in event.data.tags", {"redact": {"fields": ["body"]}}),
    ("vip-names", "event.data.customer.name.startsWith('VIP ')", {"redact": {"fields": ["customer.name"]}}),
    ("approval", "has(event.data.refund_amount_cents) && event.data.refund_amount_cents > 500000",
     {"require_approval": {"approvers": ["lead"]}}),
    ("rate", "event.tenant != ''", {"throttle": {"rate": 1_000_000, "per": "1s"}}),
    ("budget", "has(event.data.refund_amount_cents)",
     {"budget": {"amount": "event.data.refund_amount_cents", "limit": 1e15}}),
    ("expire", "event.source != 'replay'", {"expire": {"max_age": "10m"}}),
    ("sunday", "context.now.getDayOfWeek() == 0 && event.tenant == 'closed-sundays'",
     {"deny": {"reason": "x"}}),
    ("tags-many", "size(event.data.tags) > 20", {"deny": {"reason": "tags"}}),
    ("ticket-id", "event.data.ticket_id.matches('^X-')", {"deny": {"reason": "bad id"}}),
    ("step", "event.step == 'forbidden'", {"deny": {"reason": "step"}}),
    ("known-tenants", "event.tenant.startsWith('t')", {"allow": {}}),
    ("escalate", "event.data.tags.exists(t, t == 'escalate')", {"deny": {"reason": "escalate"}}),
)  # fmt: skip


def rule_set(count: int = 20) -> PolicySet:
    """The first ``count`` rules as a policy set."""
    policies = tuple(
        Policy.model_validate({"id": pid, "version": 1, "condition": cond, **effect})
        for pid, cond, effect in RULES[:count]
    )
    return PolicySet(name="bench", policies=policies)


def events(count: int) -> list[ProposedEvent]:
    """Decoded TicketOpened events over 50 tenants."""
    made = []
    for n in range(count):
        envelope = Envelope(
            id=f"e{n}",
            source="helpdesk",
            type="demo.support.TicketOpened",
            time=_T0,
            tenant=f"t{n % 50}",
            workflow_id=f"wf-{n}",
        )
        data = {
            "ticket_id": f"T-{n}",
            "customer": {"customer_id": "C-42", "name": "Ann Example", "email": "ann@example.com"},
            "subject": "Refund for order 1234",
            "body": "x" * 150,
            "channel": "EMAIL",
            "refund_amount_cents": 1250,
            "tags": ["billing"],
        }
        made.append(ProposedEvent(envelope, data))
    return made


def _best_rate(work: Callable[[], None], count: int) -> float:
    best = float("inf")
    for _ in range(_ROUNDS):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return count / best


def run(ctx: BenchContext) -> list[Result]:
    """Measure the three rates on the same events, best of 5 rounds each."""
    batch = events(ctx.scale.count(_EVENTS, minimum=2000))
    n = len(batch)
    noop, rules = compile_policy_set(rule_set(0)), compile_policy_set(rule_set(20))

    def stage(cset: Any) -> Callable[[], None]:
        def work() -> None:
            state = PolicyState()
            for i, event in enumerate(batch):
                _, state = evaluate(cset, event, state, _T0 + timedelta(microseconds=i))

        return work

    programs = [p.condition for p in rules.policies if p.condition is not None]
    context = {"now": _T0, "age": timedelta(0), "counters": {}}

    def cel_only() -> None:
        for event in batch:
            env = activation({"event": cel_event(event, rules.needs), "context": context})
            for program in programs:
                program.run(env)

    noop_rate = _best_rate(stage(noop), n)
    rules_rate = _best_rate(stage(rules), n)
    cel_rate = _best_rate(cel_only, n)
    detail = {"events": n, "rounds": _ROUNDS, "rules": len(programs), "tenants": 50}
    return [
        *gate_results(ctx),
        Result(id="G7.noop_stage_per_s", label="evaluate, empty policy set", value=round(noop_rate),
               unit="decisions/s", detail=detail),
        Result(id="G7.rules20_per_s", label="evaluate, 20 CEL rules", value=round(rules_rate),
               unit="decisions/s", baseline_id="G7.noop_stage_per_s",
               detail={**detail, "us_per_decision": round(1e6 / rules_rate, 1)}),
        Result(id="G7.cel20_only_per_s", label="CEL only: activation + 20 programs", value=round(cel_rate),
               unit="decisions/s", baseline_id="G7.noop_stage_per_s",
               detail={**detail, "us_per_event": round(1e6 / cel_rate, 1)}),
    ]  # fmt: skip

"""The evaluator: ``evaluate(policy_set, event, state, now) -> (Decision, new_state)``, a pure function.

Every policy whose match admits the event and whose condition holds *fires*; policies are taken in id
order. Deny wins: a deny, a throttle or budget over its limit, an expired event, or a failing condition
(with ``on_error: deny``) refuses the event. Otherwise require_approval parks it, redact admits a
redacted copy, allow admits it; when none of these fired the set's default effect applies. Counters
change only when the event is admitted or parked, and only in the returned state: the input state is
never modified. Time is ``now`` alone — never the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from corps.errors import ConfigurationError
from corps.policy.compiled import CompiledPolicy, CompiledPolicySet, Selection, to_ns
from corps.policy.decision import ApprovalRequirement, Charge, Decision, Effect, Outcome, PolicyHit
from corps.policy.expressions import activation
from corps.policy.inputs import EventLike, cel_event
from corps.policy.models import Budget, DefaultEffect, Redact, Throttle
from corps.policy.redact import redact
from corps.policy.state import Counter, PolicyState, RateCounter, SpendCounter
from corps.topology._durations import format_duration

__all__ = ["evaluate"]

_NS_PER_MS = 1_000_000


def evaluate(
    policy_set: CompiledPolicySet, event: EventLike, state: PolicyState, now: datetime
) -> tuple[Decision, PolicyState]:
    """Decide about ``event`` under ``policy_set``, given the counters in ``state``, at time ``now``.

    Args:
        policy_set: The compiled set (compile once per set version with ``compile_policy_set``).
        event: The proposed event.
        state: Throttle and budget counters before this event.
        now: The evaluation time — the proposed record's timestamp, never the wall clock (time-zone
            aware).

    Returns:
        The decision and the state after it (``state`` itself when no counter changed).

    Raises:
        ConfigurationError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ConfigurationError("evaluation time must be time-zone aware")
    selection = policy_set.select(event)
    run = _Run(policy_set, selection, event, state, now)
    env: Any = None
    for compiled in selection.policies:
        condition = compiled.condition
        if condition is not None:  # inlined: this loop runs once per rule and record
            try:
                if env is None:
                    env = run._env()
                result = condition.program.execute(env)
            except Exception as exc:  # the binding raises KeyError, TypeError, RuntimeError ...
                run._hit(compiled, Outcome.ERROR, f"condition failed: {type(exc).__name__}: {exc}")
                continue
            if result is not True:
                if result is not False:
                    run._hit(compiled, Outcome.ERROR, f"condition gave {result!r}, not a boolean")
                continue
        run.fire(compiled)
    return run.decide()


class _Run:
    """The working state of one evaluation."""

    __slots__ = (
        "_activation", "approvals", "charges", "cset", "event", "hits", "now", "now_ns", "redactions",
        "selection", "state",
    )  # fmt: skip

    def __init__(
        self,
        cset: CompiledPolicySet,
        selection: Selection,
        event: EventLike,
        state: PolicyState,
        now: datetime,
    ) -> None:
        self.cset = cset
        self.selection = selection
        self.event = event
        self.state = state
        self.now = now
        self.now_ns = to_ns(now)
        self.hits: list[PolicyHit] = []
        self.redactions: list[Redact] = []
        self.approvals: list[ApprovalRequirement] = []
        self.charges: list[Charge] = []
        self._activation: Any = None

    # -- conditions ----------------------------------------------------------------------------------

    def _env(self) -> Any:
        """The CEL activation, built once per event on first use, with only what the CEL can reach."""
        if self._activation is None:
            needs = self.selection.needs
            wanted = needs.context
            context: dict[str, Any] = {}
            if wanted is None or "now" in wanted:
                context["now"] = self.now
            if wanted is None or "age" in wanted:
                context["age"] = self.now - self.event.envelope.time
            if wanted is None or "counters" in wanted:
                counters: dict[str, float] = {}
                for compiled in self.selection.policies:
                    value = self._counter_value(compiled)
                    if value is not None:
                        counters[compiled.policy.id] = value
                context["counters"] = counters
            variables: dict[str, Any] = {"event": cel_event(self.event, needs)}
            if wanted is None or wanted:
                variables["context"] = context
            self._activation = activation(variables)
        return self._activation

    def _hit(self, compiled: CompiledPolicy, outcome: Outcome, detail: str) -> None:
        policy = compiled.policy
        self.hits.append(PolicyHit(policy.id, policy.version, outcome, detail))

    def fire(self, compiled: CompiledPolicy) -> None:
        """Apply the effect of a policy whose match admits the event and whose condition holds."""
        hit = compiled.hit
        if hit is not None:  # allow, deny, redact, require_approval: the same hit every time
            self.hits.append(hit)
            outcome = hit.outcome
            if outcome is Outcome.REDACT:
                self.redactions.append(compiled.policy.redact)  # type: ignore[arg-type]
            elif outcome is Outcome.REQUIRE_APPROVAL:
                self.approvals.append(compiled.approval)  # type: ignore[arg-type]
            return
        policy = compiled.policy
        if policy.expire is not None:
            age = self.now - self.event.envelope.time
            limit = f"{_span(age)} old, limit {compiled.limit_text}"
            if age > policy.expire.max_age:
                self._hit(compiled, Outcome.DENY, f"{policy.expire.reason}: {limit}")
            else:
                self._hit(compiled, Outcome.PASS, limit)
        elif policy.throttle is not None:
            self._throttle(compiled, policy.throttle)
        elif policy.budget is not None:
            self._budget(compiled, policy.budget)

    # -- counters ------------------------------------------------------------------------------------

    def _counter_value(self, compiled: CompiledPolicy) -> float | None:
        policy = compiled.policy
        if policy.throttle is not None:
            counter = self.state.get(compiled.counter_key(self.event))
            if isinstance(counter, RateCounter) and counter.tat_ns > self.now_ns:
                return math.ceil((counter.tat_ns - self.now_ns) / compiled.period_ns)
            return 0
        if policy.budget is not None:
            counter = self.state.get(compiled.counter_key(self.event))
            if isinstance(counter, SpendCounter) and counter.window_start_ms >= self._window_start(compiled):
                return counter.spent
            return 0
        return None

    def _window_start(self, compiled: CompiledPolicy) -> int:
        now_ms = self.now_ns // _NS_PER_MS
        return now_ms - now_ms % compiled.period_ns

    def _throttle(self, compiled: CompiledPolicy, rule: Throttle) -> None:
        key = compiled.counter_key(self.event)
        interval = compiled.period_ns
        now_ns = self.now_ns
        counter = self.state.get(key)
        tat = counter.tat_ns if isinstance(counter, RateCounter) and counter.tat_ns > now_ns else now_ns
        if tat - now_ns > compiled.tolerance_ns:
            detail = f"{rule.reason}: over {compiled.limit_text} ({_scope(key)})"
            self._hit(compiled, Outcome.DENY, detail)
            return
        self.charges.append(Charge(key, compiled.policy.id, 1, RateCounter(tat_ns=tat + interval)))
        self._hit(compiled, Outcome.PASS, f"within {compiled.limit_text} ({_scope(key)})")

    def _budget(self, compiled: CompiledPolicy, rule: Budget) -> None:
        if compiled.amount is None:  # compile_policy_set compiles every budget's amount
            raise ConfigurationError(f"policy {compiled.policy.id}: budget amount not compiled")
        try:
            amount = compiled.amount.program.execute(self._env())
        except Exception as exc:  # the binding raises KeyError, TypeError, RuntimeError ...
            self._hit(compiled, Outcome.ERROR, f"budget amount failed: {type(exc).__name__}: {exc}")
            return
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
            self._hit(compiled, Outcome.ERROR, f"budget amount gave {amount!r}, not a number")
            return
        if amount < 0:
            self._hit(compiled, Outcome.ERROR, f"budget amount gave {amount!r}, a negative number")
            return
        key = compiled.counter_key(self.event)
        start = self._window_start(compiled)
        counter = self.state.get(key)
        if isinstance(counter, SpendCounter) and counter.window_start_ms >= start:
            start, spent = counter.window_start_ms, counter.spent  # a late record counts in the newer window
        else:
            spent = 0
        window = compiled.limit_text
        if spent + amount > compiled.budget_limit:
            limit = compiled.budget_text
            detail = f"{rule.reason}: {spent:g} + {amount:g} > {limit} per {window} ({_scope(key)})"
            self._hit(compiled, Outcome.DENY, detail)
            return
        new: Counter = SpendCounter(window_start_ms=start, spent=spent + amount)
        self.charges.append(Charge(key, compiled.policy.id, amount, new))
        self._hit(
            compiled,
            Outcome.PASS,
            f"{spent + amount:g} of {compiled.budget_text} per {window} ({_scope(key)})",
        )

    # -- the decision --------------------------------------------------------------------------------

    def decide(self) -> tuple[Decision, PolicyState]:
        fail_closed = self.cset.fail_closed
        refusals = [
            h for h in self.hits if h.outcome is Outcome.DENY or (h.outcome is Outcome.ERROR and fail_closed)
        ]
        common: dict[str, Any] = {
            "set_version": self.cset.version,
            "event_id": self.event.envelope.id,
            "evaluated_at": self.now,
            "policies": tuple(self.hits),
        }
        if refusals:
            first = refusals[0]
            more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
            return Decision(Effect.DENY, f"{first.policy_id}: {first.detail}{more}", **common), self.state
        admitting = [h for h in self.hits if h.outcome in _ADMITTING]
        if self.approvals:
            effect = Effect.REQUIRE_APPROVAL
        elif self.redactions:
            effect = Effect.REDACT
        elif admitting:
            effect = Effect.ALLOW
        else:
            default = self.cset.policy_set.default_effect
            reason = f"no policy admitted or denied the event: default {default.value}"
            if default is DefaultEffect.DENY:
                return Decision(Effect.DENY, reason, **common), self.state
            return self._admit(Effect.ALLOW, reason, common)
        first_hit = next(h for h in self.hits if h.outcome in _ADMITTING and _leads(h.outcome, effect))
        return self._admit(effect, f"{first_hit.policy_id}: {first_hit.detail}", common)

    def _admit(self, effect: Effect, reason: str, common: dict[str, Any]) -> tuple[Decision, PolicyState]:
        data: Mapping[str, Any] | None = None
        fields: list[str] = []
        for rule in self.redactions:
            data, done = redact(
                data if data is not None else self.event.data,
                rule.fields,
                mode=rule.mode,
                mask_text=rule.mask_text,
            )
            fields.extend(f for f in done if f not in fields)
        decision = Decision(
            effect,
            reason,
            data=data,
            redacted_fields=tuple(fields),
            approvals=tuple(self.approvals),
            charges=tuple(self.charges),
            **common,
        )
        return decision, self.state.with_updates({c.key: c.counter for c in self.charges})


_ADMITTING = (Outcome.ALLOW, Outcome.REDACT, Outcome.REQUIRE_APPROVAL)


def _leads(outcome: Outcome, effect: Effect) -> bool:
    return outcome.value == effect.value


def _scope(key: str) -> str:
    parts = key.split("|")[1:]
    return ", ".join(parts) if parts else "global"


def _span(age: timedelta) -> str:
    return format_duration(age) if age >= timedelta(0) else f"-{format_duration(-age)}"

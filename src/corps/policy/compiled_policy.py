"""One policy compiled for evaluation: its CEL programs, matchers, counter scopes and effect constants.

The set it belongs to is compiled by :func:`corps.policy.compiled.compile_policy_set` (see there for the
partition count P that ``split: even`` limits are shared among).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from corps.policy.decision import ApprovalRequirement, Outcome, PolicyHit
from corps.policy.expressions import CelProgram, ExpressionError, Needs, compile_expression, needs_of
from corps.policy.inputs import EventLike
from corps.policy.limits import budget_constants, throttle_constants
from corps.policy.models import CounterScope, Policy
from corps.topology._durations import format_duration

__all__ = ["CompiledPolicy", "PolicyExpressionError", "compile_policy"]

_Matcher = Callable[[str], bool]


class PolicyExpressionError(ExpressionError):
    """A policy's CEL is invalid; names the policy and the key (``condition`` or ``budget.amount``)."""

    def __init__(self, policy_id: str, key: str, cause: ExpressionError) -> None:
        super().__init__(cause.message, cause.line, cause.column, cause.detail)
        self.policy_id = policy_id
        self.key = key
        self.args = (f"policy {policy_id}, {key} {cause.line}:{cause.column}: {cause.message}",)


def _matcher(patterns: Sequence[str]) -> _Matcher | None:
    if not patterns:
        return None
    exact = frozenset(p for p in patterns if not any(c in p for c in "*?["))
    globs = [re.compile(fnmatch.translate(p)) for p in patterns if p not in exact]
    if not globs:
        return exact.__contains__
    return lambda value: value in exact or any(g.match(value) for g in globs)


_ATTRIBUTE = {
    CounterScope.TENANT: "tenant",
    CounterScope.SOURCE: "source",
    CounterScope.TYPE: "type",
    CounterScope.STEP: "step",
    CounterScope.WORKFLOW: "workflow_id",
}
_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")


def _scope_value(envelope: Any, attribute: str) -> str:
    value: str = getattr(envelope, attribute) or ""
    return value if _SAFE.fullmatch(value) else quote(value, safe="")


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """One policy ready to evaluate.

    Attributes:
        policy: The policy.
        condition: Its compiled condition (``None``: always true).
        amount: A budget's compiled amount expression.
    """

    policy: Policy
    condition: CelProgram | None
    amount: CelProgram | None
    scopes: tuple[tuple[str, str], ...] = field(repr=False)
    """(scope name, envelope attribute) of a throttle's or budget's counter key."""
    needs: Needs = field(repr=False)
    """What the condition and amount can reach of ``event`` / ``context``."""
    hit: PolicyHit | None = field(repr=False)
    """The hit of an allow, deny, redact or require_approval policy (the same every time it fires)."""
    approval: ApprovalRequirement | None = field(repr=False)
    """A require_approval policy's requirement."""
    period_ns: int = field(repr=False)
    """A throttle's emission interval (ns) or a budget's window (ms); 0 otherwise."""
    tolerance_ns: int = field(repr=False)
    """A throttle's burst tolerance (ns)."""
    limit_text: str = field(repr=False)
    """A throttle's ``<rate> per <per>``, a budget's window or an expiry's limit, as decisions write it."""
    budget_limit: float = field(repr=False)
    """A budget's limit on one partition (``limit / P`` when split evenly); 0 otherwise."""
    budget_text: str = field(repr=False)
    """A budget's limit as decisions write it (``250 (1000 over 4 partitions)`` when split)."""
    needs_rest: bool = field(repr=False)
    """Whether sources, tenants or steps restrict the match."""
    _full_type: _Matcher | None = field(repr=False)
    _short_type: _Matcher | None = field(repr=False)
    _sources: _Matcher | None = field(repr=False)
    _tenants: _Matcher | None = field(repr=False)
    _steps: _Matcher | None = field(repr=False)

    def matches_type(self, event_type: str) -> bool:
        """Whether ``match.events`` admits this ``ce_type``."""
        if self._full_type is None and self._short_type is None:
            return True
        short = event_type.rpartition(".")[2]
        return bool(
            (self._full_type is not None and self._full_type(event_type))
            or (self._short_type is not None and self._short_type(short))
        )

    def matches_rest(self, event: EventLike) -> bool:
        """Whether sources, tenants and steps admit the event (the type is checked apart)."""
        if not self.needs_rest:
            return True
        env = event.envelope
        return (
            (self._sources is None or self._sources(env.source))
            and (self._tenants is None or self._tenants(env.tenant))
            and (self._steps is None or self._steps(env.step or ""))
        )

    def counter_key(self, event: EventLike) -> str:
        """The key of this (throttle or budget) policy's counter for ``event``."""
        env = event.envelope
        parts = [f"{name}={_scope_value(env, attribute)}" for name, attribute in self.scopes]
        return "|".join([self.policy.id, *parts])


def compile_policy(policy: Policy, partitions: int) -> CompiledPolicy:
    """Compile one policy's CEL and prepare its matchers and effect constants for P = ``partitions``.

    Raises:
        PolicyExpressionError: Its condition or budget amount is not valid CEL.
    """

    def cel(source: str | None, key: str) -> CelProgram | None:
        if source is None:
            return None
        try:
            return compile_expression(source)
        except ExpressionError as exc:
            raise PolicyExpressionError(policy.id, key, exc) from exc

    events = policy.match.events
    effect = policy.throttle or policy.budget
    match = policy.match
    condition = cel(policy.condition, "condition")
    amount = cel(policy.budget.amount if policy.budget else None, "budget.amount")
    needs = Needs()
    for program in (condition, amount):
        if program is not None:
            needs = needs.merge(needs_of(program.source))
    hit, approval, period, tolerance, limit = _effect_constants(policy, partitions)
    budget_limit, budget_text = budget_constants(policy, partitions)
    return CompiledPolicy(
        policy=policy,
        condition=condition,
        amount=amount,
        scopes=tuple((s.value, _ATTRIBUTE[s]) for s in effect.by) if effect is not None else (),
        needs=needs,
        hit=hit,
        approval=approval,
        period_ns=period,
        tolerance_ns=tolerance,
        limit_text=limit,
        budget_limit=budget_limit,
        budget_text=budget_text,
        needs_rest=bool(match.sources or match.tenants or match.steps),
        _full_type=_matcher([e for e in events if "." in e]),
        _short_type=_matcher([e for e in events if "." not in e]),
        _sources=_matcher(policy.match.sources),
        _tenants=_matcher(policy.match.tenants),
        _steps=_matcher(policy.match.steps),
    )


def _effect_constants(
    policy: Policy, partitions: int
) -> tuple[PolicyHit | None, ApprovalRequirement | None, int, int, str]:
    """What an effect computes the same way for every event (so evaluation does not)."""
    pid, version = policy.id, policy.version
    if policy.allow is not None:
        return PolicyHit(pid, version, Outcome.ALLOW, policy.allow.reason), None, 0, 0, ""
    if policy.deny is not None:
        return PolicyHit(pid, version, Outcome.DENY, policy.deny.reason), None, 0, 0, ""
    if policy.redact is not None:
        return PolicyHit(pid, version, Outcome.REDACT, policy.redact.reason), None, 0, 0, ""
    if policy.require_approval is not None:
        rule = policy.require_approval
        approval = ApprovalRequirement(
            policy_id=pid,
            version=version,
            approvers=rule.approvers,
            quorum=rule.quorum,
            timeout=rule.timeout,
            on_timeout=rule.on_timeout,
            escalate_to=rule.escalate_to,
            reason=rule.reason,
        )
        return PolicyHit(pid, version, Outcome.REQUIRE_APPROVAL, rule.reason), approval, 0, 0, ""
    if policy.throttle is not None:
        interval, tolerance, text = throttle_constants(policy, policy.throttle, partitions)
        return None, None, interval, tolerance, text
    if policy.budget is not None:
        window_ms = policy.budget.window // timedelta(milliseconds=1)
        return None, None, window_ms, 0, format_duration(policy.budget.window)
    if policy.expire is not None:
        return None, None, 0, 0, format_duration(policy.expire.max_age)
    return None, None, 0, 0, ""

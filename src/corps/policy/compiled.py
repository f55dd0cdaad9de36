"""A policy set compiled for evaluation: CEL programs built once per set version, matchers prepared.

:func:`compile_policy_set` is the only place CEL is compiled; the gate compiles a set when it switches
to it, replay once per recorded set version — never per event.

A set is compiled for a partition count P (the partitions of the topology's proposed topics, 1 by
default): throttle and budget counters are kept per partition, and a ``split: even`` limit is shared
evenly among the P partitions — each partition's GCRA emission interval is ``P * per / rate`` (rounded
up) with ``burst / P`` (at least 1) as its burst, each partition's budget ``limit / P``. Counters keyed
by the workflow (which lives on one partition) and ``split: none`` limits are not divided.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any
from urllib.parse import quote

from corps.errors import ConfigurationError
from corps.policy.decision import ApprovalRequirement, Outcome, PolicyHit
from corps.policy.expressions import CelProgram, ExpressionError, Needs, compile_expression, needs_of
from corps.policy.inputs import EventLike
from corps.policy.limits import budget_constants, throttle_constants
from corps.policy.models import CounterScope, OnError, Policy
from corps.policy.policy_set import PolicySet, SetVersion
from corps.policy.state import PolicyState
from corps.topology._durations import format_duration

__all__ = [
    "CompiledPolicy",
    "CompiledPolicySet",
    "PolicyExpressionError",
    "Selection",
    "compile_policy_set",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


def _compile_one(policy: Policy, partitions: int) -> CompiledPolicy:
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


class CompiledPolicySet:
    """A policy set with every expression compiled; its answers never change (it only memoises matching).

    Args:
        policy_set: The set.
        version: The version to name in decisions, when it was recorded elsewhere (the digest read
            from the policies topic); default ``policy_set.version``.
        partitions: The partition count P that ``split: even`` limits are shared among.

    Raises:
        PolicyExpressionError: A condition or budget amount is not valid CEL (with its position).
    """

    def __init__(
        self, policy_set: PolicySet, version: SetVersion | None = None, *, partitions: int = 1
    ) -> None:
        if partitions < 1:
            raise ConfigurationError(f"a policy set is compiled for 1 or more partitions, not {partitions}")
        self.policy_set = policy_set
        self.version: SetVersion = version or policy_set.version
        self.partitions = partitions
        """The partition count P of the proposed topics that split limits are shared among."""
        self.policies: tuple[CompiledPolicy, ...] = tuple(
            _compile_one(p, partitions) for p in policy_set.policies
        )
        needs = Needs()
        for compiled in self.policies:
            needs = needs.merge(compiled.needs)
        self.needs = needs
        """What the set's expressions can reach of ``event`` / ``context`` (all policies together)."""
        self.fail_closed = policy_set.on_error is OnError.DENY
        self._by_type: dict[str, tuple[CompiledPolicy, ...]] = {}
        restricted = [
            attribute
            for attribute, used in (
                ("source", any(p.policy.match.sources for p in self.policies)),
                ("tenant", any(p.policy.match.tenants for p in self.policies)),
                ("step", any(p.policy.match.steps for p in self.policies)),
            )
            if used
        ]
        self._key: Callable[[Any], Any] = attrgetter("type", *restricted)
        self._selections: dict[Any, Selection] = {}
        self._windows = {
            p.id: p.budget.window // timedelta(milliseconds=1) for p in policy_set.policies if p.budget
        }

    def select(self, event: EventLike) -> Selection:
        """The policies whose match admits ``event`` (in policy-id order) and what their CEL reaches.

        One dict lookup per event: selections are indexed by the event type and the envelope
        attributes some policy of the set restricts (source, tenant, step); the index is bounded.
        """
        env = event.envelope
        key = self._key(env)
        selection = self._selections.get(key)
        if selection is None:
            candidates = tuple(p for p in self._of_type(env.type) if p.matches_rest(event))
            needs = Needs()
            for compiled in candidates:
                needs = needs.merge(compiled.needs)
            selection = Selection(candidates, needs)
            if len(self._selections) >= _INDEX_LIMIT:  # a flood of distinct tenants / types
                self._selections.clear()
            self._selections[key] = selection
        return selection

    def candidates(self, event: EventLike) -> tuple[CompiledPolicy, ...]:
        """The policies whose match admits ``event``, in policy-id order."""
        return self.select(event).policies

    def _of_type(self, event_type: str) -> tuple[CompiledPolicy, ...]:
        by_type = self._by_type.get(event_type)
        if by_type is None:
            by_type = tuple(p for p in self.policies if p.matches_type(event_type))
            if len(self._by_type) < _INDEX_LIMIT:  # a cache, bounded against a flood of odd types
                self._by_type[event_type] = by_type
        return by_type

    def prune(self, state: PolicyState, now: datetime) -> PolicyState:
        """Drop counters of ``state`` that hold nothing any more at ``now`` (decisions do not change)."""
        return state.pruned(to_ns(now), self._windows)


@dataclass(frozen=True, slots=True)
class Selection:
    """The policies that apply to an event and what their expressions can reach.

    Attributes:
        policies: The policies whose match admits the event, in policy-id order.
        needs: The merged needs of their conditions and amounts (only these parts are converted).
    """

    policies: tuple[CompiledPolicy, ...]
    needs: Needs


_INDEX_LIMIT = 10_000


def compile_policy_set(
    policy_set: PolicySet, version: SetVersion | None = None, *, partitions: int = 1
) -> CompiledPolicySet:
    """Compile every CEL expression of ``policy_set`` once (``version``: see :class:`CompiledPolicySet`).

    ``partitions`` is the partition count P of the topology's proposed topics: ``split: even`` limits
    are shared among them (see the module docs).

    Raises:
        PolicyExpressionError: An expression is invalid; the error names the policy, key and position.
        ConfigurationError: ``partitions`` is below 1.
    """
    return CompiledPolicySet(policy_set, version, partitions=partitions)


def to_ns(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime, in exact integer arithmetic."""
    delta = moment - EPOCH  # timedelta // timedelta is slow (about 50 µs); its fields are exact
    return ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000

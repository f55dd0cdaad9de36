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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from corps.errors import ConfigurationError
from corps.policy.compiled_policy import CompiledPolicy, PolicyExpressionError, compile_policy
from corps.policy.expressions import Needs
from corps.policy.inputs import EventLike
from corps.policy.models import OnError
from corps.policy.policy_set import PolicySet, SetVersion
from corps.policy.state import PolicyState

__all__ = [
    "CompiledPolicy",
    "CompiledPolicySet",
    "PolicyExpressionError",
    "Selection",
    "compile_policy_set",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
            compile_policy(p, partitions) for p in policy_set.policies
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

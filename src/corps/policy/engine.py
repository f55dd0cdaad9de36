"""The gate's policy stage as one object: the current set version, its counters, switching at an offset.

:class:`PolicyEngine` wraps the pure :func:`~corps.policy.evaluate` for a long-running consumer: it keeps
the compiled set and the counter state between events, and switches to a newer set version when the
policies topic delivers one (recording the offset it switched at). It holds no clock: the caller passes
each event's evaluation time (the proposed record's timestamp), so a replay that feeds the same records
through an engine started from the same state gets the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from corps.events.lifecycle import PolicyRef
from corps.policy.compiled import CompiledPolicySet, compile_policy_set
from corps.policy.decision import Decision
from corps.policy.evaluate import evaluate
from corps.policy.inputs import EventLike
from corps.policy.policy_set import PolicySet, SetVersion
from corps.policy.state import PolicyState
from corps.policy.store import PublishedPolicySet

__all__ = ["PolicyEngine", "Switch", "policy_refs", "set_ref"]

SET_REF_PREFIX = "set:"


@dataclass(frozen=True, slots=True)
class Switch:
    """A change of the engine's set version.

    Attributes:
        previous: The version before (``None`` at the first set).
        current: The version now in force.
        offset: Offset of the policies-topic record it came from (``None`` when not from the topic).
    """

    previous: SetVersion | None
    current: SetVersion
    offset: int | None


class PolicyEngine:
    """Evaluate events under the current policy-set version, keeping the counters between them.

    Args:
        policy_set: The first set (a file-loaded :class:`PolicySet`, a compiled one, or a record read
            from the policies topic).
        state: Counters to start from (restored from the gate's changelog); empty by default.
        partitions: The partition count P of the proposed topics (``split: even`` limits are shared
            among them); every set version is compiled for it.
    """

    def __init__(
        self,
        policy_set: PolicySet | CompiledPolicySet | PublishedPolicySet,
        state: PolicyState | None = None,
        *,
        partitions: int = 1,
    ) -> None:
        self.partitions = partitions
        self._compiled, self.offset = _compile(policy_set, partitions)
        self.state = state or PolicyState()

    @property
    def version(self) -> SetVersion:
        """The set version decisions are taken under."""
        return self._compiled.version

    @property
    def compiled(self) -> CompiledPolicySet:
        """The compiled set in force."""
        return self._compiled

    def decide(self, event: EventLike, now: datetime) -> Decision:
        """Decide about ``event`` at evaluation time ``now`` and keep the counters it changed."""
        decision, self.state = evaluate(self._compiled, event, self.state, now)
        return decision

    def switch(self, policy_set: PolicySet | CompiledPolicySet | PublishedPolicySet) -> Switch | None:
        """Move to ``policy_set`` if it is a newer version of the same set; ``None`` when ignored.

        Counters are kept across versions (they are keyed by policy id). Older or equal numbers, and
        other sets' records, are ignored, so the whole policies topic can be fed through here.
        """
        compiled, offset = _compile(policy_set, self.partitions)
        new, old = compiled.version, self.version
        if new.name != old.name or new.number <= old.number:
            return None
        self._compiled, self.offset = compiled, offset
        return Switch(previous=old, current=new, offset=offset)


def _compile(
    source: PolicySet | CompiledPolicySet | PublishedPolicySet, partitions: int
) -> tuple[CompiledPolicySet, int | None]:
    if isinstance(source, CompiledPolicySet):
        if source.partitions == partitions:
            return source, None
        return compile_policy_set(source.policy_set, source.version, partitions=partitions), None
    if isinstance(source, PublishedPolicySet):
        return compile_policy_set(source.policy_set, source.version, partitions=partitions), source.offset
    return compile_policy_set(source, partitions=partitions), None


def policy_refs(decision: Decision) -> tuple[PolicyRef, ...]:
    """The policies that took part, as the decision log's ``PolicyRef`` records."""
    return tuple(
        PolicyRef(policy_id=hit.policy_id, policy_version=str(hit.version)) for hit in decision.policies
    )


def set_ref(version: SetVersion) -> PolicyRef:
    """The set version as a ``PolicyRef``: ``set:<name>`` / ``<number>#<digest>``.

    For a decision log whose schema has no field of its own for the set version.
    """
    return PolicyRef(
        policy_id=f"{SET_REF_PREFIX}{version.name}", policy_version=f"{version.number}#{version.digest}"
    )

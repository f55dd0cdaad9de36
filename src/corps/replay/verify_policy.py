"""Re-take recorded gate decisions and compare: the seam, the gate's own checks, and policy sets.

A :class:`DecisionReevaluator` gets each decided event with its recorded decision (in the gate's
order: by decision record time, partition, offset, so stateful policies can thread their counters)
and returns the decision re-taken, or a reason why it cannot say (then the next one is asked, and if
none can, a note is recorded). Two ship here:

* :class:`GateChecks`: decisions the gate takes itself — the default allow when no policy set is in
  force, and the refusal of an event id admitted before (checked against the chain);
* :class:`PolicySetReevaluator`: decisions of the policy engine, re-evaluated with the pure
  :func:`corps.policy.evaluate` under the set version the decision names (its ``set:<name>`` policy
  reference, matched by content digest), at the proposed record's timestamp (the evaluation time the
  gate uses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from corps.events import Envelope
from corps.orchestrator.policy import AllowAll
from corps.policy import (
    CompiledPolicySet,
    PolicySet,
    PolicyState,
    ProposedEvent,
    compile_policy_set,
    evaluate,
)
from corps.policy.engine import SET_REF_PREFIX, policy_refs
from corps.replay.records import LogRecord
from corps.replay.verification import Check, Finding, Severity, Verification
from corps.replay.verify_chain import ChainLink

__all__ = [
    "DecidedEvent",
    "DecisionReevaluator",
    "GateChecks",
    "PolicySetReevaluator",
    "Reevaluation",
    "reevaluate_decisions",
]

_DUPLICATE = "duplicate: event "


@dataclass(frozen=True)
class DecidedEvent:
    """One event the gate decided about, with its recorded decision.

    Attributes:
        workflow_id: The workflow.
        link: The recorded decision (a chain link).
        envelope: The event's envelope.
        data: The event's payload as proposed (writer schema).
        proposed: The proposed record (its timestamp is the gate's evaluation time), if it was read.
        earlier: ``ce_id`` of every event admitted by earlier links of the same chain.
    """

    workflow_id: str
    link: ChainLink
    envelope: Envelope
    data: Mapping[str, Any]
    proposed: LogRecord | None
    earlier: frozenset[str]


@dataclass(frozen=True)
class Reevaluation:
    """A decision re-taken: what the record should say."""

    effect: str
    reason: str
    policies: tuple[tuple[str, str], ...] = ()
    redacted_fields: tuple[str, ...] = ()


class DecisionReevaluator(Protocol):
    """Re-takes recorded decisions."""

    def reevaluate(self, decided: DecidedEvent) -> Reevaluation | str:
        """The decision re-taken, or why this reevaluator cannot re-take it."""
        ...


class GateChecks:
    """The gate's own decisions: default allow (no policy set) and refusals of re-proposed events."""

    def __init__(self) -> None:
        self._allow = AllowAll.reason

    def reevaluate(self, decided: DecidedEvent) -> Reevaluation | str:
        """Re-take a default-allow or a duplicate refusal."""
        link = decided.link
        if link.reason.startswith(_DUPLICATE):
            admitted_before = decided.envelope.id in decided.earlier
            if not admitted_before:
                return Reevaluation(
                    "ALLOW", "not admitted before: the gate would not refuse it as a duplicate"
                )
            return Reevaluation("DENY", f"{_DUPLICATE}{decided.envelope.id} was admitted before")
        if link.reason == self._allow and not link.policies:
            if decided.envelope.id in decided.earlier:
                return Reevaluation("DENY", f"{_DUPLICATE}{decided.envelope.id} was admitted before")
            return Reevaluation("ALLOW", self._allow)
        return "not a decision the gate takes without policies"


class PolicySetReevaluator:
    """Re-evaluates policy decisions under the set versions they name.

    Args:
        sets: Every set version that may be named (files, or versions read from the policies topic).
            A decision names its set as ``set:<name>`` / ``<number>#<digest>``; the set with that
            content digest is used.
    """

    def __init__(self, sets: Iterable[PolicySet | CompiledPolicySet]) -> None:
        self._sets: dict[str, CompiledPolicySet] = {}
        for item in sets:
            compiled = item if isinstance(item, CompiledPolicySet) else compile_policy_set(item)
            self._sets[compiled.version.digest] = compiled
        self._state = PolicyState()

    def reevaluate(self, decided: DecidedEvent) -> Reevaluation | str:
        """Re-evaluate under the named set version, threading the counters in decision order."""
        named = [p for p in decided.link.policies if p.policy_id.startswith(SET_REF_PREFIX)]
        if not named:
            return "the decision names no policy-set version"
        _, _, digest = named[0].policy_version.partition("#")
        compiled = self._sets.get(digest)
        if compiled is None:
            return f"policy set {named[0].policy_id} {named[0].policy_version} is not available"
        if decided.proposed is None or decided.proposed.timestamp_ms is None:
            return "the proposed record (whose timestamp is the evaluation time) was not read"
        now = datetime.fromtimestamp(decided.proposed.timestamp_ms / 1000, UTC)
        event = ProposedEvent.of(decided.envelope, decided.data)
        decision, self._state = evaluate(compiled, event, self._state, now)
        refs = tuple((r.policy_id, r.policy_version) for r in policy_refs(decision))
        return Reevaluation(
            decision.effect.value.upper(), decision.reason, refs, tuple(decision.redacted_fields)
        )


def _compare(link: ChainLink, again: Reevaluation) -> str:
    recorded = tuple(
        (p.policy_id, p.policy_version) for p in link.policies if not p.policy_id.startswith(SET_REF_PREFIX)
    )
    diffs = []
    if again.effect != link.effect:
        diffs.append(f"effect {again.effect} (recorded {link.effect})")
    if again.reason != link.reason:
        diffs.append(f"reason {again.reason!r} (recorded {link.reason!r})")
    if sorted(again.policies) != sorted(recorded):
        diffs.append(f"policies {sorted(again.policies)} (recorded {sorted(recorded)})")
    if tuple(again.redacted_fields) != link.redacted_fields:
        diffs.append(f"redacted {list(again.redacted_fields)} (recorded {list(link.redacted_fields)})")
    return "; ".join(diffs)


def reevaluate_decisions(
    decided: Sequence[DecidedEvent], reevaluators: Sequence[DecisionReevaluator], out: Verification
) -> None:
    """Re-take every decision (in the gate's order) and record mismatches and decisions not re-taken."""
    ordered = sorted(
        decided,
        key=lambda d: (d.link.record.timestamp_ms or 0, d.link.record.partition, d.link.record.offset),
    )
    for item in ordered:
        reasons: list[str] = []
        for reevaluator in reevaluators:
            again = reevaluator.reevaluate(item)
            if isinstance(again, str):
                reasons.append(again)
                continue
            out.count("decisions_reevaluated")
            difference = _compare(item.link, again)
            if difference:
                out.add(
                    Finding(
                        Check.POLICY,
                        "decision-mismatch",
                        Severity.ERROR,
                        item.workflow_id,
                        f"re-taking the decision about {item.link.event_type} {item.link.event_id} gives "
                        f"{difference}",
                        sequence=item.link.sequence,
                        location=item.link.record.describe(),
                        event_id=item.link.event_id,
                    )
                )
            break
        else:
            out.count("decisions_not_reevaluated")
            out.add(
                Finding(
                    Check.POLICY,
                    "not-reevaluated",
                    Severity.NOTE,
                    item.workflow_id,
                    f"decision about {item.link.event_type} {item.link.event_id} not re-taken: "
                    + "; ".join(reasons),
                    sequence=item.link.sequence,
                    location=item.link.record.describe(),
                    event_id=item.link.event_id,
                )
            )

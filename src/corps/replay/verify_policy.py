"""Re-take recorded gate decisions and compare: the seam, the gate's own checks, and policy sets.

A :class:`DecisionReevaluator` gets each decided event with its recorded decision (in the gate's
order: by decision record time, partition, offset, so stateful policies can thread their counters)
and returns the decision re-taken, or a reason why it cannot say (then the next one is asked, and if
none can, a note is recorded). Two ship here:

* :class:`GateChecks`: decisions the gate takes itself — the default allow when no policy set is in
  force, and the refusal of an event id admitted before (checked against the chain);
* :class:`PolicySetReevaluator`: decisions of the policy engine, re-taken by the gate's own policy
  stage (:class:`~corps.orchestrator.policy_gate.EnginePolicy` over the pure :func:`corps.policy.evaluate`)
  under the set version the decision names, at the proposed record's timestamp (the evaluation time
  the gate uses); the effect, reason, policies, redacted fields, set, evaluation time and — for a
  redaction — the admitted bytes must all come out the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from corps.events import Envelope, EventCodec
from corps.orchestrator.policy import AllowAll, GateContext
from corps.orchestrator.policy import ProposedEvent as GateEvent
from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import CompiledPolicySet, PolicyEngine, PolicySet, PolicyState, compile_policy_set
from corps.policy.engine import SET_REF_PREFIX
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
        admitted: The admitted copy (for a redaction: what the gate wrote), if any.
        earlier: ``ce_id`` of every event admitted by earlier links of the same chain.
        gate_event: The event as the gate's policy saw it (needs the proposed record).
        context: What the gate's policy knew besides the event.
    """

    workflow_id: str
    link: ChainLink
    envelope: Envelope
    data: Mapping[str, Any]
    proposed: LogRecord | None
    admitted: LogRecord | None
    earlier: frozenset[str]
    gate_event: GateEvent | None = None
    context: GateContext | None = None


@dataclass(frozen=True)
class Reevaluation:
    """A decision re-taken: what the record should say (``None`` where it cannot be told)."""

    effect: str
    reason: str
    policies: tuple[tuple[str, str], ...] | None = None
    redacted_fields: tuple[str, ...] = ()
    set_digest: str | None = None
    evaluated_at_ms: int | None = None
    value: bytes | None = None


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
            return Reevaluation("DENY", f"{_DUPLICATE}{decided.envelope.id} was admitted before", ())
        if link.reason == self._allow and not link.policies:
            if decided.envelope.id in decided.earlier:
                return Reevaluation("DENY", f"{_DUPLICATE}{decided.envelope.id} was admitted before", ())
            return Reevaluation("ALLOW", self._allow, ())
        return "not a decision the gate takes without policies"


class PolicySetReevaluator:
    """Re-takes policy decisions with the gate's own policy stage under the set version they name.

    Each decision names its set (the ``set:<name>`` reference, chained with the link, and the v2
    ``set_digest`` field); the set with that content digest is evaluated through
    :class:`~corps.orchestrator.policy_gate.EnginePolicy` — the code the gate runs — at the proposed
    record's timestamp, with the throttle and budget counters threaded in decision order, per partition
    (as the gate keeps them), and ``split: even`` limits shared among the same partition count.

    Args:
        sets: Every set version that may be named (files, or versions read from the policies topic).
        codec: Re-encodes redacted payloads (as the gate does) so they can be compared byte for byte.
        partitions: The partition count P of the replayed topology's topics (the gate's P).
    """

    def __init__(
        self, sets: Iterable[PolicySet | CompiledPolicySet], codec: EventCodec, *, partitions: int = 1
    ) -> None:
        self._sets: dict[str, CompiledPolicySet] = {}
        for item in sets:
            if isinstance(item, CompiledPolicySet):
                compiled = item
                if item.partitions != partitions:
                    compiled = compile_policy_set(item.policy_set, item.version, partitions=partitions)
            else:
                compiled = compile_policy_set(item, partitions=partitions)
            self._sets[compiled.version.digest] = compiled
        self._codec = codec
        self._states: dict[int, PolicyState] = {}  # the gate keeps counters per partition

    def reevaluate(self, decided: DecidedEvent) -> Reevaluation | str:
        """Re-evaluate under the named set version, threading the counters in decision order."""
        link = decided.link
        digest = link.set_digest or _named_digest(link)
        if not digest:
            return "the decision names no policy-set version"
        compiled = self._sets.get(digest)
        if compiled is None:
            name = f"{link.set_name or '?'} version {link.set_version}"
            return f"policy set {name} ({digest[:12]}) is not available"
        if decided.gate_event is None or decided.context is None:
            return "the proposed record (whose timestamp is the evaluation time) was not read"
        partition = decided.gate_event.raw.partition
        state = self._states.get(partition, PolicyState())
        engine = PolicyEngine(compiled, state, partitions=compiled.partitions)
        decision = EnginePolicy(engine, self._codec).decide(decided.gate_event, decided.context)
        self._states[partition] = engine.state
        return Reevaluation(
            decision.effect,
            decision.reason,
            tuple((r.policy_id, r.policy_version) for r in decision.policies),
            tuple(decision.redacted_fields),
            decision.set_digest,
            None if decision.evaluated_at is None else int(decision.evaluated_at.timestamp() * 1000),
            decision.value,
        )


def _named_digest(link: ChainLink) -> str:
    named = [p for p in link.policies if p.policy_id.startswith(SET_REF_PREFIX)]
    return named[0].policy_version.partition("#")[2] if named else ""


def _compare(decided: DecidedEvent, again: Reevaluation) -> str:
    link = decided.link
    recorded = tuple((p.policy_id, p.policy_version) for p in link.policies)
    diffs = []
    if again.effect != link.effect:
        diffs.append(f"effect {again.effect} (recorded {link.effect})")
    if again.reason != link.reason:
        diffs.append(f"reason {again.reason!r} (recorded {link.reason!r})")
    if again.policies is not None and again.policies != recorded:
        diffs.append(f"policies {list(again.policies)} (recorded {list(recorded)})")
    if tuple(again.redacted_fields) != link.redacted_fields:
        diffs.append(f"redacted {list(again.redacted_fields)} (recorded {list(link.redacted_fields)})")
    if again.set_digest is not None and link.set_digest and again.set_digest != link.set_digest:
        diffs.append(f"set digest {again.set_digest[:12]} (recorded {link.set_digest[:12]})")
    if again.evaluated_at_ms is not None and link.evaluated_at_ms not in (None, again.evaluated_at_ms):
        diffs.append(f"evaluated at {again.evaluated_at_ms} ms (recorded {link.evaluated_at_ms} ms)")
    admitted = decided.admitted
    if again.value is not None and admitted is not None and admitted.value != again.value:
        diffs.append("the redacted payload differs from the admitted copy")
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
            difference = _compare(item, again)
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

"""The seam where policies plug into the gate: ``decide(event, context) -> Decision``.

The gate decodes and checks every proposed event, then asks its :class:`Policy` what to do with it.
:class:`AllowAll` (admit everything that decodes and carries a valid envelope) is the default; the
policy engine replaces it. A policy must be deterministic: time comes from the event
(``event.envelope.time``) or from ``context.now`` (an injected clock), never from the wall clock
directly, so replay can re-evaluate a recorded decision and get the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from corps.events import Envelope, RawRecord
from corps.events.lifecycle import Effect, PolicyRef
from corps.policy.decision import ApprovalRequirement
from corps.topology import Topology

__all__ = ["AllowAll", "Decision", "GateContext", "Policy", "ProposedEvent"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the gate does with one proposed event.

    Attributes:
        effect: ``ALLOW`` (admit as is), ``DENY`` (never reaches an agent), ``REDACT`` (admit
            ``value`` instead of the proposed value) or ``REQUIRE_APPROVAL`` (park the event, the
            redacted ``value`` if set, until ``approvals`` are granted).
        reason: Human-readable reason, recorded in the decision log.
        policies: The policies (id and version) that took part.
        redacted_fields: Payload fields removed (``REDACT``).
        value: For ``REDACT``: the Confluent-framed value to admit instead (the policy engine encodes it).
        set_name: The policy set the decision was taken under (``""``: none).
        set_version: Its version number (0: none).
        set_digest: Its content digest.
        evaluated_at: The evaluation time (the proposed record's timestamp), when policies ran.
        approvals: For ``REQUIRE_APPROVAL``: the sign-offs to open.

    A plain frozen dataclass, not a pydantic model: the gate builds one per proposed record.
    """

    effect: Effect
    reason: str
    policies: tuple[PolicyRef, ...] = ()
    redacted_fields: tuple[str, ...] = ()
    value: bytes | None = None
    set_name: str = ""
    set_version: int = 0
    set_digest: str = ""
    evaluated_at: datetime | None = None
    approvals: tuple[ApprovalRequirement, ...] = ()

    @classmethod
    def allow(cls, reason: str, policies: tuple[PolicyRef, ...] = ()) -> Decision:
        """Admit the event unchanged."""
        return cls(effect="ALLOW", reason=reason, policies=policies)

    @classmethod
    def deny(cls, reason: str, policies: tuple[PolicyRef, ...] = ()) -> Decision:
        """Refuse the event: it is recorded, never admitted."""
        return cls(effect="DENY", reason=reason, policies=policies)


@dataclass(frozen=True, slots=True)
class ProposedEvent:
    """A proposed event that decoded and carries a valid envelope.

    Attributes:
        envelope: Its CloudEvents attributes.
        data: The payload decoded with the writer's schema.
        event_name: The topology's name of a domain event (``None`` for a lifecycle report).
        raw: The record as consumed from the proposed topic.
        admitted_topic: Where it goes if admitted.
    """

    envelope: Envelope
    data: Mapping[str, Any]
    event_name: str | None
    raw: RawRecord
    admitted_topic: str


@dataclass(frozen=True, slots=True)
class GateContext:
    """What a policy may know besides the event.

    Attributes:
        topology: The topology the gate serves.
        sequence: The position the decision will take in the workflow's chain.
        now: The gate's injected clock at decision time (policies should prefer the event's time).
    """

    topology: Topology
    sequence: int
    now: datetime


class Policy(Protocol):
    """Decides about proposed events (the policy engine implements this)."""

    def decide(self, event: ProposedEvent, context: GateContext) -> Decision:
        """Return the decision about ``event``; must be deterministic and must not raise on bad data."""
        ...


class AllowAll:
    """The default policy: admit every event that decodes and carries a valid envelope."""

    reason = "admitted: decodes, valid envelope (default allow, no policies)"

    def __init__(self) -> None:
        self.decision = Decision.allow(self.reason)
        """The one decision (the gate uses it without building the arguments of :meth:`decide`)."""

    def decide(self, event: ProposedEvent, context: GateContext) -> Decision:
        """Allow."""
        return self.decision

"""The result of evaluating a policy set on one event: what to do, why, and under which versions.

A :class:`Decision` is plain data (frozen dataclasses) with a canonical JSON form, so the gate can
record it and replay can compare a re-evaluation with the record byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from corps.errors import ConfigurationError
from corps.policy.policy_set import SetVersion, canonical_json
from corps.policy.state import Counter

__all__ = ["ApprovalRequirement", "Charge", "Decision", "Effect", "Outcome", "PolicyHit"]


class Effect(StrEnum):
    """What the gate does with the event.

    ``redact`` admits a redacted copy (:attr:`Decision.data`); ``require_approval`` parks the event
    (redacted, if redactions fired too) until the approvals in :attr:`Decision.approvals` are granted.
    """

    ALLOW = "allow"
    DENY = "deny"
    REDACT = "redact"
    REQUIRE_APPROVAL = "require_approval"


class Outcome(StrEnum):
    """What one policy contributed to a decision."""

    ALLOW = "allow"
    DENY = "deny"
    REDACT = "redact"
    REQUIRE_APPROVAL = "require_approval"
    PASS = "pass"  # noqa: S105 — not a password
    """A throttle, budget or expiry that fired and was within its limit."""
    ERROR = "error"
    """The condition failed at run time (counted as deny or skipped, see ``on_error``)."""


@dataclass(frozen=True, slots=True)
class PolicyHit:
    """One policy that took part: it matched the event and its condition held (or failed).

    Attributes:
        policy_id: The policy's id.
        version: The policy's version.
        outcome: What it contributed.
        detail: A short explanation (the deny reason, the budget figures, the error ...).
    """

    policy_id: str
    version: int
    outcome: Outcome
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"policy_id": self.policy_id, "version": self.version, "outcome": self.outcome.value,
                "detail": self.detail}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ApprovalRequirement:
    """A human sign-off the event needs before it is admitted.

    Attributes:
        policy_id: The require_approval policy.
        version: Its version.
        approvers: Who may decide.
        quorum: How many grants admit the event.
        timeout: How long the request waits.
        on_timeout: ``reject`` or ``escalate``.
        escalate_to: Approvers added on escalation.
        reason: What the approvers are asked, from the policy.
    """

    policy_id: str
    version: int
    approvers: tuple[str, ...]
    quorum: int
    timeout: timedelta
    on_timeout: str
    escalate_to: tuple[str, ...]
    reason: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (the timeout in milliseconds)."""
        return {
            "policy_id": self.policy_id,
            "version": self.version,
            "approvers": list(self.approvers),
            "quorum": self.quorum,
            "timeout_ms": round(self.timeout.total_seconds() * 1000),
            "on_timeout": self.on_timeout,
            "escalate_to": list(self.escalate_to),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Any) -> ApprovalRequirement:
        """Rebuild from :meth:`to_json` output.

        Raises:
            ConfigurationError: The data is not a serialised requirement.
        """
        try:
            return cls(
                policy_id=str(data["policy_id"]),
                version=int(data["version"]),
                approvers=tuple(str(a) for a in data["approvers"]),
                quorum=int(data["quorum"]),
                timeout=timedelta(milliseconds=int(data["timeout_ms"])),
                on_timeout=str(data["on_timeout"]),
                escalate_to=tuple(str(a) for a in data["escalate_to"]),
                reason=str(data["reason"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"not an approval requirement: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Charge:
    """A counter an admitted event changed.

    Attributes:
        key: The counter's key in :class:`~corps.policy.PolicyState`.
        policy_id: The throttle or budget policy.
        amount: What was charged (1 for a throttle; the event's amount for a budget).
        counter: The counter's new value.
    """

    key: str
    policy_id: str
    amount: float
    counter: Counter

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"key": self.key, "policy_id": self.policy_id, "amount": self.amount,
                "counter": self.counter.to_json()}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    """What the gate does with one event, why, and under which policy-set version.

    Attributes:
        effect: The final effect.
        reason: Why (the first deciding policy's reason, or the default).
        set_version: The policy set the decision was taken under.
        event_id: ``ce_id`` of the event decided about.
        evaluated_at: The injected evaluation time.
        policies: Every policy that took part, in policy-id order.
        data: The redacted data when a redaction fired (``None`` otherwise: admit the data as is).
        redacted_fields: Concrete paths redacted.
        approvals: Sign-offs needed (effect ``require_approval``): all of them must be granted.
        charges: Counters changed (empty unless the event is admitted or parked).
    """

    effect: Effect
    reason: str
    set_version: SetVersion
    event_id: str
    evaluated_at: datetime
    policies: tuple[PolicyHit, ...] = ()
    data: Mapping[str, Any] | None = field(default=None, compare=True)
    redacted_fields: tuple[str, ...] = ()
    approvals: tuple[ApprovalRequirement, ...] = ()
    charges: tuple[Charge, ...] = ()

    @property
    def admitted(self) -> bool:
        """True when the event goes to the admitted topic now (allow or redact)."""
        return self.effect in (Effect.ALLOW, Effect.REDACT)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, the data included."""
        return {
            "effect": self.effect.value,
            "reason": self.reason,
            "set": {
                "name": self.set_version.name,
                "number": self.set_version.number,
                "digest": self.set_version.digest,
            },
            "event_id": self.event_id,
            "evaluated_at": self.evaluated_at.isoformat(),
            "policies": [hit.to_json() for hit in self.policies],
            "data": None if self.data is None else _jsonable(self.data),
            "redacted_fields": list(self.redacted_fields),
            "approvals": [a.to_json() for a in self.approvals],
            "charges": [c.to_json() for c in self.charges],
        }

    def canonical_json(self) -> str:
        """:meth:`to_json` as canonical JSON: equal decisions give equal text."""
        return canonical_json(self.to_json())


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime | timedelta):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)

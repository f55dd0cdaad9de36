"""Typed, frozen models of policy files: one policy = id, version, match, condition and one effect.

A policy names exactly one effect key (``allow``, ``deny``, ``redact``, ``require_approval``,
``throttle``, ``budget`` or ``expire``); the others stay unset. The CEL in ``condition`` (and a budget's
``amount``) is compiled and checked by :mod:`corps.policy.compiled`, not here.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from corps.topology._durations import Duration

__all__ = [
    "EFFECT_KEYS",
    "Allow",
    "Budget",
    "CounterScope",
    "CounterSplit",
    "DefaultEffect",
    "Deny",
    "Expire",
    "Match",
    "OnError",
    "Policy",
    "PolicyFile",
    "Redact",
    "RequireApproval",
    "Throttle",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

PolicyId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,99}$")]
"""Policy ids: lower case, digits, ``_ . -``; unique within a policy set."""
SetName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,99}$")]
"""Policy-set names (the key of the set on the policies topic)."""
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=512)]
"""An exact value or an ``fnmatch`` glob (``*``, ``?``, ``[...]``)."""
FieldPath = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_*][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\*))*$")
]
"""A path into the event's data: ``customer.email``; ``*`` stands for every list item or map value."""
Approver = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DefaultEffect(StrEnum):
    """What happens to an event no admitting policy (allow, redact, require_approval) fired for."""

    ALLOW = "allow"
    DENY = "deny"


class OnError(StrEnum):
    """What a condition that fails at run time (missing field, wrong type, non-boolean) counts as.

    ``deny`` fails closed: the event is denied with the error as the reason. ``skip`` treats the
    policy as not matching. Either way the error is named in the decision.
    """

    DENY = "deny"
    SKIP = "skip"


class CounterScope(StrEnum):
    """Envelope attributes a throttle or budget keeps separate counters for."""

    TENANT = "tenant"
    SOURCE = "source"
    TYPE = "type"
    STEP = "step"
    WORKFLOW = "workflow"


class CounterSplit(StrEnum):
    """How a throttle's or budget's limit is shared by the partitions of the proposed topics.

    Counters are kept per partition (so decisions are deterministic and replay re-checks them).
    ``even`` (the default): the configured limit bounds the counter key as a whole — each of the P
    partitions gets ``1/P`` of it, so the sum over partitions never exceeds the figure written.
    ``none``: the limit holds on each partition (up to P times the figure for a key spread over P
    partitions). Counters keyed ``by: [workflow]`` live on one partition and are never split.
    """

    EVEN = "even"
    NONE = "none"


class Match(BaseModel):
    """Which events a policy looks at; an empty list matches anything.

    ``events`` holds event type names: ``TicketOpened`` matches the last segment of ``ce_type``,
    ``demo.support.TicketOpened`` (with a dot) the whole of it; globs are allowed. ``sources`` match
    ``ce_source`` (an agent's name for the events it emits), ``tenants`` ``ce_tenant`` and ``steps``
    ``ce_step``.
    """

    model_config = _FROZEN

    events: tuple[Pattern, ...] = ()
    sources: tuple[Pattern, ...] = ()
    tenants: tuple[Pattern, ...] = ()
    steps: tuple[Pattern, ...] = ()


class Allow(BaseModel):
    """Admit the event (needed when the set's default effect is ``deny``)."""

    model_config = _FROZEN

    reason: str = "allowed by policy"


class Deny(BaseModel):
    """Refuse the event; ``reason`` is written in the decision record."""

    model_config = _FROZEN

    reason: str = Field(min_length=1)


class Redact(BaseModel):
    """Admit the event with fields of its data masked (strings) or removed.

    ``mask`` replaces a string with ``mask_text`` and any other value with null; ``remove`` deletes the
    key. The gate re-encodes the redacted data with the writer schema, so a removed field must have a
    default and a masked non-string field must be nullable.
    """

    model_config = _FROZEN

    fields: tuple[FieldPath, ...] = Field(min_length=1)
    mode: Literal["mask", "remove"] = "mask"
    mask_text: str = "[redacted]"
    reason: str = "fields redacted by policy"


class RequireApproval(BaseModel):
    """Park the event until ``quorum`` of ``approvers`` grant it; one denial rejects it.

    After ``timeout`` the request is rejected, or (``on_timeout: escalate``) widened to ``escalate_to``
    for one more ``timeout`` and then rejected.
    """

    model_config = _FROZEN

    approvers: tuple[Approver, ...] = Field(min_length=1)
    quorum: int = Field(default=1, ge=1)
    timeout: Duration = timedelta(hours=24)
    on_timeout: Literal["reject", "escalate"] = "reject"
    escalate_to: tuple[Approver, ...] = ()
    reason: str = "needs human approval"

    @model_validator(mode="after")
    def _consistent(self) -> RequireApproval:
        if len(set(self.approvers)) != len(self.approvers):
            raise ValueError("approvers are listed twice")
        if self.quorum > len(self.approvers):
            raise ValueError(f"quorum {self.quorum} exceeds the {len(self.approvers)} approvers named")
        if self.escalate_to and self.on_timeout != "escalate":
            raise ValueError("escalate_to needs on_timeout: escalate")
        if self.timeout <= timedelta(0):
            raise ValueError("timeout must be positive")
        return self


class Throttle(BaseModel):
    """At most ``rate`` events per ``per`` for each combination of the ``by`` attributes.

    A generic cell rate (GCRA, a token bucket in one integer): up to ``burst`` (default ``rate``) events
    may arrive at once; beyond the rate the event is denied. Time is the evaluation time (the record's).
    ``split`` (default ``even``) shares the rate and burst among the partitions (:class:`CounterSplit`).
    """

    model_config = _FROZEN

    rate: int = Field(ge=1)
    per: Duration = timedelta(seconds=1)
    burst: int | None = Field(default=None, ge=1)
    by: tuple[CounterScope, ...] = (CounterScope.TENANT,)
    split: CounterSplit = CounterSplit.EVEN
    reason: str = "rate limit exceeded"

    @model_validator(mode="after")
    def _positive(self) -> Throttle:
        if self.per <= timedelta(0):
            raise ValueError("per must be positive")
        return self


class Budget(BaseModel):
    """At most ``limit`` of ``amount`` (a CEL number, e.g. ``event.data.tokens``) per ``window``.

    Windows are aligned to the Unix epoch (``1d`` windows start at 00:00 UTC); an event that would take
    the window's sum over ``limit`` is denied, and the sum starts again at 0 in the next window.
    ``split`` (default ``even``) shares the limit among the partitions (:class:`CounterSplit`).
    """

    model_config = _FROZEN

    amount: str = Field(min_length=1)
    limit: float = Field(gt=0)
    window: Duration = timedelta(days=1)
    by: tuple[CounterScope, ...] = (CounterScope.TENANT,)
    split: CounterSplit = CounterSplit.EVEN
    reason: str = "budget exhausted"

    @model_validator(mode="after")
    def _positive(self) -> Budget:
        if self.window < timedelta(milliseconds=1):
            raise ValueError("window must be at least 1ms")
        return self


class Expire(BaseModel):
    """Refuse events older than ``max_age`` (evaluation time minus ``ce_time``): a latency budget."""

    model_config = _FROZEN

    max_age: Duration
    reason: str = "event too old"


EFFECT_KEYS = ("allow", "deny", "redact", "require_approval", "throttle", "budget", "expire")
"""The effect keys of a policy, exactly one of which is set."""


class Policy(BaseModel):
    """One policy: which events, under which condition, with which effect.

    Attributes:
        id: Unique within the set; named in every decision the policy takes part in.
        version: Bumped by the author when the policy's meaning changes; named in decisions.
        description: For people.
        match: Which events the policy looks at (cheap checks before any CEL runs).
        condition: CEL over ``event`` and ``context``; the policy fires when it is true (absent: always).
    """

    model_config = _FROZEN

    id: PolicyId
    version: int = Field(ge=1)
    description: str = ""
    match: Match = Match()
    condition: str | None = Field(default=None, min_length=1)
    allow: Allow | None = None
    deny: Deny | None = None
    redact: Redact | None = None
    require_approval: RequireApproval | None = None
    throttle: Throttle | None = None
    budget: Budget | None = None
    expire: Expire | None = None

    @model_validator(mode="after")
    def _one_effect(self) -> Policy:
        named = [key for key in EFFECT_KEYS if getattr(self, key) is not None]
        if len(named) != 1:
            found = ", ".join(named) if named else "none"
            raise ValueError(f"a policy has exactly one effect of {', '.join(EFFECT_KEYS)} (found: {found})")
        return self

    @property
    def effect_key(self) -> str:
        """The name of the policy's effect (``deny``, ``throttle`` ...)."""
        return next(key for key in EFFECT_KEYS if getattr(self, key) is not None)


class PolicyFile(BaseModel):
    """One ``topology/policies/*.yaml`` file: the set it belongs to, set options and its policies.

    ``default_effect`` and ``on_error`` may be given in any file of a set; files that give them must
    agree.
    """

    model_config = _FROZEN

    set: SetName
    default_effect: DefaultEffect | None = None
    on_error: OnError | None = None
    policies: tuple[Policy, ...] = ()

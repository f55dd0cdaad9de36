"""A policy set: every policy that applies together, with its version (content hash + a number).

The set's content — name, default effect, error handling and the policies sorted by id — is written as
canonical JSON (sorted keys, no spaces); its SHA-256 is the set's ``digest``. ``number`` increases by
one each time ``corps policy apply`` publishes a changed set under the same name (0: never published).
Because policies are kept sorted by id, the digest does not depend on the order files were given in.
Every field is in the content, defaults included (a throttle's or budget's ``split`` too), so the
digest names the meaning of the limits, not just the text of the files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from corps.errors import ConfigurationError
from corps.policy.models import DefaultEffect, OnError, Policy, SetName

__all__ = ["PolicySet", "SetVersion", "canonical_json"]


@dataclass(frozen=True, slots=True)
class SetVersion:
    """Which policy set a decision was taken under.

    Attributes:
        name: The set's name.
        number: Monotonic number given by ``corps policy apply`` (0 for a set never published).
        digest: Hex SHA-256 of the set's canonical content.
    """

    name: str
    number: int
    digest: str

    def __str__(self) -> str:
        return f"{self.name}@{self.number}#{self.digest[:12]}"


class PolicySet(BaseModel):
    """Every policy that applies together, and what happens when none of them admits an event.

    Attributes:
        name: The set's name (the key on the policies topic).
        number: Version number given at publication (0 when not published).
        default_effect: Effect when no allow / redact / require_approval policy fired.
        on_error: How a condition failing at run time counts.
        policies: Sorted by id (the order they are evaluated and reported in).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: SetName
    number: int = Field(default=0, ge=0)
    default_effect: DefaultEffect = DefaultEffect.ALLOW
    on_error: OnError = OnError.DENY
    policies: tuple[Policy, ...] = ()

    @field_validator("policies")
    @classmethod
    def _sorted_unique(cls, policies: tuple[Policy, ...]) -> tuple[Policy, ...]:
        ids = [p.id for p in policies]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"policy ids must be unique in a set: {', '.join(dup)}")
        return tuple(sorted(policies, key=lambda p: p.id))

    def content(self) -> dict[str, Any]:
        """The set's content as JSON-ready data (everything but ``number``)."""
        return self.model_dump(mode="json", exclude={"number"}, exclude_defaults=False)

    def canonical_json(self) -> str:
        """The content as canonical JSON: sorted keys, compact separators, UTF-8 kept."""
        return canonical_json(self.content())

    @property
    def digest(self) -> str:
        """Hex SHA-256 of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @property
    def version(self) -> SetVersion:
        """Name, number and digest together."""
        return SetVersion(self.name, self.number, self.digest)

    def numbered(self, number: int) -> PolicySet:
        """A copy carrying version ``number``."""
        return self.model_copy(update={"number": number})

    @classmethod
    def from_content(cls, content: Any, number: int) -> PolicySet:
        """Rebuild a set from :meth:`content` data (as read back from the policies topic).

        Raises:
            ConfigurationError: The data is not a valid policy set.
        """
        if not isinstance(content, dict):
            raise ConfigurationError("a policy set's content is a JSON object")
        try:
            return cls.model_validate({**_legacy_split(content), "number": number})
        except ValidationError as exc:
            raise ConfigurationError(f"invalid policy set content: {exc}") from exc


def _legacy_split(content: dict[str, Any]) -> dict[str, Any]:
    """Content published before ``split`` existed: its throttles and budgets held per partition.

    Such content is read as ``split: none`` — the meaning its decisions were taken under — so replay
    re-checks them; re-applying the files publishes a new version with the current default.
    """
    policies = content.get("policies")
    if not isinstance(policies, list):
        return content
    fixed = []
    for policy in policies:
        if isinstance(policy, dict):
            for key in ("throttle", "budget"):
                rule = policy.get(key)
                if isinstance(rule, dict) and "split" not in rule:
                    policy = {**policy, key: {**rule, "split": "none"}}
        fixed.append(policy)
    return {**content, "policies": fixed}


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no whitespace: the same data always gives the same text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

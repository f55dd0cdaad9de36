"""A workflow's decision records read as hash-chain links, and the result of checking them.

See :mod:`corps.replay.verify_chain` for the checks themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from corps.events.lifecycle import PolicyRef
from corps.orchestrator.chain import Link, event_digest, link_hash, link_version
from corps.replay.coverage import Coverage
from corps.replay.records import LogRecord
from corps.replay.topics import ReplayTopics
from corps.replay.verification import Check, Finding, Severity, Verification

__all__ = ["ChainChecker", "ChainLink", "ChainResult", "VerifiedLink"]

_ADMITTING = ("ALLOW", "REDACT")


@dataclass(frozen=True)
class ChainLink:
    """One decision record read as a chain link.

    The ``set_*`` fields and the evaluation time come with ``PolicyDecision`` v2; they are covered by
    :func:`~corps.orchestrator.chain.link_hash` in link format 2 (``chain_version``, read from the
    record's ``ce_chainversion`` header; 1 when absent).
    """

    record: LogRecord
    sequence: int
    event_id: str
    event_type: str
    effect: str
    reason: str
    policies: tuple[PolicyRef, ...]
    redacted_fields: tuple[str, ...]
    prev_hash: str
    hash: str
    set_name: str = ""
    set_version: int = 0
    set_digest: str = ""
    evaluated_at_ms: int | None = None
    chain_version: int = 1

    @classmethod
    def of(cls, record: LogRecord, data: Mapping[str, Any]) -> ChainLink:
        """Read a decoded ``PolicyDecision`` record.

        Raises:
            KeyError, TypeError, ValueError: A field is missing or has the wrong shape.
        """
        return cls(
            record=record,
            sequence=int(data["sequence"]),
            event_id=str(data["decided_event_id"]),
            event_type=str(data["decided_event_type"]),
            effect=str(data["effect"]),
            reason=str(data["reason"]),
            policies=tuple(
                PolicyRef(policy_id=str(p["policy_id"]), policy_version=str(p["policy_version"]))
                for p in data.get("policies") or ()
            ),
            redacted_fields=tuple(str(f) for f in data.get("redacted_fields") or ()),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
            set_name=str(data.get("set_name") or ""),
            set_version=int(data.get("set_version") or 0),
            set_digest=str(data.get("set_digest") or ""),
            evaluated_at_ms=None if data.get("evaluated_at_ms") is None else int(data["evaluated_at_ms"]),
            chain_version=link_version(record.headers),
        )

    @property
    def admitting(self) -> bool:
        """True when the link admitted its event (the event is on an admitted topic)."""
        return self.effect in _ADMITTING

    def recompute(self, event: LogRecord) -> str:
        """The link's hash over ``event`` as it sits in the log."""
        link = Link(
            event_id=self.event_id,
            event_type=self.event_type,
            effect=self.effect,
            reason=self.reason,
            policies=self.policies,
            redacted_fields=self.redacted_fields,
            set_name=self.set_name,
            set_version=self.set_version,
            set_digest=self.set_digest,
            evaluated_at_ms=self.evaluated_at_ms,
        )
        digest = event_digest(event.topic, event.key, event.headers, event.value)
        return link_hash(self.prev_hash, self.sequence, link, digest, self.chain_version)


@dataclass
class VerifiedLink:
    """A link and the event it was checked against.

    Attributes:
        link: The link.
        event: The record it decided about (``None`` when not found or not read).
        verified: True when the link's hash was recomputed from that record and matched.
    """

    link: ChainLink
    event: LogRecord | None
    verified: bool


@dataclass
class ChainResult:
    """One workflow's chain after checking.

    Attributes:
        workflow_id: The workflow.
        links: One link per sequence number present, in order.
        from_zero: True when the chain was read from its first link.
        errors: How many discrepancies were found in it.
    """

    workflow_id: str
    links: list[VerifiedLink] = field(default_factory=list)
    from_zero: bool = True
    errors: int = 0


class ChainChecker:
    """Where one workflow's chain check keeps its result and reports its findings."""

    def __init__(self, workflow_id: str, topics: ReplayTopics, coverage: Coverage, out: Verification) -> None:
        self.workflow_id = workflow_id
        self.topics = topics
        self.coverage = coverage
        self.out = out
        self.result = ChainResult(workflow_id)

    def error(self, kind: str, message: str, **where: Any) -> None:
        """Report a discrepancy (counted against the chain)."""
        self.result.errors += 1
        self.out.add(Finding(Check.CHAIN, kind, Severity.ERROR, self.workflow_id, message, **where))

    def note(self, kind: str, message: str, **where: Any) -> None:
        """Report something that could not be checked (not a discrepancy)."""
        self.out.add(Finding(Check.CHAIN, kind, Severity.NOTE, self.workflow_id, message, **where))

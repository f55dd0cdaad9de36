"""What ``--verify`` found: discrepancies (errors: the exit status is non-zero) and notes (limits).

Each :class:`Finding` names the check, the kind of discrepancy, the workflow, the chain link and the
record's place in the log (``topic[partition]@offset``), so an auditor can go straight to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Check", "Finding", "Severity", "Verification"]


class Check(StrEnum):
    """Which verification found it."""

    CHAIN = "chain"
    """The gate's hash chains against the events in the admitted and proposed topics."""
    STATE = "state"
    """Workflow state re-derived by the orchestrator's state machine against its recorded events."""
    POLICY = "policy"
    """Gate decisions re-evaluated under their recorded policy versions."""


class Severity(StrEnum):
    """Whether a finding fails the verification."""

    ERROR = "error"
    """A discrepancy: the log was altered, or does not follow from itself."""
    NOTE = "note"
    """Something that could not be checked (outside the range, no policy set, ...)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One discrepancy or limitation.

    Attributes:
        check: Which verification.
        kind: A short stable code (``forged``, ``missing``, ``altered``, ``reordered``, ``chain-gap``,
            ``link-altered``, ``duplicate``, ``state-mismatch``, ``decision-mismatch`` ...).
        severity: Error or note.
        workflow_id: The workflow concerned (``""`` when none can be told).
        message: What exactly, in words.
        sequence: The chain link concerned, if any.
        location: Where the record concerned sits (``topic[partition]@offset``), if any.
        event_id: The event concerned, if any.
    """

    check: Check
    kind: str
    severity: Severity
    workflow_id: str
    message: str
    sequence: int | None = None
    location: str | None = None
    event_id: str | None = None

    def sort_key(self) -> tuple[Any, ...]:
        """A deterministic order: workflow, link, check, kind, place, text."""
        return (
            self.workflow_id,
            -1 if self.sequence is None else self.sequence,
            self.check.value,
            self.kind,
            self.location or "",
            self.message,
        )

    def to_json(self) -> dict[str, Any]:
        """The ``finding`` line."""
        return {
            "record": "finding",
            "check": self.check.value,
            "kind": self.kind,
            "severity": self.severity.value,
            "workflow_id": self.workflow_id,
            "sequence": self.sequence,
            "location": self.location,
            "event_id": self.event_id,
            "message": self.message,
        }

    def describe(self) -> str:
        """One line for a terminal."""
        where = f" link {self.sequence}" if self.sequence is not None else ""
        at = f" at {self.location}" if self.location else ""
        return f"[{self.check}/{self.kind}] workflow {self.workflow_id}{where}{at}: {self.message}"


@dataclass
class Verification:
    """The findings of one verification and what was checked.

    Attributes:
        findings: Every finding (use :meth:`sorted_findings` for a stable order).
        counts: What was checked (``chains``, ``links``, ``links_verified``, ``events``,
            ``workflows_rederived``, ``orchestrator_events``, ``decisions_reevaluated`` ...).
    """

    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        """Record a finding."""
        self.findings.append(finding)

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter."""
        self.counts[name] = self.counts.get(name, 0) + amount

    @property
    def errors(self) -> list[Finding]:
        """The discrepancies, sorted."""
        return [f for f in self.sorted_findings() if f.severity is Severity.ERROR]

    @property
    def notes(self) -> list[Finding]:
        """The notes, sorted."""
        return [f for f in self.sorted_findings() if f.severity is Severity.NOTE]

    @property
    def ok(self) -> bool:
        """True when no discrepancy was found."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def sorted_findings(self) -> list[Finding]:
        """Every finding in a deterministic order (duplicates dropped)."""
        return sorted(set(self.findings), key=Finding.sort_key)

    def of_kind(self, kind: str) -> list[Finding]:
        """The findings of one kind, sorted."""
        return [f for f in self.sorted_findings() if f.kind == kind]

    def lines(self) -> Iterator[dict[str, Any]]:
        """The ``finding`` lines and the ``verification`` summary line of the JSONL report."""
        for finding in self.sorted_findings():
            yield finding.to_json()
        yield {
            "record": "verification",
            "ok": self.ok,
            "errors": len(self.errors),
            "notes": len(self.notes),
            "counts": dict(sorted(self.counts.items())),
        }

"""The result of one replay: what was read, the timelines, and (with ``--verify``) the findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corps.replay.filters import RecordFilter
from corps.replay.reader import ReplayRange, Span
from corps.replay.timeline import WorkflowStatus, WorkflowTimeline

if TYPE_CHECKING:
    from corps.replay.verification import Verification

__all__ = ["ReplayReport"]


@dataclass
class ReplayReport:
    """Everything one replay produced.

    Attributes:
        workflow: The topology's workflow name.
        topology_version: The topology's version.
        topics: The topics read.
        spans: The offsets read, per partition.
        range: The range asked for.
        selection: The filters applied.
        timelines: The chosen workflows' timelines, in order.
        records: How many records were read.
        unreadable: How many of them had no readable envelope or payload.
        verification: What ``--verify`` found (``None`` without it).
    """

    workflow: str
    topology_version: int
    topics: list[str]
    spans: list[Span]
    range: ReplayRange
    selection: RecordFilter
    timelines: list[WorkflowTimeline]
    records: int = 0
    unreadable: int = 0
    verification: Verification | None = field(default=None)

    @property
    def events(self) -> int:
        """How many timeline entries the chosen workflows have."""
        return sum(len(t.entries) for t in self.timelines)

    def by_status(self) -> dict[str, int]:
        """How many chosen workflows are in each recorded status (every status listed)."""
        counts = {status.value: 0 for status in WorkflowStatus}
        for timeline in self.timelines:
            counts[timeline.status.value] += 1
        return counts

    @property
    def ok(self) -> bool:
        """False when verification ran and found a discrepancy."""
        return self.verification is None or self.verification.ok

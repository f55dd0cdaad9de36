"""The JSONL form of a replay: canonical, byte-identical for the same range, with a digest.

One JSON object per line, keys sorted, no whitespace, UTF-8: a ``replay`` header (topology, topics,
the offsets read per partition, filters), then per workflow a ``workflow`` line followed by its
``event`` lines, then (with ``--verify``) one ``finding`` line per discrepancy and a ``verification``
line, and an ``end`` line. Nothing in it depends on the wall clock, the host or the order partitions
were read in, so two replays of the same range give the same bytes; :attr:`JsonlWriter.digest` (SHA-256
over those bytes) is the one-line proof.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from corps.replay.report import ReplayReport
from corps.replay.timeline import TimelineEntry, WorkflowTimeline

__all__ = [
    "FORMAT",
    "JsonlWriter",
    "canonical_line",
    "entry_json",
    "jsonable",
    "report_lines",
    "workflow_json",
]

FORMAT = 1


def jsonable(value: Any) -> Any:
    """A decoded Avro value as plain JSON values (bytes base64, times ISO 8601, decimals as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return str(value)


def canonical_line(obj: Mapping[str, Any]) -> str:
    """One canonical JSON line (sorted keys, compact, UTF-8 kept), without the newline."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def entry_json(workflow_id: str, index: int, entry: TimelineEntry) -> dict[str, Any]:
    """The ``event`` line of one timeline entry."""
    return {
        "record": "event",
        "workflow_id": workflow_id,
        "n": index,
        "event_id": entry.event_id,
        "type": entry.event_type,
        "name": entry.name,
        "stage": entry.stage.value,
        "source": entry.source,
        "step": entry.step,
        "time": _time(entry.time),
        "causation_id": entry.causation_id,
        "since_cause_ms": entry.since_cause_ms,
        "decisions": [d.to_json() for d in entry.decisions],
        "data": jsonable(entry.data),
        "locations": list(entry.locations),
        "problem": entry.problem,
        "attempt": entry.attempt,
    }


def workflow_json(timeline: WorkflowTimeline) -> dict[str, Any]:
    """The ``workflow`` line of one timeline."""
    return {
        "record": "workflow",
        "workflow_id": timeline.workflow_id,
        "workflow": timeline.workflow,
        "tenant": timeline.tenant,
        "status": timeline.status.value,
        "started_at": _time(timeline.started_at),
        "finished_at": _time(timeline.finished_at),
        "duration_ms": timeline.duration_ms,
        "events": len(timeline.entries),
        "effects": timeline.effects(),
        "policies": [list(p) for p in timeline.policy_versions()],
        "steps": [
            {
                "step": s.step,
                "agent": s.agent,
                "event": s.event,
                "time": _time(s.time),
                "duration_ms": s.duration_ms,
            }
            for s in timeline.steps
        ],
        "approvals": [
            {
                "step": a.step,
                "outcome": a.outcome,
                "approver": a.approver,
                "time": _time(a.time),
                "reason": a.reason,
            }
            for a in timeline.approvals
        ],
        "compensations": [
            {"step": c.step, "outcome": c.outcome, "time": _time(c.time), "attempt": c.attempt}
            for c in timeline.compensations
        ],
        "retries": timeline.retries,
        "failed_step": timeline.failed_step,
        "reason": timeline.reason,
    }


def report_lines(report: ReplayReport) -> Iterator[dict[str, Any]]:
    """Every line of the report, in order, as objects."""
    yield {
        "record": "replay",
        "format": FORMAT,
        "workflow": report.workflow,
        "topology_version": report.topology_version,
        "topics": list(report.topics),
        "range": report.range.describe(),
        "spans": [[s.topic, s.partition, s.start, s.end] for s in report.spans],
        "filter": report.selection.describe(),
        "records": report.records,
        "unreadable": report.unreadable,
    }
    for timeline in report.timelines:
        yield workflow_json(timeline)
        for index, entry in enumerate(timeline.entries):
            yield entry_json(timeline.workflow_id, index, entry)
    if report.verification is not None:
        yield from report.verification.lines()
    yield {
        "record": "end",
        "workflows": len(report.timelines),
        "events": report.events,
        "statuses": report.by_status(),
    }


class JsonlWriter:
    """Writes canonical lines to a text stream and hashes exactly what it wrote.

    Args:
        out: Where to write (a file opened with ``encoding="utf-8"``, or ``sys.stdout``).
    """

    def __init__(self, out: IO[str] | None) -> None:
        self._out = out
        self._hash = hashlib.sha256()
        self.lines = 0

    def write(self, obj: Mapping[str, Any]) -> None:
        """Write one line."""
        line = canonical_line(obj) + "\n"
        self._hash.update(line.encode())
        if self._out is not None:
            self._out.write(line)
        self.lines += 1

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of everything written so far."""
        return f"sha256:{self._hash.hexdigest()}"

    def write_report(self, report: ReplayReport) -> str:
        """Write the whole report; return its digest."""
        for obj in report_lines(report):
            self.write(obj)
        return self.digest

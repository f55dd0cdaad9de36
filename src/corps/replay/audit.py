"""One call for an audit: replay a topology's whole log, verify it, write the HTML and JSONL reports.

``make demo`` (and anyone scripting an audit) calls :func:`audit` and prints
:meth:`AuditSummary.describe`::

    summary = audit(topology, kafka, registry, Path("reports"))
    print(summary.describe())
    sys.exit(0 if summary.ok else 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corps.events import SchemaRegistry
from corps.replay.render_html import render_html
from corps.replay.render_jsonl import JsonlWriter
from corps.replay.report import ReplayReport
from corps.replay.session import Replayer, ReplayOptions
from corps.replay.verify_policy import DecisionReevaluator
from corps.settings import KafkaSettings, RegistrySettings
from corps.topology import Topology

__all__ = ["AuditSummary", "audit"]


@dataclass(frozen=True)
class AuditSummary:
    """What an audit found and where it wrote it.

    Attributes:
        html: The HTML report.
        jsonl: The JSONL report.
        digest: SHA-256 of the JSONL report (the same for the same range).
        ok: True when verification found no discrepancy.
        workflows: How many workflows were replayed.
        events: How many events their timelines hold.
        statuses: Workflows per recorded status (only statuses present).
        errors: Every discrepancy, one line each.
        notes: How many notes (things that could not be checked).
        report: The full replay report.
    """

    html: Path
    jsonl: Path
    digest: str
    ok: bool
    workflows: int
    events: int
    statuses: dict[str, int]
    errors: list[str]
    notes: int
    report: ReplayReport = field(repr=False, compare=False)

    def describe(self) -> str:
        """A few lines for a terminal."""
        verdict = (
            "verified: no discrepancy"
            if self.ok
            else f"verification FAILED: {len(self.errors)} discrepancies"
        )
        statuses = ", ".join(f"{k} {v}" for k, v in self.statuses.items())
        lines = [
            f"replay: {self.workflows} workflows, {self.events} events ({statuses})",
            f"{verdict} ({self.notes} notes)",
            *(f"  {e}" for e in self.errors[:20]),
            f"HTML report: {self.html}",
            f"JSONL: {self.jsonl}  digest {self.digest}",
        ]
        return "\n".join(lines)


def audit(
    topology: Topology,
    kafka: KafkaSettings,
    registry: RegistrySettings | SchemaRegistry,
    out_dir: Path,
    *,
    options: ReplayOptions | None = None,
    reevaluators: Sequence[DecisionReevaluator] = (),
    name: str | None = None,
) -> AuditSummary:
    """Replay and verify ``topology``'s log; write ``<name>.html`` and ``<name>.jsonl`` into ``out_dir``.

    Args:
        topology: The topology.
        kafka: How to reach Kafka.
        registry: The registry (settings or a client).
        out_dir: Where the reports go (created if missing).
        options: What to replay (default: everything, verified).
        reevaluators: Who re-takes policy decisions.
        name: File name stem (default ``replay-<workflow>``).

    Raises:
        ReplayInputError, ReplayUnavailableError: As :meth:`Replayer.run`.
    """
    chosen = options or ReplayOptions(verify=True)
    with Replayer(topology, kafka, registry, reevaluators=reevaluators) as replayer:
        report = replayer.run(chosen)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or f"replay-{topology.workflow.name}"
    jsonl, html = out_dir / f"{stem}.jsonl", out_dir / f"{stem}.html"
    with jsonl.open("w", encoding="utf-8") as handle:
        digest = JsonlWriter(handle).write_report(report)
    with html.open("w", encoding="utf-8") as handle:
        render_html(report, handle, digest=digest)
    verification = report.verification
    return AuditSummary(
        html=html,
        jsonl=jsonl,
        digest=digest,
        ok=report.ok,
        workflows=len(report.timelines),
        events=report.events,
        statuses={k: v for k, v in report.by_status().items() if v},
        errors=[f.describe() for f in verification.errors] if verification else [],
        notes=len(verification.notes) if verification else 0,
        report=report,
    )

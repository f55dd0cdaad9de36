"""Replay the event log for audit: timelines, tamper evidence, re-derived state, shadow runs.

Typical use::

    with Replayer(topology, kafka, registry) as replayer:
        report = replayer.run(ReplayOptions(verify=True))
    digest = JsonlWriter(sys.stdout).write_report(report)     # byte-identical for the same range

or, for a scripted audit (``make demo``), :func:`audit`, which also writes the HTML report. Handlers
make tool and LLM calls through :func:`tool_call` / :func:`atool_call` so a shadow run
(:func:`shadow_run`) can substitute the recorded results.
"""

from corps.replay.audit import AuditSummary, audit
from corps.replay.errors import ReplayError, ReplayInputError, ReplayUnavailableError, UnrecordedCallError
from corps.replay.filters import RecordFilter
from corps.replay.reader import ReplayRange, Span
from corps.replay.recording import CallRecord, CallTape, atool_call, recording, replaying, tool_call
from corps.replay.render_html import render_html
from corps.replay.render_jsonl import JsonlWriter
from corps.replay.render_table import render_table
from corps.replay.report import ReplayReport
from corps.replay.session import Replayer, ReplayOptions, topology_readers
from corps.replay.shadow import ShadowReport, shadow_run
from corps.replay.timeline import Stage, WorkflowStatus, WorkflowTimeline
from corps.replay.verification import Finding, Verification
from corps.replay.verify_policy import DecisionReevaluator, PolicySetReevaluator

__all__ = [
    "AuditSummary",
    "CallRecord",
    "CallTape",
    "DecisionReevaluator",
    "Finding",
    "JsonlWriter",
    "PolicySetReevaluator",
    "RecordFilter",
    "ReplayError",
    "ReplayInputError",
    "ReplayOptions",
    "ReplayRange",
    "ReplayReport",
    "ReplayUnavailableError",
    "Replayer",
    "ShadowReport",
    "Span",
    "Stage",
    "UnrecordedCallError",
    "Verification",
    "WorkflowStatus",
    "WorkflowTimeline",
    "atool_call",
    "audit",
    "recording",
    "render_html",
    "render_table",
    "replaying",
    "shadow_run",
    "tool_call",
    "topology_readers",
]

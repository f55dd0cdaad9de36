"""The public surface of corps.replay is small and pinned."""

from __future__ import annotations

import corps.replay


def test_exports_are_pinned() -> None:
    assert sorted(corps.replay.__all__) == [
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


def test_every_export_exists() -> None:
    for name in corps.replay.__all__:
        assert hasattr(corps.replay, name), name


def test_errors_share_the_root() -> None:
    from corps.errors import ConfigurationError, CorpsError

    assert issubclass(corps.replay.ReplayError, CorpsError)
    assert issubclass(corps.replay.ReplayInputError, ConfigurationError)
    assert corps.replay.ReplayUnavailableError.retriable

"""The runtime's public surface is pinned, and it never exposes (or needs) the engine's library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import corps.runtime


def test_runtime_exports_are_pinned() -> None:
    assert sorted(corps.runtime.__all__) == sorted(
        [
            "Agent",
            "AgentSettings",
            "AgentWorker",
            "DependencyUnavailableError",
            "ErrorCode",
            "EventContext",
            "HandlerError",
            "HandlerTimeoutError",
            "InvalidInputError",
            "NonRetryableError",
            "PolicyViolationError",
            "RetryPolicy",
            "RetryableError",
            "Routing",
            "bind_context",
            "compensation",
            "current_context",
            "handler",
        ]
    )
    for name in corps.runtime.__all__:
        assert hasattr(corps.runtime, name), name


def test_agents_and_the_runtime_never_import_faust() -> None:
    code = (
        "import sys, corps.runtime, corps.cli.agent, services.support_agents.refunds; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('faust', 'mode', 'aiokafka')))"
    )
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == "[]"

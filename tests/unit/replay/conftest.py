"""Fixtures of the replay unit tests: logs written by the real (pure) gate and orchestrator."""

from __future__ import annotations

import pytest
from replay_log import LogMaker


@pytest.fixture
def maker() -> LogMaker:
    """Four workflows: completed (wf-1), compensated (wf-2), timed out (wf-3), failed for a human (wf-4)."""
    made = LogMaker()
    made.happy("wf-1")
    made.compensated("wf-2", 10)
    made.timed_out("wf-3", 30, partition=1)
    made.failed("wf-4", 60, partition=1)
    return made

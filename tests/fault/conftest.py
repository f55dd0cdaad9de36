"""Fixtures of the fault tests: the orchestrator tests' provisioned four-step topology.

``bed`` / ``make_bed`` are the ones of ``tests/integration/orchestrator/conftest.py`` (a fresh topology
on the session stack per test, closed afterwards), so the kill -9 tests do not each restate them.
"""

from __future__ import annotations

from tests.integration.orchestrator.conftest import bed, make_bed

__all__ = ["bed", "make_bed"]

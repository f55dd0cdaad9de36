"""Fixtures of the policy integration tests: the orchestrator tests' provisioned topology beds."""

from tests.integration.orchestrator.conftest import bed, make_bed

__all__ = ["bed", "make_bed"]

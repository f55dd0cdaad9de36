"""Fixtures of the saga tests: state machines over small topologies (no broker anywhere)."""

from __future__ import annotations

import pytest
from saga_helpers import LINEAR, MIXED, topology_of

from corps.orchestrator import SagaMachine


@pytest.fixture
def linear() -> SagaMachine:
    return SagaMachine(topology_of(LINEAR))


@pytest.fixture
def mixed() -> SagaMachine:
    return SagaMachine(topology_of(MIXED))

"""Fixtures of the orchestrator integration tests: a provisioned four-step topology per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from tests.integration.orchestrator.orch_bed import Bed, write_topology

from corps.dev import StackInfo
from corps.settings import KafkaSettings, RegistrySettings


@pytest.fixture
def make_bed(
    stack: StackInfo,
    admin: AdminClient,
    unique: Callable[[str], str],
    kafka_config: dict[str, str],
    tmp_path: Path,
) -> Iterator[Callable[..., Bed]]:
    """Make a bed: ``make_bed(timeout="2s")`` provisions a fresh four-step topology on the stack."""
    kafka = KafkaSettings(bootstrap_servers=kafka_config["bootstrap.servers"])
    registry = RegistrySettings(url=stack.schema_registry_url)

    made: list[Bed] = []

    def make(**options: str) -> Bed:
        file = write_topology(tmp_path, unique("orch"), **options)
        made.append(Bed.make(admin, kafka, registry, file, unique))
        return made[-1]

    yield make
    for bed in made:
        bed.close()


@pytest.fixture
def bed(make_bed: Callable[..., Bed]) -> Bed:
    """A four-step topology with generous step deadlines."""
    return make_bed()

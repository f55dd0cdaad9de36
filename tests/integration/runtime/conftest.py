"""Fixtures of the agent runtime integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient
from tests.integration.runtime.harness import Bed

from corps.dev import StackInfo
from corps.settings import KafkaSettings, RegistrySettings


@pytest.fixture
def bed(
    stack: StackInfo, admin: AdminClient, unique: Callable[[str], str], kafka_config: dict[str, str]
) -> Iterator[Bed]:
    """A test bed with its own lifecycle topic (every lifecycle schema registered on it)."""
    bed = Bed(
        kafka=KafkaSettings(bootstrap_servers=kafka_config["bootstrap.servers"]),
        registry=RegistrySettings(url=stack.schema_registry_url),
        admin=admin,
        unique=unique,
    )
    bed.with_lifecycle()
    yield bed
    bed.close()

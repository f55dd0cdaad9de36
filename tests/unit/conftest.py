"""Unit tier: pure logic only. A unit test that asks for the real stack is a mistake, caught here."""

from __future__ import annotations

import pytest

_BROKER_FIXTURES = frozenset(
    {"stack", "kafka_config", "registry_url", "admin", "local_stack", "scratch_stack", "create_topic"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fail collection when a unit test depends (even transitively) on a broker fixture."""
    for item in items:
        used = _BROKER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if used and "tests/unit/" in str(item.path).replace("\\", "/"):
            raise pytest.UsageError(f"{item.nodeid}: unit tests must not use broker fixtures {sorted(used)}")

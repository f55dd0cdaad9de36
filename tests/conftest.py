"""Session fixtures for every tier that talks to Kafka and the schema registry.

The stack is lazy: nothing starts unless a selected test asks for ``stack`` (directly or through
``kafka_config``, ``registry_url``, ``admin``, ``create_topic`` or ``local_stack``). Which stack:

* ``KAFKA_BOOTSTRAP_SERVERS`` and ``SCHEMA_REGISTRY_URL`` both set: that existing cluster and registry.
* Otherwise the project's own provisioner (the code behind ``corps dev up``) with its own home,
  ``.corps/test-stack`` in the repository (gitignored). The session wipes that home first (a clean
  cluster every run), starts the stack, and stops it at the end, keeping its data and logs for a
  post-mortem until the next run. (testcontainers is not used: these machines have no Docker engine.)

Downloads (Kafka jars, the registry distribution) happen right after collection when a selected test
needs the stack, so a cold cache is not billed to the first test's timeout.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from corps.dev import LocalStack, StackConfig, StackInfo, default_cache_dir
from corps.settings import CorpsSettings

REPO = Path(__file__).resolve().parents[1]
TEST_HOME = REPO / ".corps" / "test-stack"
_STACK_FIXTURES = frozenset(
    {"stack", "kafka_config", "registry_url", "admin", "create_topic", "local_stack", "scratch_stack"}
)


@dataclass(frozen=True)
class _Session:
    info: StackInfo
    kafka_config: dict[str, str]
    local: LocalStack | None


def _settings() -> CorpsSettings:
    settings = CorpsSettings.from_env(os.environ)
    if (settings.kafka is None) != (settings.registry is None):
        raise pytest.UsageError(
            "set both KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL (an existing cluster) or neither "
            "(the tests start their own local stack)"
        )
    return settings


def _local_stack(home: Path = TEST_HOME, **overrides: Any) -> LocalStack:
    settings: dict[str, Any] = {
        "home": home,
        "cache_dir": default_cache_dir(os.environ),
        "kafka_port": None,
        "controller_port": None,
        "registry_port": None,
        "search_path": os.environ.get("PATH"),
    }
    return LocalStack(StackConfig(**(settings | overrides)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fetch the stack's artifacts (no start) when a selected test will need the local stack."""
    if session.config.option.collectonly:
        return
    wanted = set().union(*(getattr(item, "fixturenames", ()) for item in session.items))
    env_cluster = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("SCHEMA_REGISTRY_URL")
    if "scratch_stack" in wanted or (not env_cluster and _STACK_FIXTURES & wanted):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("corps: fetching Kafka + schema registry (cached after the first run)")
        _local_stack().prepare()


@pytest.fixture(scope="session")
def _corps_session() -> Iterator[_Session]:
    settings = _settings()
    if settings.kafka is not None and settings.registry is not None:
        info = StackInfo(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            schema_registry_url=settings.registry.url,
            external=True,
        )
        yield _Session(info, settings.kafka.client_config(), None)
        return
    local = _local_stack()
    local.down(purge=True)
    info = local.up()
    try:
        yield _Session(info, {"bootstrap.servers": info.bootstrap_servers}, local)
    finally:
        local.down()


@pytest.fixture(scope="session")
def stack(_corps_session: _Session) -> StackInfo:
    """The running Kafka + schema registry (external when the environment names one)."""
    return _corps_session.info


@pytest.fixture
def kafka_config(stack: StackInfo, _corps_session: _Session) -> dict[str, str]:
    """A fresh confluent-kafka configuration dict for the stack (add your own keys freely)."""
    return dict(_corps_session.kafka_config)


@pytest.fixture(scope="session")
def registry_url(stack: StackInfo) -> str:
    """Base URL of the Confluent-compatible schema registry API."""
    return stack.schema_registry_url


@pytest.fixture(scope="session")
def admin(stack: StackInfo, _corps_session: _Session) -> AdminClient:
    """A confluent-kafka AdminClient on the stack."""
    return AdminClient(dict(_corps_session.kafka_config))


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Make uuid-suffixed names for topics, group ids, subjects: ``unique("orders")``."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture
def create_topic(admin: AdminClient, unique: Callable[[str], str]) -> Callable[..., str]:
    """Create a uuid-suffixed topic and return its name: ``create_topic("orders", partitions=3)``."""

    def create(prefix: str = "test", *, partitions: int = 3, config: dict[str, str] | None = None) -> str:
        name = unique(prefix)
        futures = admin.create_topics(
            [NewTopic(name, partitions, 1, config=config or {})], request_timeout=30
        )
        futures[name].result(timeout=60)
        return name

    return create


@pytest.fixture(scope="session")
def local_stack(stack: StackInfo, _corps_session: _Session) -> LocalStack:
    """The provisioner's LocalStack behind ``stack``, for tests that restart or kill its services."""
    if _corps_session.local is None:
        pytest.skip(
            "an external cluster is in use (KAFKA_BOOTSTRAP_SERVERS / SCHEMA_REGISTRY_URL): this test "
            "restarts the local stack's processes, which corps does not own there"
        )
    return _corps_session.local


@pytest.fixture
def scratch_stack(tmp_path: Path) -> Iterator[Callable[..., LocalStack]]:
    """Make extra LocalStacks with homes under ``tmp_path`` (``StackConfig`` overrides as keywords).

    Every stack made is stopped and purged at teardown. For tests of the provisioner itself; they use
    the real download cache and start real JVMs, independent of the session ``stack``.
    """
    made: list[LocalStack] = []

    def make(name: str = "stack", **overrides: Any) -> LocalStack:
        made.append(_local_stack(tmp_path / name, **overrides))
        return made[-1]

    yield make
    for local in made:
        local.down(purge=True)

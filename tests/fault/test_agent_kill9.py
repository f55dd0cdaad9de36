"""kill -9 of an agent in the middle of 10,000 events: every input has exactly one committed output."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from tests.integration.runtime.agents_for_tests import ticket
from tests.integration.runtime.harness import AgentProcess, Bed, committed

from corps.dev import StackInfo
from corps.events.demo import TicketOpened, TicketTriaged
from corps.settings import KafkaSettings, RegistrySettings

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]

COUNT = 10_000
TARGET = "tests.integration.runtime.agents_for_tests:TRIAGE"


@pytest.fixture
def bed(
    stack: StackInfo, admin: AdminClient, unique: Callable[[str], str], kafka_config: dict[str, str]
) -> Iterator[Bed]:
    bed = Bed(
        kafka=KafkaSettings(bootstrap_servers=kafka_config["bootstrap.servers"]),
        registry=RegistrySettings(url=stack.schema_registry_url),
        admin=admin,
        unique=unique,
    )
    bed.with_lifecycle()
    yield bed
    bed.close()


def _wait(predicate: Callable[[], bool], what: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill9_mid_stream_loses_and_duplicates_nothing(bed: Bed, tmp_path: Path) -> None:
    source, sink = bed.topic("opened", partitions=6), bed.topic("triaged", partitions=6)
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}),
        instance_id=bed.unique("replica"),
        batch={"max_records": 250, "max_wait_ms": 20},
    )
    group = settings.group_id or "triage"
    sent = [bed.publish(source, ticket(n), workflow_id=f"wf-{n % 500}").id for n in range(COUNT)]
    bed.flush()

    with AgentProcess(TARGET, settings, tmp_path, "first") as first:
        _wait(
            lambda: committed(bed.config, group, source) >= COUNT // 5 or not first.alive(), "first commits"
        )
        assert first.alive(), first.log()
        first.kill()
    done_at_kill = committed(bed.config, group, source)
    assert done_at_kill < COUNT, "the kill came too late to test anything"

    with AgentProcess(TARGET, settings, tmp_path, "second") as second:
        second.wait_running()
        _wait(lambda: committed(bed.config, group, source) == COUNT or not second.alive(), "the rest")
        assert second.alive(), second.log()
        out = bed.read(sink, COUNT, settle_s=2.0)
        assert second.terminate() == 0, second.log()

    causes = Counter(bed.decode(r, TicketTriaged)[0].causation_id for r in out)
    assert len(out) == COUNT
    assert set(causes) == set(sent)  # no input lost
    assert max(causes.values()) == 1  # no output duplicated for a read_committed reader

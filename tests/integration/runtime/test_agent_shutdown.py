"""SIGTERM: the replica finishes and commits the batch in flight, leaves, and a successor loses nothing."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from tests.integration.runtime.agents_for_tests import ticket
from tests.integration.runtime.harness import AgentProcess, Bed, committed

from corps.events.demo import TicketOpened, TicketTriaged

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = 3000
TARGET = "tests.integration.runtime.agents_for_tests:SLOW_TRIAGE"


def _wait(predicate: object, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigterm_drains_and_commits_so_nothing_is_lost_or_repeated(bed: Bed, tmp_path: Path) -> None:
    source, sink = bed.topic("opened"), bed.topic("triaged")
    # at_least_once on purpose: without transactions to hide a half-done batch, only a clean drain
    # (outputs acknowledged, then offsets committed, then leave) keeps the log free of duplicates.
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}),
        delivery="at_least_once",
        batch={"max_records": 100, "max_wait_ms": 20, "max_concurrency": 1},  # ~1 ms per event, in order
    )
    group = settings.group_id or ""
    sent = [bed.publish(source, ticket(n), workflow_id=f"wf-{n % 97}").id for n in range(COUNT)]
    bed.flush()
    with AgentProcess(TARGET, settings, tmp_path, "first") as first:
        first.wait_running()
        _wait(lambda: committed(bed.config, group, source) >= COUNT // 10 or not first.alive())
        assert first.terminate() == 0, first.log()
    done = committed(bed.config, group, source)
    assert done < COUNT, "stopped too late to test a drain"
    assert "stopped" in first.log()
    outputs = bed.read(sink, done, settle_s=1.0)
    assert len(outputs) == done  # every committed input has its output, and nothing beyond
    with AgentProcess(TARGET, settings, tmp_path, "second") as second:
        second.wait_running()
        _wait(lambda: committed(bed.config, group, source) == COUNT or not second.alive())
        outputs = bed.read(sink, COUNT, settle_s=1.0)
        assert second.terminate() == 0, second.log()
    causes = Counter(bed.decode(r, TicketTriaged)[0].causation_id for r in outputs)
    assert set(causes) == set(sent)
    assert max(causes.values()) == 1

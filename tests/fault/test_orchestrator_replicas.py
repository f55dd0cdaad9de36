"""Two orchestrator replicas share the partitions; one is killed with -9 mid-run, the other takes over.

400 concurrent workflows, each failing at a random step (or not at all), driven by the scripted
stand-in for agents. Both replicas run as their own OS processes in one consumer group
(:mod:`tests.fault.orchestrator_replica`). Counted from the log with read_committed consumers
afterwards: every workflow has exactly one terminal event, its compensations were requested exactly
once each in reverse order, no orchestrator event was written twice and no event was admitted twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.orchestrator.orch_bed import Bed, Script, StandIn, Tail, header

from corps.events import RawRecord
from corps.events.lifecycle import (
    CompensationRequested,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
)
from corps.orchestrator.restore import read_partitions

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]

WORKFLOWS = 400
TERMINAL = {m.event_type for m in (WorkflowCompleted, WorkflowCompensated, WorkflowFailed)}
REPO = Path(__file__).resolve().parents[2]


class Replica:
    """One replica process (``tests.fault.orchestrator_replica``)."""

    def __init__(self, bed: Bed, instance_id: str, log: Path) -> None:
        self.log = log
        args = [sys.executable, "-m", "tests.fault.orchestrator_replica", str(bed.file), instance_id]
        args += [bed.kafka.bootstrap_servers, bed.registry.url]
        with log.open("ab") as out:
            self.process = subprocess.Popen(args, cwd=REPO, env=dict(os.environ), stdout=out, stderr=out)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def assigned(self) -> list[list[int]]:
        """The partition sets this replica was given, in order (its log's ``partitions [...] assigned``)."""
        found = []
        for line in self.text().splitlines():
            if " assigned: " in line:
                inside = line.split("partitions [", 1)[1].split("]", 1)[0]
                found.append([int(p) for p in inside.split(",") if p.strip()])
        return found

    def owns(self) -> list[int]:
        """The partitions of its latest assignment (``[]`` before any)."""
        assigned = self.assigned()
        return assigned[-1] if assigned else []

    def kill9(self) -> None:
        assert self.process.poll() is None, f"replica died by itself:\n{self.text()[-3000:]}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _terminal(records: list[RawRecord]) -> int:
    return sum(
        header(r, "ce_type") in TERMINAL and header(r, "ce_source") == "corps/orchestrator" for r in records
    )


def _await(predicate: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s} s")
        time.sleep(0.2)


def test_the_surviving_replica_takes_over_the_killed_ones_partitions(
    bed: Bed, unique: Callable[[str], str], tmp_path: Path
) -> None:
    rng = random.Random(20261124)
    workflows = [f"wf-{n:04d}-{unique('r')[-6:]}" for n in range(WORKFLOWS)]
    fail_at = {wf: f"s{k}" for wf in workflows if (k := rng.randint(0, 4))}
    lifecycle = Tail(bed, bed.topics.lifecycle)
    first = Replica(bed, "r1", tmp_path / "r1.log")
    second = Replica(bed, "r2", tmp_path / "r2.log")
    try:
        # Both in the group, each with its share of the 3 partitions (range: 2 + 1).
        _await(
            lambda: bool(first.owns()) and sorted(first.owns() + second.owns()) == [0, 1, 2],
            "the replicas did not share the partitions",
        )
        with StandIn(bed, Script(fail_at=fail_at)):
            for wf in workflows:
                bed.start(wf)
            bed.flush()
            lifecycle.until(lambda r: _terminal(r) >= WORKFLOWS // 4, timeout_s=60)
            assert _terminal(lifecycle.records) < WORKFLOWS, "the run ended before the kill"
            first.kill9()
            lifecycle.until(lambda r: _terminal(r) >= WORKFLOWS, timeout_s=75)
            lifecycle.poll(2.0)
    finally:
        first.stop()
        second.stop()
        lifecycle.close()
    assert second.owns() == [0, 1, 2], f"r2 did not take over: {second.assigned()}"

    records = [r for r in lifecycle.records if header(r, "ce_source") == "corps/orchestrator"]
    ids = Counter(header(r, "ce_id") for r in records)
    assert [i for i, n in ids.items() if n > 1] == [], "an orchestrator event was written twice"
    per_wf: dict[str, list[tuple[str, object]]] = {}
    for record in records:
        envelope, payload = bed.decode_lifecycle(record)
        per_wf.setdefault(envelope.workflow_id, []).append((envelope.type, payload))
    assert sorted(per_wf) == sorted(workflows)
    for wf in workflows:
        kinds = [t.rsplit(".", 1)[1] for t, _ in per_wf[wf]]
        assert sum(t in TERMINAL for t, _ in per_wf[wf]) == 1, (wf, kinds)
        assert kinds.count("WorkflowStarted") == 1, (wf, kinds)
        asked = [p.step for _, p in per_wf[wf] if isinstance(p, CompensationRequested)]
        if wf not in fail_at:
            assert kinds[-1] == "WorkflowCompleted", (wf, kinds)
            assert asked == []
        else:
            failed = int(fail_at[wf][1:])
            assert kinds[-1] == "WorkflowCompensated", (wf, kinds)
            assert asked == [f"s{i}" for i in range(failed - 1, 0, -1)], (wf, kinds)

    partitions = range(bed.topology.topics.partitions)
    for topic in [*bed.topics.admitted.values(), bed.topics.lifecycle]:
        admitted = Counter(header(r, "ce_id") for r in read_partitions(bed.config, topic, partitions))
        assert [i for i, n in admitted.items() if n > 1] == [], f"{topic}: an event admitted twice"
    assert len(read_partitions(bed.config, bed.topics.admitted["A"], partitions)) == WORKFLOWS
    assert "stopped:" in second.text(), "the surviving replica ends gracefully on SIGTERM"

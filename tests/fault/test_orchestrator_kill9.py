"""kill -9 of the orchestrator (the real ``corps orchestrator run`` process), twice, mid-run.

1,000 concurrent workflows, each failing at a random step (or not at all), driven by the scripted
stand-in for agents. Counted from the log with read_committed consumers afterwards: every workflow has
exactly one terminal event, its compensations were requested exactly once each in reverse order, and
no event was admitted twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.orchestrator.orch_bed import Bed, Script, StandIn, Tail, header

from corps.events.lifecycle import (
    CompensationRequested,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
)
from corps.orchestrator.restore import read_partitions

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]

WORKFLOWS = 1000
TERMINAL = {m.event_type for m in (WorkflowCompleted, WorkflowCompensated, WorkflowFailed)}
CORPS = Path(sys.executable).with_name("corps")


class Orchestrator:
    """``corps orchestrator run`` as a child process, killed with SIGKILL on demand."""

    def __init__(self, bed: Bed, log: Path) -> None:
        self.bed = bed
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bed.kafka.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": bed.registry.url,
        }

    def start(self) -> None:
        args = [str(CORPS), "orchestrator", "run", "--topology", str(self.bed.file), "--instance-id", "kill9"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=self.env, stdout=out, stderr=out)

    def kill9(self) -> None:
        assert self.process is not None
        assert self.process.poll() is None, f"orchestrator died by itself:\n{self.log.read_text()[-3000:]}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def test_kill9_twice_mid_run_loses_and_duplicates_nothing(
    bed: Bed, unique: Callable[[str], str], tmp_path: Path
) -> None:
    rng = random.Random(20251124)
    workflows = [f"wf-{n:04d}-{unique('k')[-6:]}" for n in range(WORKFLOWS)]
    fail_at = {wf: f"s{k}" for wf in workflows if (k := rng.randint(0, 4))}
    lifecycle = Tail(bed, bed.topics.lifecycle)
    orchestrator = Orchestrator(bed, tmp_path / "orchestrator.log")

    def terminal(records: list[object]) -> int:
        return sum(
            header(r, "ce_type") in TERMINAL and header(r, "ce_source") == "corps/orchestrator"  # type: ignore[arg-type]
            for r in records
        )

    kills = 0
    try:
        orchestrator.start()
        with StandIn(bed, Script(fail_at=fail_at)):
            for wf in workflows:
                bed.start(wf)
            bed.flush()
            for threshold in (WORKFLOWS // 6, WORKFLOWS // 2):
                lifecycle.until(lambda r, t=threshold: terminal(r) >= t, timeout_s=100)
                assert terminal(lifecycle.records) < WORKFLOWS, "the run ended before the kill"
                orchestrator.kill9()
                kills += 1
                orchestrator.start()
            lifecycle.until(lambda r: terminal(r) >= WORKFLOWS, timeout_s=100)
            lifecycle.poll(2.0)
    finally:
        orchestrator.stop()
        lifecycle.close()
    assert kills == 2

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
        k = int(fail_at[wf][1:]) if wf in fail_at else None
        if k is None:
            assert kinds[-1] == "WorkflowCompleted", (wf, kinds)
            assert asked == []
        else:
            assert kinds[-1] == "WorkflowCompensated", (wf, kinds)
            assert asked == [f"s{i}" for i in range(k - 1, 0, -1)], (wf, kinds)

    # Nothing admitted twice, on any admitted topic (read_committed, every partition to its end).
    partitions = range(bed.topology.topics.partitions)
    for topic in [*bed.topics.admitted.values(), bed.topics.lifecycle]:
        admitted = Counter(header(r, "ce_id") for r in read_partitions(bed.config, topic, partitions))
        assert [i for i, n in admitted.items() if n > 1] == [], f"{topic}: an event admitted twice"
    starts = read_partitions(bed.config, bed.topics.admitted["A"], partitions)
    assert len(starts) == WORKFLOWS
    log = (tmp_path / "orchestrator.log").read_text()
    assert log.count("running (gate + orchestrator)") == 3
    assert log.count("orchestrator stopped:") == 1, "the last run ends gracefully on SIGTERM"

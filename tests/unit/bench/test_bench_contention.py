"""Contention maths: how much CPU other work took between two snapshots."""

from __future__ import annotations

from bench.contention import CpuSnapshot, contention


def test_other_work_is_machine_busy_minus_own() -> None:
    before = CpuSnapshot(wall_s=100.0, machine_busy_s=50.0, own_s=10.0)
    after = CpuSnapshot(wall_s=104.0, machine_busy_s=56.0, own_s=12.0)
    figures = contention(before, after, 2)
    assert figures == {"wall_s": 4.0, "bench_cpu_s": 2.0, "other_cpu_s": 4.0, "other_cores": 1.0, "cores": 2}


def test_other_work_never_negative() -> None:
    # the benchmark's children are counted when they end, so its own time can exceed the busy delta
    before = CpuSnapshot(wall_s=0.0, machine_busy_s=10.0, own_s=0.0)
    after = CpuSnapshot(wall_s=1.0, machine_busy_s=11.0, own_s=1.5)
    assert contention(before, after, 2)["other_cores"] == 0.0


def test_unknown_off_linux() -> None:
    before = CpuSnapshot(wall_s=0.0, machine_busy_s=None, own_s=0.0)
    after = CpuSnapshot(wall_s=1.0, machine_busy_s=None, own_s=0.5)
    figures = contention(before, after, None)
    assert figures["other_cores"] is None
    assert figures["bench_cpu_s"] == 0.5


def test_snapshot_reads_this_machine() -> None:
    snapshot = CpuSnapshot.take([])
    assert snapshot.own_s > 0
    assert snapshot.wall_s > 0

"""How much of the machine other work took while a benchmark ran (Linux ``/proc``; else unknown).

The machines corps is benchmarked on are often shared (CI runners, a laptop, other engineers' brokers).
For every module the harness records the wall time, the CPU time the whole machine was busy (steal
included), and the CPU time of the benchmark itself (this process, its finished child processes, and the
local broker and registry). The rest is other work: ``other_cores`` = that CPU time / wall time, in cores.
A figure measured while ``other_cores`` was well above zero was measured under contention. (Against an
external cluster that runs on this same machine, its broker's CPU counts as other work.)
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSnapshot", "contention"]

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy_s() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


def _pid_cpu_s(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _own_cpu_s(pids: Sequence[int]) -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return total + sum(_pid_cpu_s(pid) for pid in pids)


@dataclass(frozen=True)
class CpuSnapshot:
    """Wall clock, machine busy CPU time and the benchmark's own CPU time at one instant."""

    wall_s: float
    machine_busy_s: float | None
    own_s: float

    @classmethod
    def take(cls, pids: Sequence[int] = ()) -> CpuSnapshot:
        """Snapshot now; ``pids`` are the benchmark's other processes (the local broker and registry)."""
        return cls(wall_s=time.monotonic(), machine_busy_s=_machine_busy_s(), own_s=_own_cpu_s(pids))


def contention(before: CpuSnapshot, after: CpuSnapshot, cores: int | None) -> dict[str, float | int | None]:
    """Return wall time, CPU used by the benchmark and by other work between two snapshots.

    ``other_cores`` is the average number of cores other work kept busy (``None`` off Linux).
    """
    wall = after.wall_s - before.wall_s
    own = after.own_s - before.own_s
    other: float | None = None
    if before.machine_busy_s is not None and after.machine_busy_s is not None and wall > 0:
        other = max(0.0, after.machine_busy_s - before.machine_busy_s - own)
    return {
        "wall_s": round(wall, 3),
        "bench_cpu_s": round(own, 3),
        "other_cpu_s": None if other is None else round(other, 3),
        "other_cores": None if other is None else round(other / wall, 2),
        "cores": cores,
    }

"""CPU per workflow of each process of a G5 round (Linux ``/proc``), so on/off can be read without the noise.

On a shared 2-core machine the throughput of a round moves with whatever else runs; the CPU seconds
the choreography's own processes spent per workflow move far less. With every process competing for
the same cores, on/off flat out approaches the inverse ratio of these totals, so G5 reports both.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["RoundCpu", "listener_pid"]

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def listener_pid(bootstrap_servers: str) -> int | None:
    """The pid of the process listening on the first bootstrap server's port here (the broker), if any."""
    port = int(bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(str(fd.readlink()) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


class RoundCpu:
    """CPU seconds of a round's processes between :meth:`start` and :meth:`stop`, by role.

    Args:
        pids: Role -> the pids of that role (the orchestrator or null gate, the agents, the broker),
            each alive until :meth:`stop`; the source is this process.
    """

    def __init__(self, pids: dict[str, list[int | None]]) -> None:
        self.pids = pids
        self._start: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        now = {role: sum(_cpu_s(pid) for pid in pids) for role, pids in self.pids.items()}
        now["source"] = time.process_time()
        return now

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> None:
        end = self._now()
        self.seconds = {role: end[role] - self._start[role] for role in end}

"""Detached processes: spawn, recognise by marker, stop, read the log tail, fail with the log."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from corps.dev import ServiceStartError
from corps.dev.process import is_running, spawn, stop, tail
from corps.dev.readiness import wait_ready

SLEEPER = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"]


def _await_command_line(pid: int) -> None:
    cmdline = Path(f"/proc/{pid}/cmdline")
    deadline = time.monotonic() + 10
    while not cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_spawned_process_is_recognised_and_stopped(tmp_path: Path) -> None:
    marker = f"corps-test-{tmp_path.name}"
    child = spawn([*SLEEPER, marker], log_path=tmp_path / "svc.log", cwd=tmp_path)
    try:
        assert is_running(child.pid, marker)
        _await_command_line(child.pid)  # right after exec it is briefly empty, and counts as ours
        assert not is_running(child.pid, "someone-else")  # a recycled pid is not ours
        assert stop(child.pid, marker, timeout=10) is True
        assert not is_running(child.pid, marker)
        assert stop(child.pid, marker, timeout=10) is False
    finally:
        child.kill()
        child.wait()
    assert "==== corps: starting" in (tmp_path / "svc.log").read_text()


def test_a_process_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
        "time.sleep(60)"
    )
    marker = f"stubborn-{tmp_path.name}"
    child = spawn([sys.executable, "-c", code, marker], log_path=tmp_path / "s.log", cwd=tmp_path)
    try:
        wait_ready(
            "stubborn",
            lambda: "up" in (tmp_path / "s.log").read_text() or None,
            pid=child.pid,
            marker=marker,
            log_path=tmp_path / "s.log",
            timeout=30,
            stop_timeout=5,
            child=child,
        )
        assert stop(child.pid, marker, timeout=0.5) is True
        assert not is_running(child.pid, marker)
    finally:
        child.kill()
        child.wait()


def test_tail_reads_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(1, 101)))
    assert tail(log, 3) == ["line 98", "line 99", "line 100"]
    assert len(tail(log, 40)) == 40
    assert tail(log, 500)[0] == "line 1"
    assert tail(tmp_path / "missing.log", 10) == []


def test_death_at_start_reports_exit_code_and_log_tail(tmp_path: Path) -> None:
    code = "import sys\nfor i in range(100): print('boot', i)\nsys.exit(3)"
    marker = f"dies-{tmp_path.name}"
    child = spawn([sys.executable, "-c", code, marker], log_path=tmp_path / "d.log", cwd=tmp_path)
    with pytest.raises(ServiceStartError) as failure:
        wait_ready(
            "Doomed",
            lambda: None,
            pid=child.pid,
            marker=marker,
            log_path=tmp_path / "d.log",
            timeout=60,
            stop_timeout=5,
            child=child,
        )
    message = str(failure.value)
    assert "Doomed died during start (exit code 3)" in message
    assert "boot 99" in message
    assert "boot 60\n" in message
    assert "boot 59\n" not in message  # the last 40 lines only


def test_never_ready_is_stopped_and_reported(tmp_path: Path) -> None:
    marker = f"slow-{tmp_path.name}"
    child = spawn([*SLEEPER, marker], log_path=tmp_path / "slow.log", cwd=tmp_path)
    try:
        with pytest.raises(ServiceStartError, match="not ready within"):
            wait_ready(
                "Slow",
                lambda: None,
                pid=child.pid,
                marker=marker,
                log_path=tmp_path / "slow.log",
                timeout=0.5,
                stop_timeout=5,
                child=child,
                poll_interval=0.1,
            )
        assert not is_running(child.pid, marker)
    finally:
        child.kill()
        child.wait()

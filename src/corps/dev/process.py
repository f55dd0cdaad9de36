"""Running a service as a detached process: spawn into its own session, check, stop, read its log."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import deque
from pathlib import Path

__all__ = ["is_running", "spawn", "stop", "tail"]

_ROTATE_BYTES = 64 * 1024 * 1024


def spawn(argv: list[str], *, log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (it outlives the caller), stdout and stderr appended to ``log_path``.

    A log past 64 MiB is rotated to ``<name>.1`` first. The caller keeps the returned handle while it
    lives (so the child can be reaped), but never needs it: ``is_running``/``stop`` work by pid.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.exists() and log_path.stat().st_size > _ROTATE_BYTES:
        log_path.replace(log_path.with_name(log_path.name + ".1"))
    with log_path.open("ab") as log:
        log.write(f"\n==== corps: starting {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def is_running(pid: int | None, marker: str) -> bool:
    """Tell whether ``pid`` is alive and is the service whose command line contains ``marker``.

    The marker guards against a recycled pid; a zombie child of ours is reaped and counts as dead.
    """
    if pid is None or pid <= 0:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: someone else's job to reap it
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            return False
        if state in {"Z", "X"} and _task_count(proc) <= 1:
            # A zombie leader with live threads (a JVM shutting down) is still running; a lone one is dead.
            return False
        # Right after a vfork+exec the kernel briefly shows an empty command line: still ours, starting.
        return not cmdline or marker in cmdline
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _task_count(proc: Path) -> int:
    try:
        return sum(1 for _ in (proc / "task").iterdir())
    except OSError:
        return 0


def stop(pid: int | None, marker: str, *, timeout: float, kill: bool = False) -> bool:
    """Stop the service: SIGTERM (or SIGKILL when ``kill``), then SIGKILL if it outlives ``timeout``.

    Returns:
        True when a running process was stopped, False when it was not running.
    """
    if pid is None or not is_running(pid, marker):
        return False
    _signal(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid, marker):
            return True
        time.sleep(0.1)
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while is_running(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        # The service leads its own process group (start_new_session), so this reaches any helpers too.
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def tail(path: Path, lines: int = 40) -> list[str]:
    """Return the last ``lines`` lines of a text file (empty when it does not exist)."""
    if lines <= 0:
        return []
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            block, data = 64 * 1024, b""
            pos = end
            while pos > 0 and data.count(b"\n") <= lines:
                pos = max(0, pos - block)
                fh.seek(pos)
                data = fh.read(end - pos)
    except FileNotFoundError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    return list(deque(text, maxlen=lines))

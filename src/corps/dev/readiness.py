"""Waiting for a freshly started service to be really ready, and failing with its log when it dies."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from corps.dev.errors import ServiceStartError
from corps.dev.process import is_running, stop, tail

__all__ = ["wait_ready"]

T = TypeVar("T")
LOG_TAIL_LINES = 40


def wait_ready(
    label: str,
    probe: Callable[[], T | None],
    *,
    pid: int,
    marker: str,
    log_path: Path,
    timeout: float,
    stop_timeout: float,
    child: subprocess.Popen[bytes] | None = None,
    poll_interval: float = 0.5,
) -> T:
    """Call ``probe`` until it returns a value (ready) or raises nothing but keeps returning ``None``.

    ``probe`` returns ``None`` (or raises :class:`Exception`) while the service is not ready yet.

    Raises:
        ServiceStartError: The process died (message: exit code and the last 40 lines of its log), or it
            was not ready within ``timeout`` (then it is stopped, so no half-started JVM lingers).
    """
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while True:
        # Our own child is asked through its handle (that keeps its exit code); others by pid.
        code = child.poll() if child is not None else None
        if code is not None or (child is None and not is_running(pid, marker)):
            exit_text = f"exit code {code}" if code is not None else "it exited"
            raise ServiceStartError(
                f"{label} died during start ({exit_text}). Last {LOG_TAIL_LINES} lines of {log_path}:\n"
                + _log_tail(log_path)
            )
        try:
            result = probe()
        except Exception as exc:
            last_error = f"{exc.__class__.__name__}: {exc}"
        else:
            if result is not None:
                return result
        if time.monotonic() >= deadline:
            stop(pid, marker, timeout=stop_timeout)
            raise ServiceStartError(
                f"{label} was not ready within {timeout:.0f}s (last probe: {last_error}); it has been "
                f"stopped. Last {LOG_TAIL_LINES} lines of {log_path}:\n" + _log_tail(log_path)
            )
        time.sleep(poll_interval)


def _log_tail(log_path: Path) -> str:
    lines = tail(log_path, LOG_TAIL_LINES)
    return "\n".join(lines) if lines else "(the log is empty)"

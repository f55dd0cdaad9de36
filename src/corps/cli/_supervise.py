"""Run a handful of ``corps`` child processes for the demo: logs to files, clean stop on the way out.

The CLI owns processes and signals; library code never does. Each child gets its own log file so a
failure can be shown with the tail of what the child printed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import click

__all__ = ["Child", "Supervisor", "supervised"]


@dataclass
class Child:
    """One child process and the file its output goes to."""

    name: str
    argv: list[str]
    log: Path
    process: subprocess.Popen[bytes]
    _sink: IO[bytes] = field(repr=False)

    def tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines the child wrote."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Supervisor:
    """Starts children, checks they stay up, stops them (SIGTERM, then SIGKILL after a grace period)."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: Sequence[str]) -> Child:
        """Start ``corps ARGS...`` (with this interpreter) as a child named ``name``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        sink = log.open("wb")
        argv = [sys.executable, "-m", "corps", *args]
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        child = Child(name=name, argv=argv, log=log, process=process, _sink=sink)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        """Raise a ClickException naming the first child that exited, with the tail of its log."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise click.ClickException(
                    f"{child.name} exited with code {code}; last lines of {child.log}:\n{child.tail()}"
                )

    def stop(self, grace_s: float = 15.0) -> None:
        """Ask every child to stop, wait up to ``grace_s`` seconds, then kill what is left."""
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in self.children:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child._sink.close()


@contextmanager
def supervised(log_dir: Path) -> Iterator[Supervisor]:
    """A :class:`Supervisor` whose children are stopped however the block ends."""
    supervisor = Supervisor(log_dir)
    try:
        yield supervisor
    finally:
        supervisor.stop()

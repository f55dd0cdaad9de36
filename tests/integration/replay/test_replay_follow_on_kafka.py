"""`corps replay --follow` tails the log: records written after it started arrive; SIGTERM stops it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.integration.replay.replay_kafka import KafkaLog

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def test_follow_prints_new_records_until_sigterm(fresh_log: KafkaLog) -> None:
    fresh_log.maker.happy("wf-before")
    fresh_log.write()
    command = [
        str(Path(sys.executable).parent / "corps"),
        "replay",
        "--topology",
        str(fresh_log.file),
        "--follow",
        "--format",
        "jsonl",
        "--type",
        "WorkflowCompleted",
    ]
    with subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **fresh_log.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        lines: queue.Queue[str] = queue.Queue()
        stdout = process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True)
        reader.start()
        seen: list[dict] = []

        def wait_for(workflow: str) -> None:
            deadline = time.monotonic() + 60
            while not any(o["workflow_id"] == workflow for o in seen):
                assert time.monotonic() < deadline, f"no line for {workflow}: {seen}"
                try:
                    seen.append(json.loads(lines.get(timeout=1)))
                except queue.Empty:
                    assert process.poll() is None, f"corps replay --follow exited with {process.returncode}"

        try:
            wait_for("wf-before")
            fresh_log.maker.happy("wf-after", 50)
            fresh_log.write([r for r in fresh_log.maker.log if r.key == b"wf-after"])
            wait_for("wf-after")
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(30)
            reader.join(10)
    assert code == 0
    assert [(o["workflow_id"], o["type"]) for o in seen] == [
        ("wf-before", "corps.lifecycle.WorkflowCompleted"),
        ("wf-after", "corps.lifecycle.WorkflowCompleted"),
    ]
    assert seen[0]["topic"] == fresh_log.topic("lifecycle")

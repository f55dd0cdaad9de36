"""`corps demo`, the main job, run for real: every ticket ends the way its story says, the replay verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from corps.dev import StackInfo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_demo_tells_every_story_and_ends_with_a_verified_replay(stack: StackInfo, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "corps", "demo", "--work-dir", str(tmp_path), "--timeout", "240"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=560,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for ticket, outcome in [
        ("T-1001", "completed"),
        ("T-1004", "denied"),
        ("T-1005", "completed"),
        ("T-1006", "compensated"),
    ]:
        line = next(line for line in out.splitlines() if line.strip().startswith(ticket))
        assert f"→ {outcome}" in line, line
    assert "✗" not in out
    assert "verified: no discrepancy" in out
    reports = list(tmp_path.glob("*/report.html"))
    assert len(reports) == 1, out
    assert "T-1006" in reports[0].read_text(encoding="utf-8") or "1006" in reports[0].read_text(
        encoding="utf-8"
    )

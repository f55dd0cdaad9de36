"""The HTML audit report, opened in headless Chromium, shows the expected timeline rows.

A log with a denied, an approved, a compensated and a completed workflow is written by the real gate
and orchestrator pipeline to the real broker; ``corps replay --verify --format html`` renders it, and
Chromium (Debian's ``chromium`` package) loads the file and dumps the DOM after its script ran.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from tests.integration.replay.replay_kafka import make_log

from corps.dev import StackInfo
from corps.events.lifecycle import ApprovalGranted
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import PolicyEngine, load_policy_files
from corps.replay.render_html import PAGE

pytestmark = pytest.mark.e2e

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


POLICIES = """
set: e2e
default_effect: allow
policies:
  - id: blocked-tenants
    version: 1
    match: {events: [A]}
    condition: event.tenant == 'blocked-co'
    deny: {reason: tenant blocked-co is suspended}
  - id: big-spender-sign-off
    version: 4
    match: {events: [C]}
    condition: event.tenant == 'big-spender'
    require_approval:
      approvers: [support-lead]
      timeout: 4h
      reason: big spenders need a lead
"""


class Dom(HTMLParser):
    """Collects what the test looks at: body attributes, workflow sections and their event rows."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.sections: dict[str, str] = {}
        self.rows: dict[str, list[tuple[str, str]]] = {}
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = found
        elif tag == "section" and "workflow" in found.get("class", ""):
            self._section = found["data-workflow"]
            self.sections[self._section] = found["data-status"]
        elif tag == "tr" and "event" in found.get("class", "").split() and self._section is not None:
            self.rows.setdefault(self._section, []).append((found["data-type"], found["data-stage"]))


def dump_dom(chromium: str, page: Path, profile: Path, fragment: str = "") -> str:
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri() + fragment]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_report_shows_denied_approved_compensated_and_completed_workflows(
    stack: StackInfo,
    admin: AdminClient,
    kafka_config: dict[str, str],
    tmp_path: Path,
    unique: Callable[[str], str],
) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make install runs: apt-get install -y chromium)")
    policies = tmp_path / "e2e-policies.yaml"
    policies.write_text(POLICIES, encoding="utf-8")
    log = make_log(stack, admin, kafka_config, tmp_path, unique)
    try:
        maker = log.maker
        engine = PolicyEngine(load_policy_files([policies]).policy_set)
        maker.pipeline = Pipeline(maker.topology, maker.codec, policy=EnginePolicy(engine, maker.codec))
        maker.happy("wf-completed")
        maker.propose("A", "wf-denied", 5, tenant="blocked-co", source="client")
        big = {"tenant": "big-spender", "partition": 1}
        maker.propose("A", "wf-approved", 10, source="client", **big)  # type: ignore[arg-type]
        maker.propose("B", "wf-approved", 11, step="s1", source="a1", **big)  # type: ignore[arg-type]
        maker.propose("C", "wf-approved", 12, step="s2", source="a2", **big)  # type: ignore[arg-type]
        granted = ApprovalGranted(request_id="", step="s2", approver="support-lead")
        maker.report(granted, "wf-approved", 13, source="support-lead", **big)  # type: ignore[arg-type]
        maker.propose("D", "wf-approved", 14, step="s3", source="a3", **big)  # type: ignore[arg-type]
        maker.compensated("wf-compensated", 20)
        log.write()
        page = tmp_path / "report.html"
        result = log.replay("--verify", "--policies", str(policies), "--format", "html", "--out", str(page))
        assert result.exit_code == 0, result.output
        assert "verified: no discrepancy" in result.stderr
    finally:
        log.registry.close()

    dom = Dom()
    dom.feed(dump_dom(chromium, page, tmp_path / "chromium-profile"))
    assert dom.body.get("data-ready") == "yes"  # the page's script ran in the browser
    assert dom.sections == {
        "wf-completed": "completed",
        "wf-denied": "denied",
        "wf-approved": "completed",
        "wf-compensated": "compensated",
    }
    assert dom.rows["wf-denied"] == [("A", "denied")]
    assert dom.rows["wf-completed"] == [
        ("A", "admitted"),
        ("WorkflowStarted", "emitted"),
        ("B", "admitted"),
        ("C", "admitted"),
        ("D", "admitted"),
        ("WorkflowCompleted", "emitted"),
    ]
    assert ("ApprovalRequested", "emitted") in dom.rows["wf-approved"]
    assert ("ApprovalGranted", "admitted") in dom.rows["wf-approved"]
    assert dom.rows["wf-compensated"][-1] == ("WorkflowCompensated", "emitted")
    assert [t for t, _ in dom.rows["wf-compensated"]].count("CompensationRequested") == 2
    assert dom.body.get("data-rows") == str(sum(len(rows) for rows in dom.rows.values()))
    text = page.read_text(encoding="utf-8")
    assert re.search(r'id="verdict" data-ok="yes"', text)
    assert "tenant blocked-co is suspended" in text
    assert "granted support-lead" in text
    assert "approved by support-lead" in text
    assert re.search(r"decisions_reevaluated \d+", text)


def test_a_large_report_pages_and_draws_deferred_workflows_on_demand(
    stack: StackInfo,
    admin: AdminClient,
    kafka_config: dict[str, str],
    tmp_path: Path,
    unique: Callable[[str], str],
) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make install runs: apt-get install -y chromium)")
    log = make_log(stack, admin, kafka_config, tmp_path, unique)
    try:
        for i in range(PAGE * 2 + 30):
            log.maker.happy(f"wf-{i:04d}", i, partition=i % 2)
        log.write()
        page = tmp_path / "large.html"
        result = log.replay("--format", "html", "--out", str(page))
        assert result.exit_code == 0, result.output
    finally:
        log.registry.close()

    def opened(fragment: str) -> Dom:
        dom = Dom()
        dom.feed(dump_dom(chromium, page, tmp_path / "chromium-profile", fragment))
        assert dom.body.get("data-ready") == "yes"
        assert dom.body.get("data-workflows") == str(PAGE * 2 + 30)
        return dom

    first = opened("")
    assert list(first.sections) == [f"wf-{i:04d}" for i in range(PAGE)]
    last = opened("#page=3")  # drawn from the inline JSON, in the browser
    assert last.body.get("data-page") == "3"
    assert list(last.sections) == [f"wf-{i:04d}" for i in range(PAGE * 2, PAGE * 2 + 30)]
    assert all(status == "completed" for status in last.sections.values())
    assert last.rows[f"wf-{PAGE * 2:04d}"][-1] == ("WorkflowCompleted", "emitted")
    assert last.body.get("data-rows") == str(sum(len(rows) for rows in last.rows.values()))
    linked = opened(f"#wf-wf-{PAGE + 5:04d}")
    assert linked.body.get("data-page") == "2"
    assert f"wf-{PAGE + 5:04d}" in linked.sections

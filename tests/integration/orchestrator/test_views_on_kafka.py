"""``corps workflows`` and ``corps workflow show`` read the real log after a real run."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from tests.integration.orchestrator.orch_bed import Bed, Script, ServiceThread, StandIn, Tail, header

from corps.cli.main import cli

pytestmark = pytest.mark.integration


def test_operators_view_lists_filters_and_shows_a_compensated_workflow(
    bed: Bed, unique: Callable[[str], str]
) -> None:
    failing, happy = unique("wf-bad"), unique("wf-ok")
    lifecycle = Tail(bed, bed.topics.lifecycle)
    terminal = {"corps.lifecycle.WorkflowCompleted", "corps.lifecycle.WorkflowCompensated"}
    try:
        with ServiceThread(bed, bed.settings()), StandIn(bed, Script(fail_at={failing: "s3"})):
            bed.start(failing, tenant="acme")
            bed.start(happy, tenant="globex")
            bed.flush()
            lifecycle.until(lambda r: sum(header(x, "ce_type") in terminal for x in r) >= 2)
    finally:
        lifecycle.close()

    env = {"KAFKA_BOOTSTRAP_SERVERS": bed.kafka.bootstrap_servers, "SCHEMA_REGISTRY_URL": bed.registry.url}
    runner = CliRunner()
    base = ["--topology", str(bed.file)]
    listed = runner.invoke(cli, ["workflows", *base, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = {r["workflow_id"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows[failing]["state"] == "compensated"
    assert rows[failing]["compensated"] == ["s2", "s1"]
    assert rows[happy]["state"] == "completed"
    assert rows[happy]["steps_done"] == ["s1", "s2", "s3", "s4"]

    only = runner.invoke(
        cli, ["workflows", *base, "--json", "--tenant", "globex", "--state", "completed"], env=env
    )
    assert only.exit_code == 0, only.output
    assert [json.loads(line)["workflow_id"] for line in only.stdout.splitlines()] == [happy]
    none = runner.invoke(cli, ["workflows", *base, "--json", "--state", "failed"], env=env)
    assert none.stdout.strip() == ""

    shown = runner.invoke(cli, ["workflow", "show", failing, *base, "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    timeline = json.loads(shown.stdout)
    names = [e["event_type"].rsplit(".", 1)[1] for e in timeline["timeline"]]
    assert names == [
        "A",
        "WorkflowStarted",
        "B",
        "C",
        "StepFailed",
        "CompensationRequested",
        "CompensationCompleted",
        "CompensationRequested",
        "CompensationCompleted",
        "WorkflowCompensated",
    ]
    assert [e["sequence"] for e in timeline["timeline"]] == list(range(len(names)))
    compensations = [(s["step"], s["outcome"]) for s in timeline["spans"] if s["what"] == "compensation"]
    assert compensations == [("s2", "undone"), ("s1", "undone")]
    assert all(s["duration_ms"] is not None for s in timeline["spans"] if s["step"] != "s4")

    text = runner.invoke(cli, ["workflow", "show", failing, *base], env=env)
    assert text.exit_code == 0, text.output
    assert "compensated" in text.stdout
    assert "durations" in text.stdout
    missing = runner.invoke(cli, ["workflow", "show", "no-such-workflow", *base], env=env)
    assert missing.exit_code != 0
    assert "not known" in missing.output

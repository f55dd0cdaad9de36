"""`corps policy test` and `corps policy apply --dry-run`, `corps acl plan`: offline, no broker."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from policy_helpers import REPO

from corps.cli.main import cli

DEMO = REPO / "topology" / "policies" / "support.yaml"
EVENTS = Path(__file__).parent / "support_events.jsonl"


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_demo_policies_pass_their_expectations() -> None:
    result = run("policy", "test", str(DEMO), str(EVENTS))
    assert result.exit_code == 0, result.output
    assert "16 event(s) decided under support@0#" in result.output
    assert "spam-tickets: ticket tagged spam" in result.output
    assert "✗" not in result.output


def test_jsonl_output_has_one_decision_per_event() -> None:
    result = run("policy", "test", str(DEMO), str(EVENTS), "--format", "jsonl")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 17))
    assert [r["effect"] for r in rows] == [r["expect"] for r in rows]
    redacted = rows[2]
    assert redacted["data"]["body"] == "[redacted: pii]"
    assert redacted["redacted_fields"] == ["body"]
    assert {r["set"]["name"] for r in rows} == {"support"}


def test_a_failed_expectation_exits_1(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    line = json.loads(EVENTS.read_text().splitlines()[1])  # the spam ticket: deny
    line["expect"] = "allow"
    events.write_text(json.dumps(line) + "\n")
    result = run("policy", "test", str(DEMO), str(events))
    assert result.exit_code == 1
    assert f"{events}:1: expected allow, got deny" in result.output


def test_invalid_cel_exits_1_with_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("set: s\npolicies:\n  - id: p\n    version: 1\n    condition: event.x ==\n    allow: {}\n")
    result = run("policy", "test", str(bad), str(EVENTS))
    assert result.exit_code == 1
    assert f"{bad}:5:" in result.output
    assert "invalid-cel" in result.output
    assert "invalid CEL at 1:11" in result.output


def test_an_unusable_events_line_exits_1(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"type": "demo.support.TicketOpened", "tenant": "acme", "data": {}}\n{"tenant": "x"}\n'
    )
    result = run("policy", "test", str(DEMO), str(events))
    assert result.exit_code == 1
    assert "line 2: missing type, data" in result.output


def test_events_from_stdin() -> None:
    line = '{"type": "demo.support.TicketOpened", "tenant": "suspended-co", "data": {"tags": []}}\n'
    result = run("policy", "test", str(DEMO), "-", "--format", "jsonl", stdin=line)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["effect"] == "deny"


def test_apply_dry_run_validates_and_publishes_nothing() -> None:
    result = run("policy", "apply", str(DEMO), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "support: 7 policies, digest" in result.output


def test_apply_refuses_invalid_policies(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("set: s\npolicies:\n  - {id: p, version: 1, condition: 'foo(1)', allow: {}}\n")
    result = run("policy", "apply", str(bad))
    assert result.exit_code == 1
    assert "unknown function 'foo'" in result.output
    assert "nothing evaluated or published" in result.output


def test_topology_option_adds_approval_steps(tmp_path: Path) -> None:
    text = (REPO / "topology" / "support.yaml").read_text()
    text = re.sub(r"\npolicies:\n(?:  - .*\n)+", "\n", text)  # only the approval step's policy
    text = text.replace(
        "    compensation: RefundReversed\n",
        "    compensation: RefundReversed\n    approval: {approvers: [lead], timeout: 1h}\n",
    )
    file = tmp_path / "support.yaml"
    file.write_text(text)
    events = tmp_path / "e.jsonl"
    events.write_text(
        json.dumps(
            {
                "type": "demo.support.RefundIssued",
                "tenant": "a",
                "source": "refunds",
                "data": {},
                "expect": "require_approval",
            }
        )
        + "\n"
    )
    result = run("policy", "test", "--topology", str(file), str(events))
    assert result.exit_code == 0, result.output
    assert "step-approval.refund" in result.output


def test_acl_plan_json() -> None:
    result = run("acl", "plan", str(REPO / "topology" / "support.yaml"), "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {"principal": "User:corps-orchestrator", "operation": "write", "resource_type": "topic",
            "pattern": "literal", "name": "support.TicketOpened", "permission": "allow", "host": "*",
            "why": "only the gate admits TicketOpened"} in rows  # fmt: skip


def test_acl_plan_principals_are_configurable() -> None:
    result = run(
        "acl", "plan", str(REPO / "topology" / "support.yaml"), "--format", "json", "--gate", "User:g"
    )
    rows = json.loads(result.stdout)
    admits = {
        r["principal"] for r in rows if r["name"] == "support.TicketOpened" and r["operation"] == "write"
    }
    assert admits == {"User:g"}

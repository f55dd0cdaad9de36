"""`corps publish` input handling that needs no broker: every bad line is named, nothing is sent.

With a rejected line (and no --skip-invalid) or with --dry-run, the command stops before it resolves
any address, so these tests run without a stack. Broker/registry failures are integration tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from corps.cli.main import cli
from corps.cli.publish import parse_lines
from corps.events.demo import TicketOpened

SCHEMAS = str(Path(__file__).resolve().parents[3] / "schemas")
GOOD = {
    "ticket_id": "T-1",
    "customer": {"customer_id": "c", "name": "Ann", "email": "a@x"},
    "subject": "s",
    "body": "b",
}


def run(stdin: str, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["publish", "demo.support.TicketOpened", "-", "--schemas", SCHEMAS, *args], input=stdin
    )
    return result.exit_code, result.stdout, result.stderr


def lines(*objs: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n"


def test_dry_run_of_valid_lines() -> None:
    code, out, err = run(lines(GOOD, "", GOOD), "--dry-run")
    assert code == 0, err
    assert out.strip() == "demo.support.TicketOpened v1: 2 valid, 0 rejected of 2 line(s); dry run"


def test_invalid_json() -> None:
    code, out, err = run(lines(GOOD, '{"ticket_id": "T-2",'))
    assert code == 1
    assert (
        err.strip()
        == "line 2: rejected: invalid JSON: Expecting property name enclosed in double quotes (column 21)"
    )
    assert "1 valid, 1 rejected of 2 line(s); nothing sent because of rejected lines" in out


def test_wrong_type() -> None:
    code, _, err = run(lines({**GOOD, "ticket_id": 7}))
    assert code == 1
    assert err.strip() == "line 1: rejected: ticket_id: expected string, got integer 7"


def test_missing_required_field() -> None:
    code, out, err = run(lines(GOOD, GOOD, {k: v for k, v in GOOD.items() if k != "body"}))
    assert code == 1
    assert err.strip() == "line 3: rejected: body: missing required field"
    assert "2 valid, 1 rejected of 3 line(s)" in out


def test_not_an_object() -> None:
    code, _, err = run(lines("[1, 2]"))
    assert code == 1
    assert err.strip() == "line 1: rejected: expected a JSON object, got list"


def test_several_rejections_are_all_listed_with_counts() -> None:
    code, out, err = run(
        lines("nope", GOOD, {**GOOD, "channel": "FAX"}, {**GOOD, "surprise": True}), "--dry-run"
    )
    assert code == 1
    assert err.splitlines() == [
        "line 1: rejected: invalid JSON: Expecting value (column 1)",
        "line 3: rejected: channel: string 'FAX' is not one of EMAIL, CHAT, PHONE, WEB",
        "line 4: rejected: surprise: unknown field",
    ]
    assert "1 valid, 3 rejected of 4 line(s); dry run" in out


def test_unknown_event_type() -> None:
    result = CliRunner().invoke(
        cli, ["publish", "demo.support.TicketOpend", "-", "--schemas", SCHEMAS], input="{}\n"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: unknown event type 'demo.support.TicketOpend' in {SCHEMAS}; "
        "did you mean demo.support.TicketOpened"
    )


def test_unknown_schema_version() -> None:
    code, _, err = run(lines(GOOD), "--schema-version", "4", "--dry-run")
    assert code == 2
    assert "demo.support.TicketOpened has no version 4 (has 1..1)" in err


def test_file_argument(tmp_path: Path) -> None:
    source = tmp_path / "tickets.jsonl"
    source.write_text(lines(GOOD, GOOD, GOOD))
    result = CliRunner().invoke(
        cli, ["publish", "demo.support.TicketOpened", str(source), "--schemas", SCHEMAS, "--dry-run"]
    )
    assert result.exit_code == 0
    assert "3 valid, 0 rejected of 3 line(s)" in result.stdout


def test_payload_lines_get_fresh_workflow_ids_and_the_tenant() -> None:
    parsed = parse_lines([json.dumps(GOOD)] * 3, TicketOpened.schema_ref(), tenant="acme", source="s")
    ids = {envelope.workflow_id for _, _, envelope in parsed.accepted}
    assert len(ids) == 3
    assert {envelope.tenant for _, _, envelope in parsed.accepted} == {"acme"}


def test_cloudevents_lines_carry_their_own_attributes() -> None:
    line = {
        "specversion": "1.0",
        "type": "demo.support.TicketOpened",
        "id": "evt-1",
        "workflowid": "wf-42",
        "tenant": "globex",
        "time": "2025-03-01T10:00:00Z",
        "causationid": "evt-0",
        "region": "eu",
        "data": GOOD,
    }
    parsed = parse_lines([json.dumps(line)], TicketOpened.schema_ref(), tenant="acme", source="s")
    assert parsed.rejected == []
    [(_, datum, envelope)] = parsed.accepted
    assert datum == GOOD
    assert (envelope.id, envelope.workflow_id, envelope.tenant, envelope.causation_id) == (
        "evt-1",
        "wf-42",
        "globex",
        "evt-0",
    )
    assert envelope.extensions == {"region": "eu"}
    assert envelope.time.isoformat() == "2025-03-01T10:00:00+00:00"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "demo.support.TicketTriaged"}, "CloudEvents type 'demo.support.TicketTriaged' is not"),
        ({"specversion": "0.3"}, "CloudEvents specversion '0.3' is not 1.0"),
        ({"data": None, "workflowid": 5}, "CloudEvents attribute(s) workflowid must be strings"),
        ({"time": "soon"}, "CloudEvents time 'soon' is not RFC 3339"),
        ({"tenant": ""}, "invalid envelope for demo.support.TicketOpened: ce_tenant"),
        ({"datacontenttype": "text/plain"}, "CloudEvents datacontenttype must be application/json"),
    ],
)
def test_bad_cloudevents_lines(change: dict[str, object], reason: str) -> None:
    line = {"specversion": "1.0", "data": GOOD, **change}
    parsed = parse_lines([json.dumps(line)], TicketOpened.schema_ref(), tenant="acme", source="s")
    [(number, message)] = parsed.rejected
    assert number == 1
    assert message.startswith(reason)


def test_cloudevents_line_without_data() -> None:
    parsed = parse_lines(['{"specversion": "1.0"}'], TicketOpened.schema_ref(), tenant="a", source="s")
    assert parsed.rejected == [(1, "CloudEvents event without data")]

"""Redactions are checked against the events' Avro schemas before a set is tested or published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from policy_helpers import REPO, policy_set

from corps.cli.main import cli
from corps.events.catalog import SchemaCatalog
from corps.policy.loader import load_policy_files
from corps.policy.redact_check import SchemaVersion, catalog_versions, check_redactions
from corps.topology import Location

TICKET: dict[str, Any] = {
    "type": "record",
    "name": "TicketOpened",
    "namespace": "demo.support",
    "fields": [
        {"name": "ticket_id", "type": "string"},
        {"name": "body", "type": "string"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "priority", "type": "int"},
        {"name": "score", "type": ["null", "int"], "default": None},
        {"name": "channel", "type": {"type": "enum", "name": "Channel", "symbols": ["EMAIL", "FAX"]}},
        {
            "name": "customer",
            "type": {
                "type": "record",
                "name": "Customer",
                "fields": [
                    {"name": "email", "type": "string"},
                    {"name": "phone", "type": "string", "default": ""},
                ],
            },
        },
        {"name": "cards", "type": {"type": "array", "items": "string"}},
        {"name": "amounts", "type": {"type": "array", "items": "long"}},
        {"name": "labels", "type": {"type": "map", "values": "string"}},
        {"name": "previous", "type": ["null", "Customer"], "default": None},
    ],
}
SCHEMAS = [SchemaVersion("demo.support.TicketOpened", 1, TICKET)]
WHERE = Location(file=Path("p.yaml"), line=3, column=5, key="policies.0.id")


def findings(tmp_path: Path, fields: str, mode: str = "mask", events: str = "[TicketOpened]") -> list[str]:
    body = f"""
        set: s
        policies:
          - id: r
            version: 1
            match: {{events: {events}}}
            redact: {{fields: {fields}, mode: {mode}}}
    """
    return [d.message for d in check_redactions(policy_set(tmp_path, body), {"r": WHERE}, SCHEMAS)]


@pytest.mark.parametrize(
    ("fields", "mode"),
    [
        ("[body, customer.email, note]", "mask"),
        ("[score, previous]", "mask"),  # nullable non-strings mask to null
        ("[note, score, customer.phone]", "remove"),  # fields with defaults
        ("['cards.*', 'labels.*']", "mask"),
        ("['labels.*', 'cards.*']", "remove"),  # a map entry is deleted; a list item is masked
        ("['previous.phone']", "remove"),  # through a union to the record branch
    ],
)
def test_redactions_that_fit_the_schema_pass(tmp_path: Path, fields: str, mode: str) -> None:
    assert findings(tmp_path, fields, mode) == []


@pytest.mark.parametrize(
    ("fields", "mode", "expected"),
    [
        ("[body]", "remove", "'body' of demo.support.TicketOpened v1 has no default"),
        ("[customer.email]", "remove", "'customer.email' of demo.support.TicketOpened v1 has no default"),
        ("[priority]", "mask", "has type int: masking it writes null"),
        ("[channel]", "mask", "has type Channel"),
        ("['amounts.*']", "mask", "'amounts.*' of demo.support.TicketOpened v1 has type long"),
        ("['amounts.*']", "remove", "has type long"),  # list items are masked even under remove
        ("[customer]", "mask", "has type Customer"),
        ("[costumer.email]", "mask", "'costumer.email' is in none of its events' schemas"),
    ],
)
def test_redactions_the_gate_could_not_re_encode_are_refused(
    tmp_path: Path, fields: str, mode: str, expected: str
) -> None:
    (message,) = findings(tmp_path, fields, mode)
    assert message.startswith("policy r: redact.fields[0]")
    assert expected in message


def test_findings_name_the_file_and_policy(tmp_path: Path) -> None:
    (diagnostic,) = check_redactions(
        policy_set(
            tmp_path, "set: s\npolicies: [{id: r, version: 1, redact: {fields: [body], mode: remove}}]\n"
        ),
        {"r": WHERE},
        SCHEMAS,
    )
    assert diagnostic.location == WHERE
    assert diagnostic.code == "redact-schema"
    assert str(diagnostic).startswith("p.yaml:3:5")


def test_only_matched_event_types_are_checked(tmp_path: Path) -> None:
    assert findings(tmp_path, "[body]", "remove", events="[RefundIssued]") == []  # no schema matched
    assert findings(tmp_path, "[body]", "remove", events="['demo.support.*']") != []
    # without events the policy may meet any event: an unknown path is no error, a bad one is
    assert findings(tmp_path, "[nothing]", "remove", events="[]") == []
    assert findings(tmp_path, "[body]", "remove", events="[]") != []


def test_every_schema_version_must_fit(tmp_path: Path) -> None:
    v2 = {**TICKET, "fields": [{**f, "default": ""} if f["name"] == "body" else f for f in TICKET["fields"]]}
    schemas = [*SCHEMAS, SchemaVersion("demo.support.TicketOpened", 2, v2)]
    body = "set: s\npolicies: [{id: r, version: 1, redact: {fields: [body], mode: remove}}]\n"
    found = check_redactions(policy_set(tmp_path, body), {}, schemas)
    assert [d.message.split(" of ")[1].split(" has")[0] for d in found] == ["demo.support.TicketOpened v1"]


def test_the_demo_policies_fit_the_demo_schemas() -> None:
    loaded = load_policy_files([REPO / "topology" / "policies" / "support.yaml"])
    catalog = SchemaCatalog.load(REPO / "schemas")
    assert check_redactions(loaded.policy_set, loaded.origins, catalog_versions(catalog)) == []


BAD_REDACTION = """
set: support
policies:
  - id: drop-body
    version: 1
    match: {events: [TicketOpened]}
    redact: {fields: [body], mode: remove}
"""


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_policy_test_and_apply_refuse_a_redaction_the_schema_cannot_take(tmp_path: Path) -> None:
    policies = tmp_path / "bad.yaml"
    policies.write_text(BAD_REDACTION, encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text('{"type": "demo.support.TicketOpened", "tenant": "a", "data": {}}\n', encoding="utf-8")
    schemas = str(REPO / "schemas")
    for args in (("test", str(policies), str(events)), ("apply", "--dry-run", str(policies))):
        result = _cli("policy", *args, "--schemas", schemas)
        assert result.exit_code == 1, result.output
        assert f"{policies}:4:5:" in result.output  # the policy file and the line of the policy's id
        assert "policy drop-body: redact.fields[0] 'body' of demo.support.TicketOpened v1 has no default" in (
            result.output.replace("\n", "")
        )
    ok = _cli("policy", "apply", "--dry-run", str(REPO / "topology" / "policies" / "support.yaml"))
    assert ok.exit_code == 0, ok.output


def test_topology_validate_checks_the_redactions_of_its_policies(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "support.yaml").write_text(BAD_REDACTION, encoding="utf-8")
    topology = tmp_path / "support.yaml"
    topology.write_text((REPO / "topology" / "support.yaml").read_text(), encoding="utf-8")
    result = _cli("topology", "validate", str(topology), "--schemas", str(REPO / "schemas"))
    assert result.exit_code == 1, result.output
    assert "redact.fields[0] 'body' of demo.support.TicketOpened v1 has no default" in (
        result.output.replace("\n", "")
    )
    ok = _cli(
        "topology", "validate", str(REPO / "topology" / "support.yaml"), "--schemas", str(REPO / "schemas")
    )
    assert ok.exit_code == 0, ok.output

"""schemas/: the repository's catalog loads and checks clean; malformed layouts are named precisely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from corps.cli.main import cli
from corps.events import CompatibilityMode, SchemaCatalog, check_versions
from corps.events.errors import SchemaCatalogError

REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
LIFECYCLE = {
    "StepFailed",
    "CompensationRequested",
    "CompensationCompleted",
    "CompensationFailed",
    "WorkflowStarted",
    "WorkflowCompleted",
    "WorkflowCompensated",
    "WorkflowFailed",
    "PolicyDecision",
    "ApprovalRequested",
    "ApprovalGranted",
    "ApprovalDenied",
}
DEMO = {"TicketOpened", "TicketTriaged", "RefundIssued", "RefundReversed", "ReplyDrafted", "ReplySent"}


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(REPO_SCHEMAS, target)
    return target


def test_repository_catalog_has_the_lifecycle_and_demo_events() -> None:
    catalog = SchemaCatalog.load(REPO_SCHEMAS)
    assert {name.rsplit(".", 1)[1] for name in catalog if name.startswith("corps.lifecycle.")} == LIFECYCLE
    assert {name.rsplit(".", 1)[1] for name in catalog if name.startswith("demo.support.")} == DEMO
    assert len(catalog["demo.support.TicketTriaged"].versions) == 2
    assert catalog["demo.support.TicketTriaged"].compatibility is CompatibilityMode.FULL_TRANSITIVE
    assert catalog["corps.lifecycle.StepFailed"].compatibility is CompatibilityMode.BACKWARD


def test_repository_catalog_is_compatible() -> None:
    catalog = SchemaCatalog.load(REPO_SCHEMAS)
    for name, subject in catalog.items():
        assert check_versions(name, subject.compatibility, [v.schema for v in subject.versions]) == []


def test_payloads_carry_no_envelope_metadata() -> None:
    envelope_names = {
        "tenant",
        "workflow_id",
        "workflowid",
        "causation_id",
        "trace_id",
        "traceparent",
        "ce_id",
    }
    for subject in SchemaCatalog.load(REPO_SCHEMAS).values():
        for version in subject.versions:
            assert envelope_names.isdisjoint(f["name"] for f in version.schema["fields"]), subject.event_type


def test_unknown_event_type_suggests_close_names() -> None:
    with pytest.raises(
        SchemaCatalogError, match=r"unknown event type 'demo.support.TicketOpend'.*did you mean"
    ):
        SchemaCatalog.load(REPO_SCHEMAS).subject("demo.support.TicketOpend")


def _write(path: Path, schema: object) -> None:
    path.write_text(json.dumps(schema), encoding="utf-8")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda d: (d / "v1.avsc").rename(d / "v3.avsc"),
            "versions must be v1..vN without gaps, found [2, 3]",
        ),
        (lambda d: (d / "v1.avsc").write_text("{not json"), "v1.avsc: not readable JSON"),
        (
            lambda d: _write(
                d / "v1.avsc", {"type": "record", "name": "Other", "namespace": "demo.support", "fields": []}
            ),
            "differs from its directory",
        ),
        (lambda d: _write(d / "v1.avsc", {"type": "string"}), "must be an Avro record"),
        (
            lambda d: _write(
                d / "v1.avsc",
                {
                    "type": "record",
                    "name": "TicketTriaged",
                    "namespace": "demo.support",
                    "fields": [{"name": "n", "type": "int", "default": "x"}],
                },
            ),
            "invalid Avro schema",
        ),
        (lambda d: (d / "notes.txt").write_text("hi"), "notes.txt: unexpected file"),
        (lambda d: (d / "subject.yaml").write_text("compatibility: SIDEWAYS\n"), "subject.yaml"),
        (lambda d: (d / "subject.yaml").write_text("compat: FULL\n"), "subject.yaml"),
    ],
)
def test_malformed_subjects_are_named(scratch: Path, breakage: object, message: str) -> None:
    breakage(scratch / "demo.support.TicketTriaged")  # type: ignore[operator]
    with pytest.raises(SchemaCatalogError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SchemaCatalog.load(scratch)


def test_directory_must_be_a_fullname(scratch: Path) -> None:
    (scratch / "no-dots").mkdir()
    with pytest.raises(SchemaCatalogError, match="no-dots: directory name must be an Avro fullname"):
        SchemaCatalog.load(scratch)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemaCatalogError, match="not a directory"):
        SchemaCatalog.load(tmp_path / "nope")


def test_cli_check_passes_on_the_repository() -> None:
    result = CliRunner().invoke(cli, ["schemas", "check", str(REPO_SCHEMAS)])
    assert result.exit_code == 0, result.output
    assert "18 subject(s)" in result.output
    assert "all compatible" in result.output


def test_cli_check_fails_on_an_incompatible_change_in_a_scratch_copy(scratch: Path) -> None:
    v2 = json.loads((scratch / "demo.support.TicketTriaged" / "v2.avsc").read_text())
    v2["fields"].append({"name": "escalated", "type": "boolean"})  # no default: v2 cannot read v1
    _write(scratch / "demo.support.TicketTriaged" / "v2.avsc", v2)
    result = CliRunner().invoke(cli, ["schemas", "check", str(scratch)])
    assert result.exit_code == 1
    assert (
        "incompatible: demo.support.TicketTriaged: v2 (reader) cannot read v1 (writer), required by "
        "FULL_TRANSITIVE: at escalated: reader field missing default value: escalated"
    ) in result.output


def test_cli_check_fails_on_a_narrowed_type_under_backward(scratch: Path) -> None:
    directory = scratch / "demo.support.RefundIssued"
    v3 = json.loads((directory / "v2.avsc").read_text())
    v3["fields"][2]["type"] = "int"  # long -> int: v3 cannot read v2's longs
    _write(directory / "v3.avsc", v3)
    result = CliRunner().invoke(cli, ["schemas", "check", str(scratch)])
    assert result.exit_code == 1
    assert (
        "demo.support.RefundIssued: v3 (reader) cannot read v2 (writer), required by BACKWARD: "
        "at amount_cents: type mismatch: reader type: int not compatible with writer type: long"
        in result.output
    )


def test_cli_check_reports_a_malformed_file(scratch: Path) -> None:
    (scratch / "demo.support.ReplySent" / "v1.avsc").write_text("[")
    result = CliRunner().invoke(cli, ["schemas", "check", str(scratch)])
    assert result.exit_code == 1
    assert "demo.support.ReplySent/v1.avsc: not readable JSON" in result.output

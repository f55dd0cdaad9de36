"""A battery of broken topology files: each must yield exactly the findings its markers name.

A trailing ``# !code`` marks a line an error with that code must point at, ``# ?code`` a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from topology_helpers import write_schemas

from corps.topology import Severity, TopologyError, TopologySchemas, load_topology, validate_topology

BROKEN = Path(__file__).parent / "broken"
_MARK = re.compile(r"([!?])([a-z-]+)")


def expected_findings(path: Path) -> list[tuple[str, str, int]]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if "#" not in line:
            continue
        for kind, code in _MARK.findall(line.split("#", 1)[1]):
            found.append(("error" if kind == "!" else "warning", code, number))
    return sorted(found)


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> TopologySchemas:
    return TopologySchemas(write_schemas(tmp_path_factory.mktemp("schemas")))


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_each_broken_file_reports_exactly_its_marked_findings(path: Path, schemas: TopologySchemas) -> None:
    try:
        diagnostics = validate_topology(load_topology(path), schemas)
    except TopologyError as exc:
        diagnostics = list(exc.diagnostics)
    got = sorted((d.severity.value, d.code, d.location.line) for d in diagnostics)
    assert got == expected_findings(path), "\n".join(str(d) for d in diagnostics)
    for diagnostic in diagnostics:
        assert diagnostic.location.file == path
        assert str(path) in str(diagnostic)


def test_the_battery_covers_every_kind_of_error() -> None:
    codes = {
        code for path in BROKEN.glob("*.yaml") for kind, code, _ in expected_findings(path) if kind == "error"
    }
    assert codes >= {
        "unknown-agent",
        "unknown-event",
        "unknown-schema",
        "unreachable-step",
        "cycle-without-exit",
        "compensation-missing",
        "schema-incompatible",
        "partition-mismatch",
        "policy-missing",
        "multiple-emitters",
        "unknown-key",
        "invalid-value",
        "missing-key",
        "duplicate-key",
        "yaml-syntax",
    }


def test_errors_name_the_key_path(schemas: TopologySchemas) -> None:
    diagnostics = validate_topology(load_topology(BROKEN / "unknown_references.yaml"), schemas)
    keys = {d.code: d.location.key for d in diagnostics if d.severity is Severity.ERROR}
    assert keys["unknown-agent"] == "steps.pay.agent"
    messages = [str(d) for d in diagnostics if d.code == "unknown-event"]
    assert any("steps.pay.emits[1]" in m and "'Charged'" in m for m in messages)

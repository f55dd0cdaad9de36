"""Drawings (Mermaid, SVG) and the `corps topology` commands on files (no broker involved)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from topology_helpers import VALID, write_schemas

from corps.cli.main import cli
from corps.topology import (
    TopologySchemas,
    load_topology,
    parse_topology,
    to_mermaid,
    to_svg,
    validate_topology,
)

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "topology" / "support.yaml"
LOOP = (Path(__file__).parent / "broken" / "cycle_with_exit.yaml").read_text()


def test_mermaid_draws_every_edge() -> None:
    text = to_mermaid(parse_topology(VALID, Path("t.yaml")).topology)
    assert text.splitlines()[1] == "flowchart LR"
    assert "e_Ordered --> s_pay" in text
    assert "s_pay --> e_Paid" in text
    assert "s_pay -. compensation .-> e_Refunded" in text
    assert 'e_Ordered(["Ordered"]):::start' in text
    assert ":::irreversible" in text


@pytest.mark.parametrize("text", [VALID, LOOP], ids=["line", "loop"])
def test_svg_is_well_formed_and_has_every_node(text: str) -> None:
    topo = parse_topology(text, Path("t.yaml")).topology
    root = ET.fromstring(to_svg(topo))
    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes = {g.get("data-node") for g in root.iterfind("svg:g", ns)}
    assert nodes == {f"e:{e}" for e in topo.events} | {f"s:{s}" for s in topo.steps}
    edges = root.findall("svg:path", ns)
    assert len(edges) == sum(1 + len(s.emits) + (s.compensation is not None) for s in topo.steps.values())
    # nodes do not overlap
    boxes = [
        tuple(float(r.get(k, "0")) for k in ("x", "y", "width", "height"))
        for r in root.iterfind("svg:g/svg:rect", ns)
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
            assert apart, (a, b)


def test_the_demo_topology_is_valid_against_the_repo_schemas() -> None:
    found = validate_topology(load_topology(DEMO), TopologySchemas(REPO / "schemas"))
    assert [str(d) for d in found] == []


def test_cli_validate_ok_and_broken(tmp_path: Path) -> None:
    schemas = write_schemas(tmp_path / "schemas")
    good = tmp_path / "good.yaml"
    good.write_text(VALID)
    runner = CliRunner()
    result = runner.invoke(cli, ["topology", "validate", str(good), "--schemas", str(schemas)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("agent: shipping", "agent: shiping"))
    result = runner.invoke(cli, ["topology", "validate", str(bad), "--schemas", str(schemas)])
    assert result.exit_code == 1
    line = VALID.splitlines().index("    agent: shipping") + 1
    assert f"{bad}:{line}:5: error [unknown-agent] steps.ship.agent" in result.output


def test_cli_validate_warnings_alone_exit_zero(tmp_path: Path) -> None:
    schemas = write_schemas(tmp_path / "schemas")
    file = tmp_path / "warn.yaml"
    file.write_text(VALID.replace("  courier: {}\n", "  courier: {}\n  idle: {}\n"))
    result = CliRunner().invoke(cli, ["topology", "validate", str(file), "--schemas", str(schemas)])
    assert result.exit_code == 0
    assert "warning [unused-agent] agents.idle" in result.output


def test_cli_graph_writes_mermaid_and_svg(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["topology", "graph", str(DEMO)])
    assert result.exit_code == 0
    assert "s_refund -. compensation .-> e_RefundReversed" in result.output
    out = tmp_path / "support.svg"
    result = runner.invoke(cli, ["topology", "graph", str(DEMO), "--format", "svg", "-o", str(out)])
    assert result.exit_code == 0
    assert ET.parse(out).getroot().tag.endswith("svg")


def test_cli_graph_of_a_broken_file_names_the_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(VALID.replace("  partitions: 4", "  partitions: four"))
    result = CliRunner().invoke(cli, ["topology", "graph", str(file)])
    assert result.exit_code == 1
    assert f"{file}:4:3: error [invalid-value] topics.partitions" in result.output

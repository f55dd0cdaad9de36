"""`corps policy test --partitions`: offline decisions with split limits and per-partition counters."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from click.testing import CliRunner, Result
from policy_helpers import REPO

from corps.cli.main import cli
from corps.policy.offline import parse_cases, partition_of

RATE = "set: s\npolicies:\n  - id: rate\n    version: 1\n    throttle: {rate: 2, per: 1m, by: [tenant]}\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def files(tmp_path: Path, partitions: list[int | None]) -> tuple[str, str]:
    policies = tmp_path / "rate.yaml"
    policies.write_text(RATE, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    lines = []
    for n, partition in enumerate(partitions):
        line: dict[str, object] = {"type": "demo.support.A", "tenant": "acme", "data": {}, "id": f"e{n}"}
        if partition is not None:
            line["partition"] = partition
        lines.append(json.dumps(line))
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(policies), str(events)


def effects(result: Result) -> list[str]:
    return [json.loads(line)["effect"] for line in result.stdout.splitlines()]


def test_partitions_split_the_limit(tmp_path: Path) -> None:
    policies, events = files(tmp_path, [0, 0, 0])
    one = run("policy", "test", policies, events, "--format", "jsonl")
    assert one.exit_code == 0, one.output
    assert effects(one) == ["allow", "allow", "deny"]  # default P = 1: the whole rate on partition 0
    assert "over 1 partition(s)" in one.output
    two = run("policy", "test", policies, events, "--format", "jsonl", "--partitions", "2")
    assert two.exit_code == 0, two.output
    assert effects(two) == ["allow", "deny", "deny"]  # half the rate (a burst of 1) on partition 0
    assert "over 2 partition(s)" in two.output
    assert "2 per 1m over 2 partitions" in two.stdout


def test_counters_are_kept_per_partition(tmp_path: Path) -> None:
    policies, events = files(tmp_path, [0, 1, 0, 1])
    result = run("policy", "test", policies, events, "--format", "jsonl", "--partitions", "2")
    assert effects(result) == ["allow", "allow", "deny", "deny"]


def test_a_partition_beyond_the_count_exits_1(tmp_path: Path) -> None:
    policies, events = files(tmp_path, [0, 1])
    result = run("policy", "test", policies, events)
    assert result.exit_code == 1
    assert "line 2: partition 1 is not below the 1 partitions" in result.output


def test_a_bad_partition_value_exits_1(tmp_path: Path) -> None:
    policies, events = files(tmp_path, [-1])
    result = run("policy", "test", policies, events, "--partitions", "2")
    assert result.exit_code == 1
    assert "line 1: partition must be a non-negative integer" in result.output


def test_the_topology_gives_the_partition_count(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps({"type": "demo.support.Foo", "tenant": "acme", "data": {}}) + "\n")
    topology = str(REPO / "topology" / "support.yaml")
    result = run("policy", "test", "--topology", topology, str(events))
    assert result.exit_code == 0, result.output
    assert "over 6 partition(s)" in result.output  # support.yaml: topics.partitions 6
    pinned = run("policy", "test", "--topology", topology, str(events), "--partitions", "3")
    assert "over 3 partition(s)" in pinned.output


def test_without_a_partition_the_workflow_id_picks_it_as_librdkafka_does() -> None:
    cases = parse_cases([json.dumps({"type": "A", "tenant": "t", "data": {}, "workflowid": "wf-42"})])
    assert partition_of(cases[0], 6) == zlib.crc32(b"wf-42") % 6
    assert partition_of(cases[0], 1) == 0


def test_help_states_the_default() -> None:
    result = run("policy", "test", "--help")
    assert "--partitions" in result.output
    assert "else 1" in result.output

"""`corps topology apply` on the real broker and registry: idempotent, grows, refuses to shrink."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import AdminClient

from corps.cli.main import cli
from corps.dev import StackInfo
from corps.events.registry import SchemaRegistry
from corps.settings import RegistrySettings
from corps.topology import decision_topic, desired_topics, diff_topics, load_topology, read_cluster

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
DEMO = (REPO / "topology" / "support.yaml").read_text()


def apply(stack: StackInfo, file: Path, *extra: str) -> Result:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
    }
    args = ["topology", "apply", str(file), "--schemas", str(REPO / "schemas"), *extra]
    return CliRunner().invoke(cli, args, env=env)


def topology_file(tmp_path: Path, workflow: str, partitions: int = 6, retention: str = "7d") -> Path:
    text = DEMO.replace("  name: support\n", f"  name: {workflow}\n")
    text = text.replace("  partitions: 6 ", f"  partitions: {partitions} ").replace(
        "  retention: 7d\n", f"  retention: {retention}\n"
    )
    file = tmp_path / f"{workflow}-{partitions}-{retention}.yaml"
    file.write_text(text)
    (tmp_path / "policies").mkdir(exist_ok=True)  # the topology names its policy file relative to itself
    for policy in (REPO / "topology" / "policies").glob("*.yaml"):
        (tmp_path / "policies" / policy.name).write_text(policy.read_text())
    return file


def changes(result: Result) -> int:
    match = re.search(r"topics: (\d+) change\(s\) applied", result.output)
    assert match, result.output
    return int(match.group(1))


def test_apply_twice_changes_nothing_the_second_time(
    stack: StackInfo, admin: AdminClient, tmp_path: Path, unique: Callable[[str], str]
) -> None:
    workflow = unique("it")
    file = topology_file(tmp_path, workflow)
    topology = load_topology(file).topology
    wanted = desired_topics(topology)

    first = apply(stack, file, "--yes")
    assert first.exit_code == 0, first.output
    assert changes(first) == len(wanted)
    cluster = read_cluster(admin, wanted)
    assert sorted(cluster) == sorted(s.name for s in wanted)
    assert {t.partitions for t in cluster.values()} == {6}
    assert cluster[decision_topic(workflow)].config["retention.ms"] == "-1"
    registered = re.search(r"schemas: (\d+) subject\(s\), (\d+) version\(s\) newly registered", first.output)
    assert registered, first.output
    assert int(registered.group(2)) > 0

    second = apply(stack, file, "--yes")
    assert second.exit_code == 0, second.output
    assert changes(second) == 0
    assert f"{len(wanted)} topic(s) already as declared" in second.output
    assert re.search(r", 0 version\(s\) newly registered", second.output), second.output
    assert diff_topics(wanted, read_cluster(admin, wanted)).empty
    with SchemaRegistry(RegistrySettings(url=stack.schema_registry_url)) as registry:
        assert registry.versions(f"{workflow}.TicketTriaged-value") == [1, 2]
        assert registry.versions(f"{workflow}.TicketTriaged.proposed-value") == [1, 2]
        assert registry.versions(f"{workflow}.lifecycle-corps.lifecycle.StepFailed") == [1]


def test_apply_grows_partitions_and_alters_retention_but_refuses_to_shrink(
    stack: StackInfo, admin: AdminClient, tmp_path: Path, unique: Callable[[str], str]
) -> None:
    workflow = unique("it")
    assert (
        apply(stack, topology_file(tmp_path, workflow, partitions=2), "--yes", "--skip-schemas").exit_code
        == 0
    )

    grown = apply(stack, topology_file(tmp_path, workflow, partitions=3, retention="2d"), "--dry-run")
    assert grown.exit_code == 0, grown.output
    assert "add partitions" in grown.output
    assert "alter config" in grown.output
    wanted = desired_topics(
        load_topology(topology_file(tmp_path, workflow, partitions=3, retention="2d")).topology
    )
    assert {t.partitions for t in read_cluster(admin, wanted).values()} == {2}  # dry run changed nothing

    applied = apply(
        stack, topology_file(tmp_path, workflow, partitions=3, retention="2d"), "--yes", "--skip-schemas"
    )
    assert applied.exit_code == 0, applied.output
    cluster = read_cluster(admin, wanted)
    assert {t.partitions for t in cluster.values()} == {3}
    assert cluster[f"{workflow}.ReplySent"].config["retention.ms"] == str(2 * 86_400_000)

    shrink = apply(
        stack, topology_file(tmp_path, workflow, partitions=2, retention="2d"), "--yes", "--skip-schemas"
    )
    assert shrink.exit_code == 1
    assert "refusing to decrease" in shrink.output
    assert {t.partitions for t in read_cluster(admin, wanted).values()} == {3}


def test_apply_without_yes_asks_and_a_no_changes_nothing(
    stack: StackInfo, admin: AdminClient, tmp_path: Path, unique: Callable[[str], str]
) -> None:
    file = topology_file(tmp_path, unique("it"))
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
    }
    result = CliRunner().invoke(cli, ["topology", "apply", str(file)], input="n\n", env=env)
    assert result.exit_code == 1
    assert "apply 15 change(s)?" in result.output
    wanted = desired_topics(load_topology(file).topology)
    assert read_cluster(admin, wanted) == {}

"""`corps policy apply` and the policies-topic reader on the real broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

from corps.cli.main import cli
from corps.dev import StackInfo
from corps.policy import PolicyStore, compile_policy_set, load_policy_files
from corps.policy.store import encode_value
from corps.topology.naming import policy_topic

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "topology" / "policies" / "support.yaml"


def policy_file(tmp_path: Path, name: str, reason: str = "spam") -> Path:
    file = tmp_path / f"{name}-{reason}.yaml"
    file.write_text(
        f"set: {name}\npolicies:\n"
        "  - id: spam\n    version: 1\n    condition: \"'spam' in event.data.tags\"\n"
        f"    deny: {{reason: {reason}}}\n"
    )
    return file


def apply(stack: StackInfo, *args: str) -> Result:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
    }
    return CliRunner().invoke(cli, ["policy", "apply", *args], env=env, catch_exceptions=False)


def test_apply_publishes_numbered_versions_and_the_reader_returns_the_latest(
    stack: StackInfo, kafka_config: dict[str, str], unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("set")
    first = apply(stack, str(policy_file(tmp_path, name, "spam")))
    assert first.exit_code == 0, first.output
    assert f"published {name}@1#" in first.output

    again = apply(stack, str(policy_file(tmp_path, name, "spam")))
    assert again.exit_code == 0, again.output
    assert f"unchanged: {name}@1#" in again.output

    second = apply(stack, str(policy_file(tmp_path, name, "junk")))
    assert f"published {name}@2#" in second.output

    history = PolicyStore(kafka_config).read()
    latest = history.latest(name)
    assert latest is not None
    assert latest.policy_set.number == 2
    assert latest.key == name
    assert latest.policy_set.policies[0].deny is not None
    assert latest.policy_set.policies[0].deny.reason == "junk"
    v1 = history.get(name, 1)
    assert v1 is not None
    assert v1.offset < latest.offset
    assert latest.digest == load_policy_files([policy_file(tmp_path, name, "junk")]).policy_set.digest
    compile_policy_set(latest.policy_set, latest.version)  # what the gate does when it switches


def test_the_topic_is_compacted_with_one_partition(stack: StackInfo, kafka_config: dict[str, str],
                                                   admin: AdminClient, unique: Callable[[str], str],
                                                   tmp_path: Path) -> None:  # fmt: skip
    assert apply(stack, str(policy_file(tmp_path, unique("set")))).exit_code == 0
    topic = admin.list_topics(policy_topic(), timeout=30).topics[policy_topic()]
    assert len(topic.partitions) == 1
    resource = ConfigResource("topic", policy_topic())
    config = admin.describe_configs([resource])[resource].result(timeout=30)
    assert config["cleanup.policy"].value == "compact"


def test_show_lists_sets_and_policies(stack: StackInfo, unique: Callable[[str], str], tmp_path: Path) -> None:
    name = unique("set")
    assert apply(stack, str(policy_file(tmp_path, name))).exit_code == 0
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
    }
    listed = CliRunner().invoke(cli, ["policy", "show"], env=env)
    assert name in listed.output
    shown = CliRunner().invoke(cli, ["policy", "show", name, "--version", "1"], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"{name}@1#" in shown.output
    assert "'spam' in event.data.tags" in shown.output
    missing = CliRunner().invoke(cli, ["policy", "show", name, "--version", "9"], env=env)
    assert missing.exit_code == 1


def test_invalid_cel_publishes_nothing(stack: StackInfo, kafka_config: dict[str, str],
                                       unique: Callable[[str], str], tmp_path: Path) -> None:  # fmt: skip
    name = unique("set")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"set: {name}\npolicies:\n  - {{id: p, version: 1, condition: 'event.x >', allow: {{}}}}\n"
    )
    result = apply(stack, str(bad))
    assert result.exit_code == 1
    assert "invalid CEL at 1:10" in result.output
    assert PolicyStore(kafka_config).read().latest(name) is None


def test_a_foreign_record_on_the_topic_is_reported(
    kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    from confluent_kafka import Producer

    topic = create_topic("policies", partitions=1)
    producer = Producer(kafka_config)
    good = load_policy_files([DEMO]).policy_set.numbered(1)
    producer.produce(topic, key=b"support", value=encode_value(good))
    producer.produce(topic, key=b"support", value=json.dumps({"hello": "world"}).encode())
    producer.flush(30)
    from corps.policy import PolicyStoreError

    with pytest.raises(PolicyStoreError, match=rf"{topic}\[0\]@1: not a policy set"):
        PolicyStore(kafka_config, topic=topic).read()


def test_a_missing_topic_reads_as_empty(kafka_config: dict[str, str], unique: Callable[[str], str]) -> None:
    assert PolicyStore(kafka_config, topic=unique("absent")).read().names() == []


def test_acl_apply_on_a_broker_without_authorizer_says_so(stack: StackInfo) -> None:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
    }
    result = CliRunner().invoke(cli, ["acl", "apply", str(REPO / "topology" / "support.yaml")], env=env)
    assert result.exit_code == 1
    assert "no authorizer (SECURITY_DISABLED)" in result.output

"""`corps publish` and `corps schemas register` against the real broker and registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.integration.events.kafka_helpers import read_topic, topic_is_empty

from corps.cli.main import cli
from corps.dev import StackInfo
from corps.events import EventCodec, SchemaCatalog, SchemaRegistry
from corps.events.demo import TicketOpened
from corps.settings import RegistrySettings

pytestmark = pytest.mark.integration

SCHEMAS = str(Path(__file__).resolve().parents[3] / "schemas")
GOOD = {
    "ticket_id": "T-1",
    "customer": {"customer_id": "c", "name": "Ann", "email": "a@x"},
    "subject": "s",
    "body": "b",
}
DEAD_REGISTRY = "http://127.0.0.1:1/apis/ccompat/v7"
DEAD_KAFKA = "127.0.0.1:1"


def env(stack: StackInfo, *, kafka: str | None = None, registry: str | None = None) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka or stack.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": registry or stack.schema_registry_url,
    }


def publish(stack: StackInfo, topic: str, stdin: str, *args: str, **env_overrides: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["publish", "demo.support.TicketOpened", "-", "--schemas", SCHEMAS, "--topic", topic, *args],
        input=stdin,
        env=env(stack, **env_overrides),
    )


def lines(*objs: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n"


def test_publishes_every_line_with_envelope_and_key(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("pub")
    ce_line = {
        "specversion": "1.0",
        "workflowid": "wf-42",
        "tenant": "globex",
        "data": {**GOOD, "ticket_id": "T-9"},
    }
    result = publish(
        stack, topic, lines(GOOD, {**GOOD, "ticket_id": "T-2"}, ce_line), "--tenant", "acme", "--print-ids"
    )
    assert result.exit_code == 0, result.output
    assert (
        f"demo.support.TicketOpened v1 -> {topic}: published 3, rejected 0, failed 0 of 3 line(s)"
        in result.stdout
    )
    assert result.stdout.count("line ") == 3
    records = read_topic(kafka_config, topic, 3)
    assert len(records) == 3
    with SchemaRegistry(RegistrySettings(url=stack.schema_registry_url)) as registry:
        events = [EventCodec(registry).decode(r, TicketOpened) for r in records]
    by_ticket = {e.payload.ticket_id: e for e in events}
    assert set(by_ticket) == {"T-1", "T-2", "T-9"}
    assert by_ticket["T-9"].envelope.workflow_id == "wf-42"
    assert by_ticket["T-9"].envelope.tenant == "globex"
    assert by_ticket["T-9"].raw.key == b"wf-42"
    assert by_ticket["T-1"].envelope.tenant == "acme"
    assert by_ticket["T-1"].envelope.workflow_id != by_ticket["T-2"].envelope.workflow_id
    assert (
        f"workflow {by_ticket['T-1'].envelope.workflow_id} event {by_ticket['T-1'].envelope.id}"
        in result.stdout
    )


def test_rejected_lines_send_nothing(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("pub-reject")
    result = publish(stack, topic, lines(GOOD, {**GOOD, "ticket_id": 3}, "{oops"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 2: rejected: ticket_id: expected string, got integer 3",
        "line 3: rejected: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
    ]
    assert "1 valid, 2 rejected of 3 line(s); nothing sent because of rejected lines" in result.stdout
    assert topic_is_empty(kafka_config, topic)


def test_skip_invalid_sends_the_valid_lines_and_still_fails(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("pub-skip")
    missing = {k: v for k, v in GOOD.items() if k != "customer"}
    result = publish(stack, topic, lines(GOOD, missing, GOOD), "--skip-invalid")
    assert result.exit_code == 1
    assert "line 2: rejected: customer: missing required field" in result.stderr
    assert "published 2, rejected 1, failed 0 of 3 line(s)" in result.stdout
    assert len(read_topic(kafka_config, topic, 2)) == 2


def test_registry_down(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("pub-noreg")
    result = publish(stack, topic, lines(GOOD), registry=DEAD_REGISTRY)
    assert result.exit_code == 3
    assert f"error: schema registry at {DEAD_REGISTRY} cannot be reached" in result.stderr
    assert result.stderr.rstrip().endswith("; nothing was sent")
    assert topic_is_empty(kafka_config, topic)


def test_broker_down(stack: StackInfo) -> None:
    result = publish(stack, "anything", lines(GOOD), kafka=DEAD_KAFKA)
    assert result.exit_code == 4
    assert result.stderr.startswith(f"error: Kafka at {DEAD_KAFKA} cannot be reached")
    assert result.stderr.rstrip().endswith("; nothing was sent")


def test_missing_topic_is_refused_unless_created(
    stack: StackInfo, kafka_config: dict[str, str], unique: Callable[[str], str]
) -> None:
    topic = unique("pub-new")
    refused = publish(stack, topic, lines(GOOD))
    assert refused.exit_code == 2
    assert f"error: topic {topic} does not exist" in refused.stderr
    created = publish(stack, topic, lines(GOOD), "--create-topic")
    assert created.exit_code == 0, created.output
    assert len(read_topic(kafka_config, topic, 1)) == 1


def test_no_register_requires_a_registered_schema(stack: StackInfo, create_topic: Callable[..., str]) -> None:
    topic = create_topic("pub-noreg-flag")
    result = publish(stack, topic, lines(GOOD), "--no-register")
    assert result.exit_code == 1
    assert f"is not registered in subject {topic}-value" in result.stderr


def test_large_input_is_published_completely(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("pub-large")
    count = 5_000
    result = publish(stack, topic, lines(*({**GOOD, "ticket_id": f"T-{i}"} for i in range(count))))
    assert result.exit_code == 0, result.output
    assert f"published {count}, rejected 0, failed 0 of {count} line(s)" in result.stdout
    assert len(read_topic(kafka_config, topic, count)) == count


def test_schemas_register_is_idempotent(stack: StackInfo, unique: Callable[[str], str]) -> None:
    prefix = unique("reg")
    args = ["schemas", "register", SCHEMAS, "--subject-format", prefix + "-{event_type}-value"]
    catalog = SchemaCatalog.load(Path(SCHEMAS))
    versions = sum(len(catalog[name].versions) for name in catalog)
    assert versions > len(list(catalog))  # some subjects have several versions: order matters
    first = CliRunner().invoke(cli, args, env=env(stack))
    assert first.exit_code == 0, first.output
    assert first.stdout.count("registered") == versions
    assert f"{prefix}-demo.support.TicketTriaged-value" in first.stdout
    again = CliRunner().invoke(cli, args, env=env(stack))
    assert again.exit_code == 0, again.output
    assert "registered" not in again.stdout
    assert again.stdout.count("unchanged") == versions


def test_schemas_register_with_the_registry_down() -> None:
    result = CliRunner().invoke(
        cli,
        ["schemas", "register", SCHEMAS, "--only", "demo.support.ReplySent"],
        env={"SCHEMA_REGISTRY_URL": DEAD_REGISTRY},
    )
    assert result.exit_code == 3
    assert f"schema registry at {DEAD_REGISTRY} cannot be reached" in result.output

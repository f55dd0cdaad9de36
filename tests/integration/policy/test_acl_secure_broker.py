"""Least privilege on a broker with SASL/PLAIN and the StandardAuthorizer: the broker itself refuses.

By default the module starts its own stack in the provisioner's secure mode (``StackConfig(secure=True)``:
a SASL/PLAIN listener next to the plain one, StandardAuthorizer, ``admin`` a super user) and stops it
afterwards. Set ``CORPS_SECURE_KAFKA`` to test an existing secure broker instead::

    CORPS_SECURE_KAFKA='{"bootstrap": "127.0.0.1:29092",
                         "users": {"admin": "...", "triage": "...", "corps-orchestrator": "..."}}'

``admin`` must be a super user; ``triage`` and ``corps-orchestrator`` plain users of the PLAIN JAAS
config. The broker settings it needs are in the docstring of ``corps.policy.acl``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from corps.cli.main import cli
from corps.dev import LocalStack, StackConfig
from corps.dev.config import default_cache_dir

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
_SPEC = os.environ.get("CORPS_SECURE_KAFKA", "")


@dataclass(frozen=True)
class Secure:
    bootstrap: str
    users: dict[str, str]
    workflow: str

    def conf(self, user: str) -> dict[str, str]:
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": user,
            "sasl.password": self.users[user],
        }

    def env(self, user: str) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": self.users[user],
            "SCHEMA_REGISTRY_URL": "http://127.0.0.1:9/unused",  # --skip-schemas: never contacted
        }


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    workflow = f"acl{uuid.uuid4().hex[:10]}"
    local: LocalStack | None = None
    if _SPEC:
        spec = json.loads(_SPEC)
        found = Secure(spec["bootstrap"], spec["users"], workflow)
    else:
        config = StackConfig(
            home=tmp_path_factory.mktemp("secure-stack"),
            cache_dir=default_cache_dir(os.environ),
            kafka_port=None,
            controller_port=None,
            registry_port=None,
            secure_port=None,
            search_path=os.environ.get("PATH"),
            secure=True,
            sasl_users=("triage", "corps-orchestrator"),
        )
        local = LocalStack(config)
        info = local.up()
        assert info.secure_bootstrap_servers is not None
        found = Secure(info.secure_bootstrap_servers, dict(info.sasl_users), workflow)
    try:
        yield _provision(found, tmp_path_factory)
    finally:
        if local is not None:
            local.down(purge=True)


def _provision(found: Secure, tmp_path_factory: pytest.TempPathFactory) -> Secure:
    workflow = found.workflow
    text = (
        (REPO / "topology" / "support.yaml").read_text().replace("  name: support\n", f"  name: {workflow}\n")
    )
    file = tmp_path_factory.mktemp("acl") / f"{workflow}.yaml"
    file.write_text(text)
    (file.parent / "policies").mkdir()  # the topology names its policy file relative to itself
    for policy in (REPO / "topology" / "policies").glob("*.yaml"):
        (file.parent / "policies" / policy.name).write_text(policy.read_text())
    runner = CliRunner()
    env = found.env("admin")
    schemas = str(REPO / "schemas")
    topics = runner.invoke(
        cli, ["topology", "apply", str(file), "--yes", "--skip-schemas", "--schemas", schemas], env=env
    )
    assert topics.exit_code == 0, topics.output
    acls = runner.invoke(cli, ["acl", "apply", str(file)], env=env)
    assert acls.exit_code == 0, acls.output
    again = runner.invoke(cli, ["acl", "apply", str(file)], env=env)
    assert "0 ACL(s) created" in again.output
    return found


def produce(secure: Secure, user: str, topic: str, **extra: str) -> KafkaError | None:
    reports: list[KafkaError | None] = []
    producer = Producer(
        {**secure.conf(user), "enable.idempotence": True, "message.timeout.ms": 10000, **extra}
    )
    producer.produce(topic, b"x", key=b"wf-1", on_delivery=lambda err, _msg: reports.append(err))
    producer.flush(20)
    assert reports, "no delivery report"
    return reports[0]


def consume(secure: Secure, user: str, topic: str, group: str) -> KafkaError | None:
    consumer = Consumer({**secure.conf(user), "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        for _ in range(8):
            message = consumer.poll(1.5)
            error = message.error() if message is not None else None
            if error is not None:
                return error
        return None
    finally:
        consumer.close()


def test_an_agent_cannot_write_an_admitted_topic(secure: Secure) -> None:
    error = produce(secure, "triage", f"{secure.workflow}.TicketTriaged")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_an_agent_writes_its_proposed_output_only(secure: Secure) -> None:
    assert produce(secure, "triage", f"{secure.workflow}.TicketTriaged.proposed") is None
    error = produce(secure, "triage", f"{secure.workflow}.RefundIssued.proposed")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_an_agent_reads_its_input_but_not_another_agents(secure: Secure) -> None:
    assert consume(secure, "triage", f"{secure.workflow}.TicketOpened", "triage") is None
    error = consume(secure, "triage", f"{secure.workflow}.RefundIssued", "triage")
    assert error is not None
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_an_agent_uses_its_own_group_and_transactional_ids_only(secure: Secure) -> None:
    error = consume(secure, "triage", f"{secure.workflow}.TicketOpened", "writer")
    assert error is not None
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
    producer = Producer({**secure.conf("triage"), "transactional.id": "corps-refunds-0"})
    with pytest.raises(KafkaException) as caught:
        producer.init_transactions(20)
    assert caught.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED


def test_the_gate_writes_admitted_topics_and_the_decision_log(secure: Secure) -> None:
    assert produce(secure, "corps-orchestrator", f"{secure.workflow}.TicketTriaged") is None
    assert produce(secure, "corps-orchestrator", f"{secure.workflow}.decisions") is None

"""corps.Client against the real broker and registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.events.kafka_helpers import read_topic
from tests.unit.events.samples import sample_event

from corps import Client
from corps.dev import StackInfo
from corps.events import EventCodec, SchemaCatalog, SchemaRegistry, register_subject
from corps.events.demo import TicketOpened
from corps.events.errors import BrokerUnavailableError, SchemaNotRegisteredError
from corps.settings import CorpsSettings, KafkaSettings, RegistrySettings

pytestmark = pytest.mark.integration

CATALOG = SchemaCatalog.load(Path(__file__).resolve().parents[3] / "schemas")


def client(stack: StackInfo, **options: object) -> Client:
    settings = CorpsSettings(
        kafka=KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
        registry=RegistrySettings(url=stack.schema_registry_url),
    )
    return Client.from_settings(settings, **options)


def test_publish_waits_for_the_broker_and_returns_the_offset(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("client")
    with SchemaRegistry(RegistrySettings(url=stack.schema_registry_url)) as registry:
        register_subject(registry, f"{topic}-value", CATALOG[TicketOpened.event_type])
    payload = sample_event(TicketOpened)
    with client(stack, tenant="acme", topics={TicketOpened.event_type: topic}) as corps_client:
        published = corps_client.publish(payload, workflow_id="wf-7", causation_id="evt-1")
        queued = [corps_client.publish_nowait(sample_event(TicketOpened, seed=i)) for i in range(20)]
        corps_client.flush()
    assert published.topic == topic
    assert published.offset >= 0
    assert published.envelope.workflow_id == "wf-7"
    assert published.envelope.tenant == "acme"
    records = read_topic(kafka_config, topic, 21)
    assert len(records) == 21
    with SchemaRegistry(RegistrySettings(url=stack.schema_registry_url)) as registry:
        codec = EventCodec(registry)
        first = next(codec.decode(r, TicketOpened) for r in records if r.key == b"wf-7")
        assert first.payload == payload
        assert first.envelope == published.envelope
        assert {codec.decode(r, TicketOpened).envelope.id for r in records} == {
            published.envelope.id,
            *(e.id for e in queued),
        }


def test_unregistered_schema_fails_before_sending(stack: StackInfo, unique: Callable[[str], str]) -> None:
    with (
        client(stack) as corps_client,
        pytest.raises(SchemaNotRegisteredError, match="corps schemas register"),
    ):
        corps_client.publish(sample_event(TicketOpened), topic=unique("unregistered"))


def test_auto_register(
    stack: StackInfo, kafka_config: dict[str, str], create_topic: Callable[..., str]
) -> None:
    topic = create_topic("client-auto")
    with client(stack, auto_register=True) as corps_client:
        corps_client.publish(sample_event(TicketOpened), topic=topic)
    assert len(read_topic(kafka_config, topic, 1)) == 1


def test_broker_down_is_reported_before_anything_is_queued(
    stack: StackInfo, create_topic: Callable[..., str]
) -> None:
    topic = create_topic("client-down")
    with SchemaRegistry(RegistrySettings(url=stack.schema_registry_url)) as registry:
        register_subject(registry, f"{topic}-value", CATALOG[TicketOpened.event_type])
    settings = CorpsSettings(
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        registry=RegistrySettings(url=stack.schema_registry_url),
    )
    corps_client = Client.from_settings(settings, topics={TicketOpened.event_type: topic})
    with pytest.raises(BrokerUnavailableError, match=r"Kafka at 127\.0\.0\.1:1 cannot be reached"):
        corps_client.publish(sample_event(TicketOpened))
    corps_client.close(timeout_s=1)

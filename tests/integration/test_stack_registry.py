"""The schema registry is real and Confluent-compatible: compatibility BACKWARD is enforced."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

pytestmark = pytest.mark.integration

_FIELDS_V1 = [{"name": "id", "type": "string"}]
V1 = {"type": "record", "name": "Order", "namespace": "corps.test", "fields": _FIELDS_V1}
# compatible: a new field with a default can read data written with v1
V2 = {**V1, "fields": [*_FIELDS_V1, {"name": "amount", "type": "long", "default": 0}]}
# incompatible: a new field without a default cannot read data written with v2
V3 = {**V1, "fields": [*V2["fields"], {"name": "currency", "type": "string"}]}


def avro(schema: dict[str, object]) -> Schema:
    return Schema(json.dumps(schema), "AVRO")


def test_global_compatibility_is_backward(registry_url: str) -> None:
    with SchemaRegistryClient({"url": registry_url}) as client:
        assert client.get_compatibility() == "BACKWARD"


def test_backward_evolution_is_enforced(registry_url: str, unique: Callable[[str], str]) -> None:
    with SchemaRegistryClient({"url": registry_url}) as client:
        _evolve(client, f"{unique('orders')}-value")


def _evolve(client: SchemaRegistryClient, subject: str) -> None:
    id1 = client.register_schema(subject, avro(V1))
    id2 = client.register_schema(subject, avro(V2))
    assert id1 != id2
    assert client.test_compatibility(subject, avro(V3)) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, avro(V3))
    assert refused.value.http_status_code == 409

    assert client.get_versions(subject) == [1, 2]
    latest = client.get_latest_version(subject)
    assert latest.version == 2
    assert latest.schema_id == id2
    assert json.loads(client.get_schema(id1).schema_str) == V1
